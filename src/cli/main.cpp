#include "cli/cli_app.h"

int main(int argc, char** argv) { return glyph::cli::run(argc, argv, glyph::cli::CliHooks{}); }
