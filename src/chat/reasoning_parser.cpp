#include "chat/reasoning_parser.h"

#include <algorithm>

#include "chat/tool_call_parser.h"

namespace glyph::chat {

namespace {

constexpr std::string_view kThinkStart = "<think>";
constexpr std::string_view kThinkEnd = "</think>";

// ASCII whitespace, the set Python's str.strip() removes from GLM output.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

size_t first_non_space(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  return i;
}

// Length of the longest suffix of text that is a proper prefix of tag: the
// part that could still become the tag once more text arrives.
size_t partial_tag_suffix(std::string_view text, std::string_view tag) {
  const size_t longest = std::min(text.size(), tag.size() - 1);
  for (size_t length = longest; length > 0; --length) {
    if (text.substr(text.size() - length) == tag.substr(0, length)) return length;
  }
  return 0;
}

}  // namespace

bool is_known_reasoning_parser(std::string_view name) { return name == "glm45"; }

std::string known_reasoning_parsers() { return "glm45"; }

ReasoningParser::ReasoningParser(bool stream_reasoning, bool tool_call_ends_reasoning)
    : stream_reasoning_(stream_reasoning), tool_call_ends_reasoning_(tool_call_ends_reasoning) {}

ReasoningDelta ReasoningParser::push(std::string_view text) {
  ReasoningDelta out;
  if (state_ == State::kContent) {
    emit_content(text, out);
    return out;
  }
  held_.append(text);
  if (state_ == State::kStart) consume_start();
  if (state_ == State::kReasoning) consume_reasoning(out);
  if (state_ == State::kContent && !held_.empty()) {
    std::string rest = std::move(held_);
    held_.clear();
    emit_content(rest, out);
  }
  return out;
}

// Decides whether the reply opens with `<think>`, once enough text is there.
void ReasoningParser::consume_start() {
  const std::string_view held = held_;
  const size_t start = first_non_space(held);
  const std::string_view rest = held.substr(start);
  if (rest.size() >= kThinkStart.size() && rest.substr(0, kThinkStart.size()) == kThinkStart) {
    held_.erase(0, start + kThinkStart.size());
    state_ = State::kReasoning;
    return;
  }
  if (kThinkStart.substr(0, rest.size()) == rest) return;  // Whitespace, or "<thi" so far.

  // No reasoning: the reply is content exactly as generated. push() emits held_.
  state_ = State::kContent;
  content_started_ = true;
}

// Emits reasoning up to `</think>` (or `<tool_call>`), or up to the text that
// could still be part of either tag.
void ReasoningParser::consume_reasoning(ReasoningDelta& out) {
  const size_t think_end = held_.find(kThinkEnd);
  const size_t tool_call = tool_call_ends_reasoning_ ? find_tool_call_start(held_)
                                                     : std::string::npos;
  if (tool_call < think_end) {
    // The tag itself is content: the tool-call parser reads it.
    end_reasoning(tool_call, tool_call, out);
    content_started_ = true;
    return;
  }
  if (think_end != std::string::npos) {
    end_reasoning(think_end, think_end + kThinkEnd.size(), out);
    content_started_ = false;
    return;
  }

  // Hold back a possible start of a tag and the whitespace before it, which
  // is dropped if the tag follows.
  const std::string_view held = held_;
  size_t keep = partial_tag_suffix(held, kThinkEnd);
  if (tool_call_ends_reasoning_) keep = std::max(keep, partial_tool_call_start_length(held));
  while (keep < held.size() && is_space(held[held.size() - keep - 1])) ++keep;
  emit_reasoning(held.substr(0, held.size() - keep), out);
  held_.erase(0, held.size() - keep);
}

// Emits held_[0, body_end) without trailing whitespace as the last reasoning
// and keeps held_ from content_start on as content.
void ReasoningParser::end_reasoning(size_t body_end, size_t content_start, ReasoningDelta& out) {
  std::string_view body = std::string_view(held_).substr(0, body_end);
  while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
  emit_reasoning(body, out);
  release_unsent_reasoning(out);
  held_.erase(0, content_start);
  state_ = State::kContent;
}

void ReasoningParser::emit_reasoning(std::string_view text, ReasoningDelta& out) {
  if (!reasoning_started_) {
    text.remove_prefix(first_non_space(text));
    if (text.empty()) return;
    reasoning_started_ = true;
  }
  reasoning_.append(text);
  if (stream_reasoning_) {
    out.reasoning.append(text);
  } else {
    unsent_reasoning_.append(text);
  }
}

void ReasoningParser::emit_content(std::string_view text, ReasoningDelta& out) {
  if (!content_started_) {
    text.remove_prefix(first_non_space(text));
    if (text.empty()) return;
    content_started_ = true;
  }
  out.content.append(text);
}

void ReasoningParser::release_unsent_reasoning(ReasoningDelta& out) {
  out.reasoning.append(unsent_reasoning_);
  unsent_reasoning_.clear();
}

ReasoningDelta ReasoningParser::finish(bool ended_on_its_own) {
  ReasoningDelta out;
  switch (state_) {
    case State::kStart:
      // Only whitespace or part of `<think>` arrived: that is the content.
      emit_content(held_, out);
      break;
    case State::kReasoning: {
      // What was held is trailing whitespace (dropped) and maybe a partial
      // `</think>` that never completed (kept as text).
      std::string_view tail = held_;
      while (!tail.empty() && is_space(tail.back())) tail.remove_suffix(1);
      emit_reasoning(tail, out);
      release_unsent_reasoning(out);
      if (ended_on_its_own) emit_content(reasoning_, out);
      break;
    }
    case State::kContent:
      break;
  }
  held_.clear();
  state_ = State::kContent;
  return out;
}

ReasoningDelta ReasoningParser::parse(std::string_view text, bool ended_on_its_own,
                                      bool tool_call_ends_reasoning) {
  ReasoningParser parser(/*stream_reasoning=*/true, tool_call_ends_reasoning);
  ReasoningDelta out = parser.push(text);
  ReasoningDelta tail = parser.finish(ended_on_its_own);
  out.reasoning += tail.reasoning;
  out.content += tail.content;
  return out;
}

}  // namespace glyph::chat
