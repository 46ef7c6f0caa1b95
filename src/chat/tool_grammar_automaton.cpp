#include "chat/tool_grammar_automaton.h"

#include <algorithm>
#include <numeric>

#include "chat/tool_call_json.h"
#include "chat/tool_call_parser.h"
#include "chat/tool_grammar_json.h"
#include "core/error.h"

namespace glyph::chat::grammar {
namespace {

// Properties a call can track in State::used.
constexpr size_t kMaxProperties = 64;
void sort_literals(LiteralSet& set) {
  std::vector<size_t> order(set.texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return set.texts[a] < set.texts[b]; });
  LiteralSet sorted;
  sorted.end_token = set.end_token;
  for (size_t index : order) {
    sorted.texts.push_back(std::move(set.texts[index]));
    sorted.payload.push_back(set.payload[index]);
  }
  set = std::move(sorted);
}

// Text the parser would read back unchanged: no surrounding whitespace
// (the parser strips names and keys) and no "</...>" tag that ends early.
bool is_exact_markup_text(const std::string& text, std::string_view end_tag) {
  if (text.find(end_tag) != std::string::npos) return false;
  if (text.empty()) return true;
  const auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  return !is_space(text.front()) && !is_space(text.back());
}

// True when the parser reads `name` back from "<tool_call>NAME\n": nothing in
// it ends NAME early and it has no surrounding whitespace to be stripped.
bool is_writable_name(const std::string& name) {
  for (std::string_view terminator :
       {std::string_view("\n"), std::string_view("\\n"), kArgKeyStartTag, kToolCallEndTag}) {
    if (name.find(terminator) != std::string::npos) return false;
  }
  return !name.empty() && is_exact_markup_text(name, kToolCallEndTag);
}

PropertyGrammar compile_property(const ToolParameter& parameter, const Tag& value_end) {
  PropertyGrammar grammar;

  if (!parameter.allowed_values.empty()) {
    // The parser keeps string values verbatim and parses the rest as JSON,
    // so each enum value is written as the text that reads back as it.
    // NOTE: a string value that looks like another listed type (enum ["1", 2])
    // reads back as that type.
    grammar.kind = ValueKind::kLiteral;
    grammar.values.end_token = value_end.token;
    for (const auto& value : parameter.allowed_values) {
      std::string text = value.is_string() ? value.get<std::string>() : dump_argument_json(value);
      if (text.find(kArgValueEndTag) != std::string::npos) continue;
      if (value_end.token < 0) text += value_end.text;
      if (std::find(grammar.values.texts.begin(), grammar.values.texts.end(), text) !=
          grammar.values.texts.end()) {
        continue;
      }
      grammar.values.texts.push_back(std::move(text));
      grammar.values.payload.push_back(0);
    }
    sort_literals(grammar.values);
    return grammar;
  }

  const auto& types = parameter.types;
  const bool any_text = types.empty() || types.back() == JsonType::kString;
  if (any_text) return grammar;  // kFreeString: every text is a valid value.

  grammar.kind = ValueKind::kJson;
  bool number = false, integer = false;
  for (JsonType type : types) {
    switch (type) {
      case JsonType::kObject:
        grammar.json_kinds |= kJsonObjectBit;
        break;
      case JsonType::kArray:
        grammar.json_kinds |= kJsonArrayBit;
        break;
      case JsonType::kNumber:
        number = true;
        break;
      case JsonType::kInteger:
        integer = true;
        break;
      case JsonType::kBoolean:
        grammar.json_kinds |= kJsonBooleanBit;
        break;
      case JsonType::kNull:
        grammar.json_kinds |= kJsonNullBit;
        break;
      case JsonType::kString:
        break;
    }
  }
  if (number || integer) grammar.json_kinds |= kJsonNumberBit;
  if (integer && !number) grammar.json_kinds |= kJsonIntegerOnly;
  return grammar;
}

}  // namespace

