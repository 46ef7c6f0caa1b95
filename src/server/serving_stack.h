// What `glyph serve` and `glyph generate` load before serving requests:
// the tokenizer, the chat template, the model and the engine around it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "server/model_files.h"
#include "server/serve_options.h"
#include "text/tokenizer.h"

namespace glyph::server {

struct ServingStack {
  ServeOptions options;
  std::shared_ptr<const text::Tokenizer> tokenizer;
  std::unique_ptr<chat::ChatTemplate> chat_template;
  TokenizerSettings tokenizer_settings;
  std::unique_ptr<engine::Engine> engine;
};

// Loads everything options name and logs what was loaded. Throws
// glyph::Error when a file is missing or invalid.
std::unique_ptr<ServingStack> load_serving_stack(const ServeOptions& options);

// Runs SGLang's start-up warm-up request (8 greedy tokens after "The capital
// city of France is") so the first client request does not pay for first-use costs.
void run_warmup(ServingStack& stack);

}  // namespace glyph::server
