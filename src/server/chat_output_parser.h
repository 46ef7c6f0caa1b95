// Splits a chat reply's generated text into reasoning, content and tool
// calls, piece by piece. The streaming and the non-streaming reply both run
// it over the same text, so they agree for any split of the text into pieces.
//
// The reasoning parser runs first; the tool-call parser reads only what it
// passes on as content. When tool calls are parsed, a <tool_call> inside
// unfinished reasoning ends the reasoning (the model started a call without
// closing </think>), so the call is still parsed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/reasoning_parser.h"
#include "chat/tool_call_parser.h"
#include "engine/engine.h"

namespace glyph::server {

struct ChatOutputOptions {
  bool separate_reasoning = false;  // --reasoning-parser is set and the request wants it split.
  bool stream_reasoning = true;
  // The tools the reply may call; null when tool calls are not parsed
  // (no --tool-call-parser, no tools, or tool_choice "none").
  std::shared_ptr<const std::vector<chat::ToolSpec>> tools;
};

// The output one step of the parser releases. Reasoning precedes the events
// in the reply's text, so a stream sends it first.
struct ChatOutputDelta {
  std::string reasoning;
  // Content and tool-call events in text order. Without tool-call parsing
  // all content comes as one kContent event.
  std::vector<chat::ToolCallEvent> events;

  bool empty() const { return reasoning.empty() && events.empty(); }
};

class ChatOutputParser {
 public:
  explicit ChatOutputParser(const ChatOutputOptions& options);

  // Consumes the next piece of generated text.
  ChatOutputDelta push(std::string_view text);

  // Ends the reply and releases what was held back; call once, after the last push().
  ChatOutputDelta finish(engine::FinishReason reason);

  // Tool calls started so far.
  int32_t call_count() const { return tool_parser_ ? tool_parser_->call_count() : 0; }

 private:
  void pass_content(const std::string& content, ChatOutputDelta& out);

  std::shared_ptr<const std::vector<chat::ToolSpec>> tools_;  // Keeps tool_parser_'s tools alive.
  std::optional<chat::ReasoningParser> reasoning_parser_;
  std::optional<chat::ToolCallParser> tool_parser_;
};

// finish_reason of a reply: SGLang's name for the engine's reason, except
// that a reply that called tools and stopped by itself gives "tool_calls".
// A reply cut off by max_tokens stays "length".
const char* reply_finish_reason(engine::FinishReason reason, int32_t call_count);

}  // namespace glyph::server
