// Splits a reply of the glm45 reasoning format into reasoning and content:
// `<think>...</think>` is reasoning, the rest is content.
//
// One state machine serves both the streaming and the non-streaming path, so
// the split of a reply never depends on where its chunk boundaries fall.
// It holds back only text whose class is still open: the start of a reply
// that is whitespace or could still become `<think>`, and, inside reasoning,
// trailing whitespace and text that could still become `</think>`.
//
// The rules (docs/reasoning.md has the user-facing version):
// - Reasoning opens only when `<think>` is the first non-whitespace text of
//   the reply, as GLM models write it. Otherwise the whole reply is content,
//   byte for byte, and the parser never buffers anything again.
// - Whitespace right after `<think>`, right before `</think>` and right after
//   `</think>` is dropped, as the GLM chat template strips it when it renders
//   an earlier turn. Any other whitespace is kept.
// - After `</think>` everything is content, including further tags.
// - With tool_call_ends_reasoning, a `<tool_call>` that comes before
//   `</think>` ends the reasoning: the model started a tool call without
//   closing its thinking. The tag and everything after it are content, for
//   the tool-call parser, and the whitespace before the tag is dropped.
// - A reply that ends while reasoning is still open: see finish().
#pragma once

#include <string>
#include <string_view>

namespace glyph::chat {

// The text one step of the parser releases to each channel.
struct ReasoningDelta {
  std::string reasoning;
  std::string content;

  bool empty() const { return reasoning.empty() && content.empty(); }
};

// The reasoning formats --reasoning-parser accepts. Returns true for a known name.
bool is_known_reasoning_parser(std::string_view name);
// The accepted names, comma-separated, for error messages.
std::string known_reasoning_parsers();

class ReasoningParser {
 public:
  // stream_reasoning false holds all reasoning back until `</think>` or
  // finish() releases it in one piece (SGLang's stream_reasoning=false).
  // tool_call_ends_reasoning is set when the reply's content goes to the
  // tool-call parser (see the rules above).
  explicit ReasoningParser(bool stream_reasoning = true, bool tool_call_ends_reasoning = false);

  // Consumes the next piece of the reply and returns what became final.
  ReasoningDelta push(std::string_view text);

  // Ends the reply and releases what was held back. ended_on_its_own is true
  // when generation stopped by itself (finish_reason "stop": an eos token, a
  // stop token or a stop string). If reasoning is still open then, the model
  // replied without closing `</think>`, so the reasoning text is also
  // returned as content for clients that read only content. When generation
  // was cut off (finish_reason "length" or "abort") the open reasoning stays
  // reasoning only.
  ReasoningDelta finish(bool ended_on_its_own);

  // Splits a whole reply: push(text) and finish(ended_on_its_own) together.
  static ReasoningDelta parse(std::string_view text, bool ended_on_its_own,
                              bool tool_call_ends_reasoning = false);

 private:
  enum class State {
    kStart,      // Only whitespace, or a prefix of `<think>`, so far.
    kReasoning,  // Inside `<think>`, `</think>` not yet seen.
    kContent,    // After `</think>`, or a reply without reasoning.
  };

  void consume_start();
  void consume_reasoning(ReasoningDelta& out);
  void emit_reasoning(std::string_view text, ReasoningDelta& out);
  void emit_content(std::string_view text, ReasoningDelta& out);
  void release_unsent_reasoning(ReasoningDelta& out);
  void end_reasoning(size_t body_end, size_t content_start, ReasoningDelta& out);

  bool stream_reasoning_;
  bool tool_call_ends_reasoning_;
  State state_ = State::kStart;
  std::string held_;              // Text whose class is not decided yet.
  bool reasoning_started_ = false;  // A non-whitespace reasoning character was emitted.
  bool content_started_ = true;   // False right after `</think>`: leading whitespace is dropped.
  std::string reasoning_;         // All reasoning emitted so far, for the unclosed case.
  std::string unsent_reasoning_;  // Reasoning held back when stream_reasoning_ is false.
};

}  // namespace glyph::chat
