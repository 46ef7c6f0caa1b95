// `glyph serve`: SGLang's launch_server flags, loading, and the HTTP server.
#pragma once

#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "server/serve_options.h"

namespace glyph::cli {

// An invalid flag combination that CLI11's checks cannot see; exits with 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Flags serve and generate share: the model, tokenizer, template, precision,
// seed and log level.
void add_model_flags(CLI::App& command, server::ServeOptions& options);

// Adds every serve flag, with SGLang's names and defaults.
void add_serve_flags(CLI::App& command, server::ServeOptions& options);

// Checks what CLI11 cannot; throws UsageError.
void check_serve_options(const server::ServeOptions& options);

// Loads the model and serves until SIGINT or SIGTERM; returns the exit code.
int run_serve(const server::ServeOptions& options);

}  // namespace glyph::cli
