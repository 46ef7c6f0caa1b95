// The JSON value automaton of the tool-call grammar (tool_grammar.h): a
// byte-level recogniser for the value between <arg_value> and </arg_value>
// of a property typed number, integer, boolean, null, object or array, plus
// the UTF-8 and "</arg_value>" checks that string values share.
#pragma once

#include <cstdint>

namespace glyph::chat::grammar {

// JSON kinds a value may start with at the top level, as bits.
enum JsonKindBit : uint8_t {
  kJsonObjectBit = 1,
  kJsonArrayBit = 2,
  kJsonNumberBit = 4,  // Any number; with kJsonIntegerOnly, integers only.
  kJsonBooleanBit = 8,
  kJsonNullBit = 16,
  kJsonIntegerOnly = 32,
};

enum JsonMode : uint8_t {
  kJsonValue,        // A value must start (top level, after ':' or after ',' in an array).
  kJsonArrayFirst,   // After '[': a value or ']'.
  kJsonObjectFirst,  // After '{': a key or '}'.
  kJsonObjectKey,    // After ',' in an object: a key.
  kJsonColon,        // After a key: ':'.
  kJsonAfterValue,   // Inside a container after a value: ',' or the closing bracket.
  kJsonString,
  kJsonEscape,   // After a backslash in a string.
  kJsonUnicode,  // Inside \uXXXX.
  kJsonNumber,
  kJsonLiteral,  // Inside true, false or null.
  kJsonDone,     // The top-level value is complete.
  kJsonEndTag,   // Matching "</arg_value>" byte by byte after the value.
};

// The automaton's state; string values use only utf8 and end_tag.
struct JsonState {
  uint8_t mode = kJsonValue;  // A JsonMode.
  uint8_t sub = 0;            // Number phase, \u digits read, or literal progress.
  uint8_t depth = 0;          // Open containers.
  uint8_t utf8 = 0;           // Continuation bytes still expected, and the range of the next one.
  uint8_t end_tag = 0;        // Bytes of "</arg_value>" matched at the end of the text.
  bool is_key = false;        // The string being read is an object key.
  uint32_t objects = 0;       // Bit i: container i (from the outside) is an object.

  bool operator==(const JsonState&) const = default;
};

enum class JsonStep {
  kRejected,  // The byte cannot come next.
  kAccepted,
  kValueEnded,  // The byte completed "</arg_value>" after a complete value.
};

// Advances the JSON value by one byte. `kinds` (JsonKindBit) limits the
// top-level value; nested values may be of any kind. Whitespace is allowed
// inside containers only, and strings may not contain "</arg_value>" (the
// parser would end the value there). When end_tag_in_bytes is true the value
// ends with the bytes of "</arg_value>"; otherwise the caller matches that
// tag as a token where json_value_may_end() allows it.
JsonStep step_json_value(JsonState& json, uint8_t kinds, bool end_tag_in_bytes, uint8_t byte);

// True while the automaton is inside string text (not after a backslash).
inline bool is_inside_json_string(const JsonState& json) { return json.mode == kJsonString; }

// True when the top-level value is complete, so </arg_value> may follow.
bool json_value_may_end(const JsonState& json);

// Advances a UTF-8 well-formedness check; false for a byte that cannot come next.
bool step_utf8(uint8_t& state, uint8_t byte);

// Tracks how much of "</arg_value>" the text ends with; returns true when the
// whole tag has just been matched.
bool track_end_tag(uint8_t& matched, uint8_t byte);

}  // namespace glyph::chat::grammar
