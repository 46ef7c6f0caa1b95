// The request's `tools` and `tool_choice`, validated, and the typing of
// tool-call argument values from each tool's JSON schema.
//
// Tools arrive in OpenAI's shape:
//   {"type": "function", "function": {"name": ..., "description": ..., "parameters": {JSON
//   schema}}}
// Validation errors are glyph::Error(kInvalidRequest) naming the tool index;
// where SGLang 0.5.6 has a message for the same problem, the wording is SGLang's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::chat {

// The types of JSON Schema's "type" keyword.
enum class JsonType : uint8_t { kString, kNumber, kInteger, kBoolean, kNull, kObject, kArray };

const char* to_string(JsonType type);

// One property of a tool's "parameters" schema.
struct ToolParameter {
  std::string name;
  // Types a value may take, taken from "type" (a name or a list), from
  // "anyOf"/"oneOf", from the values of "enum"/"const", or from "properties"
  // (object) and "items" (array), in the schema's order with string moved
  // last. Empty when the schema allows any value.
  std::vector<JsonType> types;
  // The values of "enum" or "const" on the property itself; empty when the
  // property has neither.
  std::vector<nlohmann::ordered_json> allowed_values;
  bool required = false;

  bool is_string_only() const { return types.size() == 1 && types[0] == JsonType::kString; }
};

struct ToolSpec {
  std::string name;
  std::string description;
  // The "parameters" schema as sent; an empty object when the tool has none.
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();
  // The entries of parameters["properties"], in the schema's order.
  std::vector<ToolParameter> properties;

  // Returns the property named `name`, or nullptr.
  const ToolParameter* find_property(std::string_view name) const;
};

enum class ToolChoiceMode { kNone, kAuto, kRequired, kNamed };

struct ToolChoice {
  ToolChoiceMode mode = ToolChoiceMode::kNone;
  std::string name;  // The tool's name when mode is kNamed.
};

// Parses the request's "tools" value (null when absent: no tools). Throws
// glyph::Error(kInvalidRequest) for a tool without a function name, two tools
// with one name, a tool type other than "function", and "parameters" that is
// not an object schema or uses an unknown type name.
std::vector<ToolSpec> parse_tools(const nlohmann::ordered_json& tools);

// Parses "tool_choice" (null when absent: "auto" with tools, else "none") and
// checks it against the parsed tools. Throws glyph::Error(kInvalidRequest)
// for an unknown value, "required" or a named tool without tools, and a named
// tool that is not in `tools`.
ToolChoice parse_tool_choice(const nlohmann::ordered_json& tool_choice,
                             const std::vector<ToolSpec>& tools);

// Returns the tools a reply may call under `choice`: none for kNone, the one
// named tool for kNamed, all of them otherwise.
std::vector<ToolSpec> tools_for_choice(const std::vector<ToolSpec>& tools,
                                       const ToolChoice& choice);

// Converts an argument value's exact text to JSON text (json.dumps style):
//   - a property whose only type is string keeps the text as a JSON string;
//   - otherwise the text is parsed as JSON. The value is the parsed value
//     when its type is listed, else the text as a string when string is
//     listed, else the parsed value anyway. Text that is not JSON at all
//     becomes a string;
//   - with no property (an unknown key) or a schema without types: the parsed
//     JSON value, else the text as a string.
// Unlike SGLang, the text is never stripped and quoted text stays quoted.
std::string format_argument_value(std::string_view text, const ToolParameter* parameter);

}  // namespace glyph::chat
