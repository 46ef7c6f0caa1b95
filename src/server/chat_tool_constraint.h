// The token constraint of tool_choice "required" and of a named tool: the
// grammar of chat/tool_grammar.h, which forces the reply into the model's
// own tool-call format so the glm45 parser reads it back as calls.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "chat/tool_grammar.h"
#include "core/token_constraint.h"
#include "server/chat_request.h"
#include "text/tokenizer.h"

namespace glyph::server {

// Builds the grammar's view of the vocabulary, once per server. Special
// tokens (<|user|>, <|endoftext|>, ...) are left out so a call never
// contains them. The tool-call tags are matched by their token ids, and
// eos_token_ids (generation_config.json) end the reply after a complete call.
std::shared_ptr<const chat::ToolGrammarVocabulary> build_tool_grammar_vocabulary(
    const text::Tokenizer& tokenizer, std::vector<int32_t> eos_token_ids);

// Whether the model writes reasoning before the calls: the rendered prompt
// ends with an open <think>, or the request set
// chat_template_kwargs.enable_thinking to true. Otherwise the GLM templates
// leave the choice to the model, and the grammar requires the calls from the
// first token.
// NOTE: while reasoning every token is allowed, eos included, so a reply that
// ends before </think> has no call, and a model that skips thinking and
// writes <tool_call> at once is not held to the grammar.
bool tool_call_reply_starts_with_reasoning(const ChatRequest& request, std::string_view prompt);

// Returns the grammar for a request whose tool_choice is "required" or a
// named tool, and nullptr otherwise. reasoning_end_token is the id of
// </think> when the reply starts with reasoning, else -1. Throws ApiError(400)
// when no offered tool name can be written in the format.
std::shared_ptr<TokenConstraint> make_tool_call_constraint(
    const ChatRequest& request, std::shared_ptr<const chat::ToolGrammarVocabulary> vocabulary,
    int32_t reasoning_end_token);

}  // namespace glyph::server