Automaton::Automaton(const std::vector<ToolSpec>& tools, const MarkupTags& tags,
                     bool parallel_calls)
    : tags_(tags), parallel_calls_(parallel_calls) {
  for (size_t index = 0; index < tools.size(); ++index) {
    const ToolSpec& tool = tools[index];
    if (tool.properties.size() > kMaxProperties) {
      throw_error(ErrorKind::kInvalidRequest,
                  "Tool '{}' has {} parameters; tool_choice \"required\" or a named tool "
                  "supports at most {} parameters per tool",
                  tool.name, tool.properties.size(), kMaxProperties);
    }

    ToolGrammarSpec spec;
    spec.keys.end_token = tags_.arg_key_end.token;
    for (size_t i = 0; i < tool.properties.size(); ++i) {
      const ToolParameter& parameter = tool.properties[i];
      spec.properties.push_back(compile_property(parameter, tags_.arg_value_end));

      const bool has_values = spec.properties.back().kind != ValueKind::kLiteral ||
                              !spec.properties.back().values.texts.empty();
      const bool writable = is_exact_markup_text(parameter.name, kArgKeyEndTag) &&
                            parameter.name.find(kToolCallEndTag) == std::string::npos;
      if (!has_values || !writable) continue;
      std::string text = parameter.name;
      if (tags_.arg_key_end.token < 0) text += tags_.arg_key_end.text;
      spec.keys.texts.push_back(std::move(text));
      spec.keys.payload.push_back(static_cast<uint16_t>(i));
      spec.all_mask |= uint64_t{1} << i;
      if (parameter.required) spec.required_mask |= uint64_t{1} << i;
    }
    sort_literals(spec.keys);
    tools_.push_back(std::move(spec));

    if (is_writable_name(tool.name)) {
      names_.texts.push_back(tool.name + "\n");
      names_.payload.push_back(static_cast<uint16_t>(index));
    }
  }
  if (names_.texts.empty()) {
    throw_error(ErrorKind::kInvalidRequest,
                "tool_choice requires a tool call, but no tool name can be written in the "
                "glm45 format (a name must not contain a newline or start or end with whitespace)");
  }
  sort_literals(names_);
}

State Automaton::initial_state(bool in_reasoning) const {
  State state;
  if (in_reasoning) {
    state.phase = Phase::kReasoning;
  } else {
    enter(state, Phase::kStart);
  }
  return state;
}

// Lists the tags that may come next in a tag phase, with the phase each leads to.
int Automaton::choices(const State& state, TagChoice out[2]) const {
  switch (state.phase) {
    case Phase::kStart:
      out[0] = {&newline_, Phase::kCallStart};
      out[1] = {&tags_.tool_call_start, Phase::kName};
      return 2;
    case Phase::kCallStart:
      out[0] = {&tags_.tool_call_start, Phase::kName};
      return 1;
    case Phase::kBetween: {
      const ToolGrammarSpec& tool = tools_[state.tool];
      int count = 0;
      if ((state.used & tool.all_mask) != tool.all_mask) {
        out[count++] = {&tags_.arg_key_start, Phase::kKey};
      }
      if ((state.used & tool.required_mask) == tool.required_mask) {
        out[count++] = {&tags_.tool_call_end, Phase::kAfterCall};
      }
      return count;
    }
    case Phase::kKeyNewline:
      out[0] = {&newline_, Phase::kValueStart};
      return 1;
    case Phase::kValueStart: {
      // The value's phase depends on the property's kind.
      const ValueKind kind = tools_[state.tool].properties[state.property].kind;
      const Phase next = kind == ValueKind::kLiteral ? Phase::kValueLiteral
                         : kind == ValueKind::kJson  ? Phase::kValueJson
                                                     : Phase::kValueString;
      out[0] = {&tags_.arg_value_start, next};
      return 1;
    }
    case Phase::kValueNewline:
      out[0] = {&newline_, Phase::kBetween};
      return 1;
    case Phase::kAfterCall:
      if (!parallel_calls_) return 0;
      out[0] = {&newline_, Phase::kCallStart};
      return 1;
    default:
      return 0;
  }
}

