// `glyph bench`: SGLang's bench_serving as a glyph subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/bench_options.h"

namespace glyph::cli {

// Adds bench_serving's flags, with its names and defaults, to `command`.
void add_bench_flags(CLI::App& command, BenchOptions& options);

// Adds the "bench" subcommand. It runs from its CLI11 callback, during
// app.parse(). Invalid flag values raise CLI::ValidationError, which App::exit
// reports like any parse error. A run that fails raises CLI::RuntimeError
// with exit code 1, which App::exit turns into that code without printing,
// because the run has already printed what went wrong.
void add_bench_command(CLI::App& app);

}  // namespace glyph::cli
