// `glyph generate`: one request through the engine, no server; prints the text.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "server/serve_options.h"

namespace glyph::cli {

struct GenerateOptions {
  server::ServeOptions model;  // Only the model flags are used.
  std::string prompt;
  bool chat = false;            // Render the prompt as one user message through the chat template.
  bool disable_thinking = false;  // With chat: enable_thinking=false in the template.
  int32_t max_new_tokens = 128;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<uint64_t> seed;
  bool ignore_eos = false;
};

void add_generate_flags(CLI::App& command, GenerateOptions& options);

// Loads the model, runs the request and streams its text to stdout.
int run_generate(const GenerateOptions& options);

}  // namespace glyph::cli
