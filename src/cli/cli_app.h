// The `glyph` command line: subcommands, flag parsing and exit codes.
#pragma once

namespace glyph::cli {

// Settings the test server binary changes; the `glyph` binary uses the defaults.
struct CliHooks {
  // Lets chat requests carry "_scripted_output" (see ServeOptions).
  bool allow_scripted_output = false;
};

// Exit codes: 0 on success, 1 when a command fails at run time (a missing
// model file, a port in use), 2 for unknown flags and invalid values.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Parses argv and runs the chosen subcommand; returns the process exit code.
int run(int argc, char** argv, const CliHooks& hooks);

}  // namespace glyph::cli
