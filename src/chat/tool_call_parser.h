// Parser for the tool calls of --tool-call-parser glm45 (GLM-4.5 family):
//
//   <tool_call>NAME
//   <arg_key>KEY</arg_key>
//   <arg_value>VALUE</arg_value>
//   ...
//   </tool_call>
//
// One byte-level state machine serves both the streaming and the
// non-streaming API: parse_tool_calls() feeds the whole text to a
// ToolCallParser and joins its events. What the parser emits after a byte
// depends only on the bytes so far, so for any split of the text into pieces
// the joined content and the joined argument fragments are byte-identical to
// the non-streaming result.
//
// Rules (where they differ from SGLang 0.5.6, the difference is noted):
//   - Text outside calls is content, kept verbatim: before the first call,
//     between calls and after the last one (SGLang strips the text before the
//     first call and drops the rest). The exception is whitespace touching a
//     returned call: whitespace directly before its <tool_call> and directly
//     after its </tool_call> is dropped, so "Sure.\n<tool_call>...</tool_call>\n"
//     gives the content "Sure.".
//   - A call is returned when NAME (stripped) is one of the tools. NAME ends at
//     the first newline (or the two characters backslash-n, as SGLang accepts),
//     at <arg_key>, or at </tool_call>.
//   - A call to a tool that is not offered is not returned; its raw text, from
//     the whitespace before <tool_call> to </tool_call>, is content (SGLang
//     drops it). The parser decides this as soon as NAME can no longer become a
//     tool's name, so such text streams without waiting for the newline, and
//     reads the rest of that call as plain text: a <tool_call> inside it starts
//     a new call.
//   - Arguments form a JSON object in json.dumps style ({"city": "Paris",
//     "days": 3}), keys stripped, in the order they appear. A value keeps its
//     exact text (SGLang strips it) and is typed by format_argument_value()
//     in tool_schema.h. A key without <arg_value>, and a repeated key (the
//     first one wins), are skipped, as is any text between the tags.
//   - A value ends only at </arg_value>, so it may contain any other markup.
//   - A call with no arguments has the arguments "{}".
//   - When generation ends inside a call (max_tokens, or eos), a call whose
//     NAME line is complete is still returned, with its arguments closed as if
//     </arg_value> and </tool_call> had followed; a partial key is skipped.
//     A call whose NAME line is not complete is content, raw.
//
// Streaming: content and argument fragments are sent as soon as they are
// certain. The parser holds back only text whose meaning is still open.
// That is a run of whitespace with a partial "<tool_call>" after it, a NAME
// line or key in progress, and the end of a string value that could start
// "</arg_value>". A value whose type is not string alone is sent once
// complete, because it is parsed as JSON. A string value streams escaped as
// it arrives. Pieces are cut only where the input was cut or before an ASCII
// byte, so whole-character input gives whole-character output.
//
// Use in an OpenAI chat response: a kCallStarted event becomes a tool_calls
// delta {"index": i, "id": "call_...", "type": "function", "function":
// {"name": NAME, "arguments": ""}}, each kArguments event a delta {"index": i,
// "function": {"arguments": TEXT}}, and kContent a content delta. The
// non-streaming message takes ToolCallParseResult as is. finish_reason is
// "tool_calls" when call_count() > 0 and generation stopped by itself.
// With tool_choice "none" the parser is not used and the text is all content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tool_schema.h"

namespace glyph::chat {

inline constexpr std::string_view kToolCallStartTag = "<tool_call>";
inline constexpr std::string_view kToolCallEndTag = "</tool_call>";
inline constexpr std::string_view kArgKeyStartTag = "<arg_key>";
inline constexpr std::string_view kArgKeyEndTag = "</arg_key>";
inline constexpr std::string_view kArgValueStartTag = "<arg_value>";
inline constexpr std::string_view kArgValueEndTag = "</arg_value>";

// Returns the offset of the first "<tool_call>" in text, or std::string_view::npos.
// For the reasoning parser: a tool call that starts inside unfinished reasoning
// ends the reasoning there.
size_t find_tool_call_start(std::string_view text);

// Returns the length of the longest suffix of text that is a proper prefix of
// "<tool_call>" (0 to 10): the bytes a streaming caller must hold back.
size_t partial_tool_call_start_length(std::string_view text);

struct ToolCall {
  std::string name;
  std::string arguments;  // A JSON object, json.dumps style.
};

struct ToolCallParseResult {
  std::string content;
  std::vector<ToolCall> calls;
};

enum class ToolCallEventKind {
  kContent,      // text: content.
  kCallStarted,  // index, text: the tool's name. Arguments follow as kArguments.
  kArguments,    // index, text: the next piece of the call's arguments JSON.
};

struct ToolCallEvent {
  ToolCallEventKind kind = ToolCallEventKind::kContent;
  int32_t index = -1;  // The call's position, 0, 1, ... in call order; -1 for content.
  std::string text;
};

// Streaming parser for one choice of one request.
class ToolCallParser {
 public:
  // `tools` are the request's tools and must outlive the parser.
  explicit ToolCallParser(const std::vector<ToolSpec>& tools);

  // Consumes the next piece of generated text; returns the events it
  // completes, in order, with neighbouring events of one kind and call merged.
  std::vector<ToolCallEvent> feed(std::string_view text);

  // Ends the text: releases held-back content and closes an unfinished call.
  // Call it once, after the last feed().
  std::vector<ToolCallEvent> finish();

  // Calls started so far (their kCallStarted events were returned).
  int32_t call_count() const { return call_count_; }

 private:
  enum class State {
    kText,        // Outside calls.
    kName,        // After <tool_call>, reading NAME.
    kBetween,     // In a call, waiting for <arg_key> or </tool_call>.
    kKey,         // Inside <arg_key>.
    kAwaitValue,  // After </arg_key>, waiting for <arg_value>.
    kValue,       // Inside <arg_value>.
  };

  void consume(char byte);
  void consume_text(char byte);
  void consume_name(char byte);
  void consume_in_call(char byte);
  void consume_value(char byte);

  void start_call(const ToolSpec& tool);
  void start_unknown_call();
  void start_value();
  void finish_value();
  void close_call();
  bool name_can_still_match() const;

  void emit_content(std::string_view text);
  void emit_arguments(std::string_view text);

  const std::vector<ToolSpec>& tools_;
  std::vector<ToolCallEvent> events_;
  State state_ = State::kText;
  int32_t call_count_ = 0;

  // kText: held-back whitespace followed by a partial "<tool_call>".
  std::string held_;
  size_t start_tag_matched_ = 0;
  bool after_call_ = false;  // Whitespace here directly follows a returned call.

  // kName: everything from the whitespace before <tool_call>, and NAME so far.
  std::string raw_call_;
  std::string name_;

  // The call in progress.
  const ToolSpec* tool_ = nullptr;
  bool arguments_opened_ = false;  // "{" was sent.
  std::vector<std::string> keys_;  // Keys sent so far.
  std::string tail_;               // Last bytes seen, to find tags between elements.
  std::string key_;
  const ToolParameter* parameter_ = nullptr;
  bool skip_value_ = false;     // A repeated key: its value is read and dropped.
  bool stream_string_ = false;  // The value streams as a JSON string.
  std::string value_;           // Value bytes not yet sent.
};

// Parses a complete text; identical to feeding it to a ToolCallParser and
// calling finish().
ToolCallParseResult parse_tool_calls(std::string_view text, const std::vector<ToolSpec>& tools);

}  // namespace glyph::chat