void Automaton::enter(State& state, Phase phase) const {
  if (phase == Phase::kName) state.used = 0;

  // Fields a phase does not use are zeroed, so equal situations compare equal
  // (ToolCallGrammar caches masks by state).
  state.phase = phase;
  state.pos = 0;
  state.lo = 0;
  state.hi = 0;
  state.json = JsonState{};
  TagChoice options[2];
  state.tags_alive = static_cast<uint8_t>((1u << choices(state, options)) - 1);

  switch (phase) {
    case Phase::kName:
    case Phase::kKey:
    case Phase::kValueLiteral:
      state.hi = static_cast<uint16_t>(literal_set(state).texts.size());
      break;
    default:
      break;
  }
}

const LiteralSet& Automaton::literal_set(const State& state) const {
  switch (state.phase) {
    case Phase::kName:
      return names_;
    case Phase::kKey:
      return tools_[state.tool].keys;
    default:
      return tools_[state.tool].properties[state.property].values;
  }
}

bool Automaton::step_any(State& state, uint8_t byte) const {
  switch (state.phase) {
    case Phase::kReasoning:
      return true;
    case Phase::kName:
    case Phase::kKey:
    case Phase::kValueLiteral:
      return step_literal(state, literal_set(state), byte);
    case Phase::kValueString:
      return step_string(state, byte);
    case Phase::kValueJson:
      return step_json(state, byte);
    case Phase::kEnd:
      return false;
    default:
      return step_tags(state, byte);
  }
}

bool Automaton::step_tags(State& state, uint8_t byte) const {
  TagChoice options[2];
  const int count = choices(state, options);
  uint8_t alive = 0;
  for (int i = 0; i < count; ++i) {
    const Tag& tag = *options[i].tag;
    const bool matches = (state.tags_alive >> i & 1) && tag.token < 0 &&
                         state.pos < tag.text.size() &&
                         static_cast<uint8_t>(tag.text[state.pos]) == byte;
    if (matches) alive |= static_cast<uint8_t>(1u << i);
  }
  if (alive == 0) return false;

  ++state.pos;
  for (int i = 0; i < count; ++i) {
    if ((alive >> i & 1) && options[i].tag->text.size() == state.pos) {
      enter(state, options[i].next);
      return true;
    }
  }
  state.tags_alive = alive;
  return true;
}

bool Automaton::step_token(State& state, int32_t token) const {
  switch (state.phase) {
    case Phase::kName:
    case Phase::kKey:
    case Phase::kValueLiteral: {
      const LiteralSet& set = literal_set(state);
      if (token != set.end_token || !literal_has_end(state, set)) return false;
      complete_literal(state, set);
      return true;
    }
    case Phase::kValueString:
      if (token != tags_.arg_value_end.token || (state.json.utf8 & 3) != 0) return false;
      enter(state, Phase::kValueNewline);
      return true;
    case Phase::kValueJson:
      if (token != tags_.arg_value_end.token || !json_value_may_end(state.json)) return false;
      enter(state, Phase::kValueNewline);
      return true;
    default:
      break;
  }

  TagChoice options[2];
  const int count = choices(state, options);
  for (int i = 0; i < count; ++i) {
    if ((state.tags_alive >> i & 1) && state.pos == 0 && options[i].tag->token == token) {
      enter(state, options[i].next);
      return true;
    }
  }
  return false;
}

// In kKey, keys already used in this call are out; elsewhere every text counts.
bool Automaton::is_usable(const State& state, const LiteralSet& set, uint16_t k) const {
  return state.phase != Phase::kKey || !(state.used >> set.payload[k] & 1);
}

