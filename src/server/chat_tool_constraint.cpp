#include "server/chat_tool_constraint.h"

#include <optional>
#include <string>
#include <utility>

#include "chat/tool_call_parser.h"
#include "core/error.h"
#include "server/api_error.h"

namespace glyph::server {

namespace {

int32_t token_id_or_none(const text::Tokenizer& tokenizer, std::string_view text) {
  const std::optional<int32_t> id = tokenizer.token_to_id(text);
  return id.value_or(-1);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::shared_ptr<const chat::ToolGrammarVocabulary> build_tool_grammar_vocabulary(
    const text::Tokenizer& tokenizer, std::vector<int32_t> eos_token_ids) {
  const int32_t size = tokenizer.vocab_size();
  std::vector<std::string> token_bytes(static_cast<size_t>(size));
  for (int32_t id = 0; id < size; ++id) {
    if (!tokenizer.is_special(id)) token_bytes[static_cast<size_t>(id)] = tokenizer.token_bytes(id);
  }

  chat::ToolCallMarkupTokens markup;
  markup.tool_call_start = token_id_or_none(tokenizer, chat::kToolCallStartTag);
  markup.tool_call_end = token_id_or_none(tokenizer, chat::kToolCallEndTag);
  markup.arg_key_start = token_id_or_none(tokenizer, chat::kArgKeyStartTag);
  markup.arg_key_end = token_id_or_none(tokenizer, chat::kArgKeyEndTag);
  markup.arg_value_start = token_id_or_none(tokenizer, chat::kArgValueStartTag);
  markup.arg_value_end = token_id_or_none(tokenizer, chat::kArgValueEndTag);
  return std::make_shared<const chat::ToolGrammarVocabulary>(token_bytes, markup,
                                                             std::move(eos_token_ids));
}

bool tool_call_reply_starts_with_reasoning(const ChatRequest& request, std::string_view prompt) {
  const auto enable_thinking = request.chat_template_kwargs.find("enable_thinking");
  if (enable_thinking != request.chat_template_kwargs.end() && *enable_thinking == true) {
    return true;
  }
  while (!prompt.empty() && is_space(prompt.back())) prompt.remove_suffix(1);
  return prompt.ends_with("<think>");
}

std::shared_ptr<TokenConstraint> make_tool_call_constraint(
    const ChatRequest& request, std::shared_ptr<const chat::ToolGrammarVocabulary> vocabulary,
    int32_t reasoning_end_token) {
  const chat::ToolChoiceMode mode = request.tool_choice.mode;
  if (mode != chat::ToolChoiceMode::kRequired && mode != chat::ToolChoiceMode::kNamed) {
    return nullptr;
  }

  chat::ToolGrammarOptions options;
  options.parallel_tool_calls = request.parallel_tool_calls;
  options.reasoning_end_token = reasoning_end_token;
  try {
    return std::make_shared<chat::ToolCallGrammar>(std::move(vocabulary), offered_tools(request),
                                                   options);
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::kInvalidRequest) throw_bad_request(error.what());
    throw;
  }
}

}  // namespace glyph::server
