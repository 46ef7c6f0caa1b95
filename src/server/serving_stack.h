// What `glyph serve` and `glyph generate` load before serving requests:
// the tokenizer, the chat template, the model and the engine around it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/tool_grammar.h"
#include "engine/engine.h"
#include "server/image_inputs.h"
#include "server/media_source.h"
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
  // The vision tower behind its cache, and where image bytes may come from.
  std::unique_ptr<ImageEncoder> image_encoder;
  MediaSourceOptions media_sources;
  // The vocabulary of the tool-call grammar (tool_choice "required" or a
  // named tool), built once at start-up; null without --tool-call-parser.
  std::shared_ptr<const chat::ToolGrammarVocabulary> tool_grammar_vocabulary;
};

// Loads everything options name and logs what was loaded. Throws
// glyph::Error when a file is missing or invalid.
std::unique_ptr<ServingStack> load_serving_stack(const ServeOptions& options);

// Runs SGLang's start-up warm-up request (8 greedy tokens after "The capital
// city of France is") so the first client request does not pay for first-use costs.
void run_warmup(ServingStack& stack);

}  // namespace glyph::server
