// `glyph eval gsm8k`: SGLang's test.few_shot_gsm8k as a glyph subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/eval_gsm8k.h"

namespace glyph::cli {

// Adds few_shot_gsm8k's flags, with its names and defaults, to `command`.
void add_gsm8k_flags(CLI::App& command, Gsm8kOptions& options);

// Adds "eval" with its "gsm8k" subcommand. gsm8k runs from its CLI11
// callback during app.parse(). A failed run prints what went wrong and then
// raises CLI::RuntimeError with exit code 1, which App::exit turns into that
// exit code without printing more.
void add_eval_command(CLI::App& app);

}  // namespace glyph::cli
