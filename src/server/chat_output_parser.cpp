#include "server/chat_output_parser.h"

#include <utility>

namespace glyph::server {

ChatOutputParser::ChatOutputParser(const ChatOutputOptions& options) : tools_(options.tools) {
  if (options.separate_reasoning) {
    reasoning_parser_.emplace(options.stream_reasoning,
                              /*tool_call_ends_reasoning=*/tools_ != nullptr);
  }
  if (tools_) tool_parser_.emplace(*tools_);
}

ChatOutputDelta ChatOutputParser::push(std::string_view text) {
  ChatOutputDelta out;
  if (!reasoning_parser_) {
    pass_content(std::string(text), out);
    return out;
  }
  chat::ReasoningDelta split = reasoning_parser_->push(text);
  out.reasoning = std::move(split.reasoning);
  pass_content(split.content, out);
  return out;
}

ChatOutputDelta ChatOutputParser::finish(engine::FinishReason reason) {
  ChatOutputDelta out;
  if (reasoning_parser_) {
    chat::ReasoningDelta split = reasoning_parser_->finish(reason == engine::FinishReason::kStop);
    out.reasoning = std::move(split.reasoning);
    pass_content(split.content, out);
  }
  if (tool_parser_) {
    for (chat::ToolCallEvent& event : tool_parser_->finish()) out.events.push_back(std::move(event));
  }
  return out;
}

void ChatOutputParser::pass_content(const std::string& content, ChatOutputDelta& out) {
  if (tool_parser_) {
    for (chat::ToolCallEvent& event : tool_parser_->feed(content)) {
      out.events.push_back(std::move(event));
    }
    return;
  }
  if (content.empty()) return;
  chat::ToolCallEvent event;
  event.kind = chat::ToolCallEventKind::kContent;
  event.text = content;
  out.events.push_back(std::move(event));
}

const char* reply_finish_reason(engine::FinishReason reason, int32_t call_count) {
  if (call_count > 0 && reason == engine::FinishReason::kStop) return "tool_calls";
  return engine::to_string(reason);
}

}  // namespace glyph::server
