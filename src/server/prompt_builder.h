// Turns a chat request into the prompt text through the model's chat template.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "server/chat_request.h"

namespace glyph::server {

// The template context, as transformers' apply_chat_template builds it:
// messages, tools (when any), add_generation_prompt true, the tokenizer's
// special tokens (bos_token, eos_token, ...) from special_tokens, and every
// chat_template_kwargs entry on top (so enable_thinking reaches the template).
nlohmann::ordered_json build_template_context(const ChatRequest& request,
                                              const nlohmann::ordered_json& special_tokens);

// Renders the prompt. A template that raises, or fails on this input, is a
// 400 with the template's message.
std::string render_prompt(const chat::ChatTemplate& chat_template,
                          const nlohmann::ordered_json& context);

}  // namespace glyph::server
