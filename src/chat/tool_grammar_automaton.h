// The byte-level automaton behind ToolCallGrammar (tool_grammar.h): which
// bytes and markup tokens may come next in a reply made only of tool calls.
// Internal to the chat layer; the state is a small value type so the
// vocabulary walk can copy it once per trie node.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/tool_grammar_json.h"
#include "chat/tool_schema.h"

namespace glyph::chat::grammar {

// A markup tag, matched as one token when the vocabulary has it as a single
// token, else byte by byte.
struct Tag {
  std::string text;
  int32_t token = -1;
};

struct MarkupTags {
  Tag tool_call_start, tool_call_end, arg_key_start, arg_key_end, arg_value_start, arg_value_end;
};

// A choice between fixed texts (tool names, keys, enum values), sorted
// bytewise so the texts that share a prefix form one range. A text ends
// either with its last byte (end_token < 0: the terminator is part of the
// text) or with the token end_token.
struct LiteralSet {
  std::vector<std::string> texts;
  std::vector<uint16_t> payload;  // Index of the tool or property each text selects.
  int32_t end_token = -1;
};

enum class ValueKind : uint8_t {
  kFreeString,  // Any valid UTF-8 without "</arg_value>".
  kLiteral,     // One of the enum/const values.
  kJson,        // A JSON value of the kinds in json_kinds.
};

struct PropertyGrammar {
  ValueKind kind = ValueKind::kFreeString;
  uint8_t json_kinds = 0;
  LiteralSet values;  // kLiteral only.
};

struct ToolGrammarSpec {
  std::vector<PropertyGrammar> properties;
  LiteralSet keys;
  uint64_t required_mask = 0;  // Bit i: properties[i] must appear.
  uint64_t all_mask = 0;       // Bits of the properties a call may use.
};

enum class Phase : uint8_t {
  kReasoning,     // Free text until the reasoning end token.
  kStart,         // Optional "\n", then <tool_call>.
  kCallStart,     // <tool_call>.
  kName,          // A tool name and "\n".
  kBetween,       // <arg_key> or </tool_call>.
  kKey,           // A key of the tool, then </arg_key>.
  kKeyNewline,    // "\n".
  kValueStart,    // <arg_value>.
  kValueString,   // A free string value, then </arg_value>.
  kValueLiteral,  // An enum value, then </arg_value>.
  kValueJson,     // A JSON value, then </arg_value>.
  kValueNewline,  // "\n".
  kAfterCall,     // "\n" and another call (parallel calls only), or the end.
  kEnd,           // An end-of-sequence token was accepted.
};

struct State {
  Phase phase = Phase::kStart;
  uint8_t tags_alive = 0;  // Tag phases: bit i set while alternative i still matches.
  uint16_t pos = 0;        // Bytes matched of the current tag or literal.
  uint16_t lo = 0;         // Literal phases: the range of texts still matching.
  uint16_t hi = 0;
  uint16_t tool = 0;      // Index of the tool being called.
  uint16_t property = 0;  // Index of the property whose value is being read.
  uint64_t used = 0;      // Properties used in this call.
  JsonState json;

  bool operator==(const State&) const = default;
};

// The compiled grammar for one request's allowed tools.
class Automaton {
 public:
  Automaton(const std::vector<ToolSpec>& tools, const MarkupTags& tags, bool parallel_calls);

  State initial_state(bool in_reasoning) const;

  // Advances `state` by one byte of a token; returns false when the byte is
  // not allowed (state is then unspecified). Inline because the vocabulary
  // walk calls it for every trie node it visits: inside string text, the
  // common case of an ASCII byte that leaves the state as it is returns here.
  bool step(State& state, uint8_t byte) const {
    const bool plain_ascii = byte >= 0x20 && byte < 0x80 && byte != '<' && state.json.utf8 == 0 &&
                             state.json.end_tag == 0;
    if (plain_ascii && state.phase == Phase::kValueString) return true;
    if (plain_ascii && state.phase == Phase::kValueJson && is_inside_json_string(state.json) &&
        byte != '"' && byte != '\\') {
      return true;
    }
    return step_any(state, byte);
  }

  // Advances `state` past a markup token; returns false when it is not allowed here.
  bool step_token(State& state, int32_t token) const;

  // Appends the markup tokens allowed next.
  void allowed_tokens(const State& state, std::vector<int32_t>& tokens) const;

  // True when the reply may end here; `final` is set when nothing may follow.
  bool may_end(const State& state, bool& final) const;

 private:
  struct TagChoice {
    const Tag* tag;
    Phase next;
  };
  bool step_any(State& state, uint8_t byte) const;
  int choices(const State& state, TagChoice out[2]) const;
  void enter(State& state, Phase phase) const;
  bool step_tags(State& state, uint8_t byte) const;
  bool is_usable(const State& state, const LiteralSet& set, uint16_t k) const;
  bool step_literal(State& state, const LiteralSet& set, uint8_t byte) const;
  bool literal_has_end(const State& state, const LiteralSet& set) const;
  void complete_literal(State& state, const LiteralSet& set) const;
  bool step_string(State& state, uint8_t byte) const;
  bool step_json(State& state, uint8_t byte) const;
  const LiteralSet& literal_set(const State& state) const;

  std::vector<ToolGrammarSpec> tools_;
  LiteralSet names_;
  MarkupTags tags_;
  Tag newline_{"\n", -1};
  bool parallel_calls_;
};

}  // namespace glyph::chat::grammar