bool Automaton::step_literal(State& state, const LiteralSet& set, uint8_t byte) const {
  uint16_t lo = state.hi, hi = state.hi;
  bool usable = false;
  for (uint16_t k = state.lo; k < state.hi; ++k) {
    const std::string& text = set.texts[k];
    if (state.pos >= text.size() || static_cast<uint8_t>(text[state.pos]) != byte) {
      if (lo != state.hi) break;  // Past the range that matches.
      continue;
    }
    if (lo == state.hi) lo = k;
    hi = static_cast<uint16_t>(k + 1);
    usable = usable || is_usable(state, set, k);
  }
  if (!usable) return false;

  state.lo = lo;
  state.hi = hi;
  ++state.pos;
  if (set.end_token < 0 && literal_has_end(state, set)) complete_literal(state, set);
  return true;
}

bool Automaton::literal_has_end(const State& state, const LiteralSet& set) const {
  for (uint16_t k = state.lo; k < state.hi; ++k) {
    if (set.texts[k].size() == state.pos && is_usable(state, set, k)) return true;
  }
  return false;
}

void Automaton::complete_literal(State& state, const LiteralSet& set) const {
  uint16_t chosen = state.lo;
  for (uint16_t k = state.lo; k < state.hi; ++k) {
    if (set.texts[k].size() == state.pos && is_usable(state, set, k)) {
      chosen = k;
      break;
    }
  }
  switch (state.phase) {
    case Phase::kName:
      state.tool = set.payload[chosen];
      enter(state, Phase::kBetween);
      return;
    case Phase::kKey:
      state.property = set.payload[chosen];
      state.used |= uint64_t{1} << state.property;
      enter(state, Phase::kKeyNewline);
      return;
    default:
      enter(state, Phase::kValueNewline);
      return;
  }
}

bool Automaton::step_string(State& state, uint8_t byte) const {
  if (!step_utf8(state.json.utf8, byte)) return false;
  if (!track_end_tag(state.json.end_tag, byte)) return true;
  // The text now contains "</arg_value>", which ends the value for the parser.
  if (tags_.arg_value_end.token >= 0) return false;
  enter(state, Phase::kValueNewline);
  return true;
}

bool Automaton::step_json(State& state, uint8_t byte) const {
  const uint8_t kinds = tools_[state.tool].properties[state.property].json_kinds;
  const bool end_tag_in_bytes = tags_.arg_value_end.token < 0;
  switch (step_json_value(state.json, kinds, end_tag_in_bytes, byte)) {
    case JsonStep::kRejected:
      return false;
    case JsonStep::kAccepted:
      return true;
    case JsonStep::kValueEnded:
      enter(state, Phase::kValueNewline);
      return true;
  }
  return false;
}

void Automaton::allowed_tokens(const State& state, std::vector<int32_t>& tokens) const {
  switch (state.phase) {
    case Phase::kReasoning:
    case Phase::kEnd:
      return;
    case Phase::kName:
    case Phase::kKey:
    case Phase::kValueLiteral: {
      const LiteralSet& set = literal_set(state);
      if (set.end_token >= 0 && literal_has_end(state, set)) tokens.push_back(set.end_token);
      return;
    }
    case Phase::kValueString:
      if (tags_.arg_value_end.token >= 0 && (state.json.utf8 & 3) == 0) {
        tokens.push_back(tags_.arg_value_end.token);
      }
      return;
    case Phase::kValueJson:
      if (tags_.arg_value_end.token >= 0 && json_value_may_end(state.json)) {
        tokens.push_back(tags_.arg_value_end.token);
      }
      return;
    default:
      break;
  }

  TagChoice options[2];
  const int count = choices(state, options);
  for (int i = 0; i < count; ++i) {
    const int32_t token = options[i].tag->token;
    if ((state.tags_alive >> i & 1) && state.pos == 0 && token >= 0) tokens.push_back(token);
  }
}

bool Automaton::may_end(const State& state, bool& final) const {
  final = state.phase == Phase::kEnd || (state.phase == Phase::kAfterCall && !parallel_calls_);
  return state.phase == Phase::kEnd || state.phase == Phase::kAfterCall;
}

}  // namespace glyph::chat::grammar
