// glyph_test_server: the `glyph` command line with the scripted-output test
// seam on, so integration tests can choose a reply's exact tokens with
// "_scripted_output" in a chat request. Built only with the tests.
#include "cli/cli_app.h"

int main(int argc, char** argv) {
  glyph::cli::CliHooks hooks;
  hooks.allow_scripted_output = true;
  return glyph::cli::run(argc, argv, hooks);
}
