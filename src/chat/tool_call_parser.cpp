#include "chat/tool_call_parser.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "chat/tool_call_json.h"

namespace glyph::chat {
namespace {

// Maximum tag length, so a tail of this many bytes can contain any tag.
constexpr size_t kMaxTagLength = 12;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view strip(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// Returns the length of the longest suffix of text that is a proper prefix of tag.
size_t partial_suffix_length(std::string_view text, std::string_view tag) {
  const size_t longest = std::min(text.size(), tag.size() - 1);
  for (size_t length = longest; length > 0; --length) {
    if (text.ends_with(tag.substr(0, length))) return length;
  }
  return 0;
}

// Appends a byte to a tail buffer that keeps only the last kMaxTagLength bytes.
void push_tail(std::string& tail, char byte) {
  tail += byte;
  if (tail.size() > kMaxTagLength) tail.erase(0, tail.size() - kMaxTagLength);
}

// Terminators of NAME besides a real newline.
constexpr std::array<std::string_view, 3> kNameTerminators = {"\\n", kToolCallEndTag,
                                                              kArgKeyStartTag};

}  // namespace

size_t find_tool_call_start(std::string_view text) { return text.find(kToolCallStartTag); }

size_t partial_tool_call_start_length(std::string_view text) {
  return partial_suffix_length(text, kToolCallStartTag);
}

ToolCallParser::ToolCallParser(const std::vector<ToolSpec>& tools) : tools_(tools) {}

std::vector<ToolCallEvent> ToolCallParser::feed(std::string_view text) {
  for (char byte : text) consume(byte);
  return std::exchange(events_, {});
}

std::vector<ToolCallEvent> ToolCallParser::finish() {
  switch (state_) {
    case State::kText:
      emit_content(held_);
      break;
    case State::kName:
      emit_content(raw_call_ + name_);
      break;
    case State::kBetween:
    case State::kKey:
    case State::kAwaitValue:
      close_call();
      break;
    case State::kValue:
      // The value ends here, held-back bytes of a partial "</arg_value>" included.
      finish_value();
      close_call();
      break;
  }

  state_ = State::kText;
  held_.clear();
  start_tag_matched_ = 0;
  after_call_ = false;
  return std::exchange(events_, {});
}

void ToolCallParser::consume(char byte) {
  switch (state_) {
    case State::kText:
      consume_text(byte);
      return;
    case State::kName:
      consume_name(byte);
      return;
    case State::kValue:
      consume_value(byte);
      return;
    case State::kBetween:
    case State::kKey:
    case State::kAwaitValue:
      consume_in_call(byte);
      return;
  }
}

// Outside calls: content, except whitespace and a partial "<tool_call>",
// which wait to see whether a call follows.
void ToolCallParser::consume_text(char byte) {
  if (start_tag_matched_ > 0) {
    if (byte == kToolCallStartTag[start_tag_matched_]) {
      held_ += byte;
      ++start_tag_matched_;
      if (start_tag_matched_ == kToolCallStartTag.size()) {
        raw_call_ = std::move(held_);
        held_.clear();
        name_.clear();
        start_tag_matched_ = 0;
        after_call_ = false;
        state_ = State::kName;
      }
      return;
    }
    // Not a tag after all: what was held is content, and this byte starts afresh.
    emit_content(held_);
    held_.clear();
    start_tag_matched_ = 0;
    after_call_ = false;
  }

  if (byte == kToolCallStartTag[0]) {
    held_ += byte;
    start_tag_matched_ = 1;
    return;
  }
  if (is_space(byte)) {
    if (!after_call_) held_ += byte;
    return;
  }
  held_ += byte;
  emit_content(held_);
  held_.clear();
  after_call_ = false;
}

// NAME ends at a newline, a literal backslash-n, <arg_key> or </tool_call>.
void ToolCallParser::consume_name(char byte) {
  name_ += byte;

  std::string_view name = name_;
  std::string_view terminator;
  if (name.ends_with('\n')) {
    terminator = "\n";
  } else {
    for (std::string_view candidate : kNameTerminators) {
      if (name.ends_with(candidate)) terminator = candidate;
    }
  }

  if (terminator.empty()) {
    if (!name_can_still_match()) start_unknown_call();
    return;
  }

  name.remove_suffix(terminator.size());
  name = strip(name);
  auto tool = std::find_if(tools_.begin(), tools_.end(),
                           [&](const ToolSpec& spec) { return spec.name == name; });
  if (tool == tools_.end()) {
    start_unknown_call();
    return;
  }

  start_call(*tool);
  if (terminator == kToolCallEndTag) {
    close_call();
  } else if (terminator == kArgKeyStartTag) {
    key_.clear();
    state_ = State::kKey;
  }
}

// True while some continuation of NAME could still name one of the tools:
// NAME so far is leading whitespace and a prefix of a tool's name, or a full
// name followed by whitespace and the start of a terminator.
bool ToolCallParser::name_can_still_match() const {
  const std::string_view name = name_;
  auto is_tool = [&](std::string_view candidate) {
    return std::any_of(tools_.begin(), tools_.end(),
                       [&](const ToolSpec& spec) { return spec.name == candidate; });
  };

  std::string_view core = name;
  while (!core.empty() && is_space(core.front())) core.remove_prefix(1);
  if (core.empty()) return true;
  if (!is_space(core.back())) {
    const bool is_prefix = std::any_of(tools_.begin(), tools_.end(), [&](const ToolSpec& spec) {
      return std::string_view(spec.name).starts_with(core);
    });
    if (is_prefix) return true;
  } else if (is_tool(strip(core))) {
    return true;
  }

  for (std::string_view terminator : kNameTerminators) {
    const size_t partial = partial_suffix_length(name, terminator);
    if (partial > 0 && is_tool(strip(name.substr(0, name.size() - partial)))) return true;
  }
  return false;
}

void ToolCallParser::start_call(const ToolSpec& tool) {
  tool_ = &tool;
  arguments_opened_ = false;
  keys_.clear();
  tail_.clear();
  state_ = State::kBetween;

  ToolCallEvent event;
  event.kind = ToolCallEventKind::kCallStarted;
  event.index = call_count_;
  event.text = tool.name;
  events_.push_back(std::move(event));
  ++call_count_;
}

// Sends the raw text so far of a call to a tool that is not offered as
// content. NAME so far and the rest of the call, up to and with its
// </tool_call>, are read again as plain text, so a <tool_call> in them still
// starts a call.
void ToolCallParser::start_unknown_call() {
  emit_content(raw_call_);
  state_ = State::kText;
  const std::string name = std::move(name_);
  name_.clear();
  for (char byte : name) consume_text(byte);
}

// Between the elements of a call, only tags matter; other text is skipped.
void ToolCallParser::consume_in_call(char byte) {
  if (state_ == State::kKey) {
    key_ += byte;
    const std::string_view key = key_;
    if (key.ends_with(kArgKeyEndTag)) {
      key_ = strip(key.substr(0, key.size() - kArgKeyEndTag.size()));
      tail_.clear();
      state_ = State::kAwaitValue;
    } else if (key.ends_with(kToolCallEndTag)) {
      close_call();
    }
    return;
  }

  push_tail(tail_, byte);
  const std::string_view tail = tail_;
  if (tail.ends_with(kToolCallEndTag)) {
    close_call();
  } else if (tail.ends_with(kArgKeyStartTag)) {
    key_.clear();
    state_ = State::kKey;
  } else if (state_ == State::kAwaitValue && tail.ends_with(kArgValueStartTag)) {
    start_value();
  }
}

void ToolCallParser::start_value() {
  value_.clear();
  state_ = State::kValue;
  skip_value_ = std::find(keys_.begin(), keys_.end(), key_) != keys_.end();
  if (skip_value_) return;

  keys_.push_back(key_);
  parameter_ = tool_->find_property(key_);
  stream_string_ = parameter_ != nullptr && parameter_->is_string_only();

  std::string text = arguments_opened_ ? ", " : "{";
  arguments_opened_ = true;
  text += quote_json_string(key_);
  text += ": ";
  if (stream_string_) text += '"';
  emit_arguments(text);
}

void ToolCallParser::consume_value(char byte) {
  value_ += byte;
  const std::string_view value = value_;
  if (value.ends_with(kArgValueEndTag)) {
    value_.resize(value_.size() - kArgValueEndTag.size());
    finish_value();
    tail_.clear();
    state_ = State::kBetween;
    return;
  }

  if (skip_value_) {
    if (value_.size() > kMaxTagLength) value_.erase(0, value_.size() - kMaxTagLength);
    return;
  }
  if (!stream_string_) return;

  // Send all but the bytes that could start "</arg_value>".
  const size_t held_back = partial_suffix_length(value, kArgValueEndTag);
  if (held_back == value_.size()) return;
  std::string text;
  append_json_string_body(text, value.substr(0, value.size() - held_back));
  emit_arguments(text);
  value_.erase(0, value_.size() - held_back);
}

void ToolCallParser::finish_value() {
  if (skip_value_) return;
  std::string text;
  if (stream_string_) {
    append_json_string_body(text, value_);
    text += '"';
  } else {
    text = format_argument_value(value_, parameter_);
  }
  emit_arguments(text);
  value_.clear();
}

void ToolCallParser::close_call() {
  emit_arguments(arguments_opened_ ? "}" : "{}");
  tool_ = nullptr;
  state_ = State::kText;
  after_call_ = true;
}

void ToolCallParser::emit_content(std::string_view text) {
  if (text.empty()) return;
  if (!events_.empty() && events_.back().kind == ToolCallEventKind::kContent) {
    events_.back().text += text;
    return;
  }
  ToolCallEvent event;
  event.kind = ToolCallEventKind::kContent;
  event.text = text;
  events_.push_back(std::move(event));
}

void ToolCallParser::emit_arguments(std::string_view text) {
  if (text.empty()) return;
  const int32_t index = call_count_ - 1;
  if (!events_.empty() && events_.back().kind == ToolCallEventKind::kArguments &&
      events_.back().index == index) {
    events_.back().text += text;
    return;
  }
  ToolCallEvent event;
  event.kind = ToolCallEventKind::kArguments;
  event.index = index;
  event.text = text;
  events_.push_back(std::move(event));
}

ToolCallParseResult parse_tool_calls(std::string_view text, const std::vector<ToolSpec>& tools) {
  ToolCallParser parser(tools);
  std::vector<ToolCallEvent> events = parser.feed(text);
  std::vector<ToolCallEvent> last = parser.finish();
  events.insert(events.end(), std::make_move_iterator(last.begin()),
                std::make_move_iterator(last.end()));

  ToolCallParseResult result;
  for (ToolCallEvent& event : events) {
    switch (event.kind) {
      case ToolCallEventKind::kContent:
        result.content += event.text;
        break;
      case ToolCallEventKind::kCallStarted:
        result.calls.push_back(ToolCall{std::move(event.text), ""});
        break;
      case ToolCallEventKind::kArguments:
        result.calls[static_cast<size_t>(event.index)].arguments += event.text;
        break;
    }
  }
  return result;
}

}  // namespace glyph::chat
