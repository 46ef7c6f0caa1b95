#include "chat/tool_schema.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/tool_call_json.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

using Json = nlohmann::ordered_json;

// Returns the kInvalidRequest message parse_tools throws for `tools`, or "" if it accepts them.
std::string tools_error(const char* tools) {
  try {
    parse_tools(Json::parse(tools));
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    return error.what();
  }
  return "";
}

std::string choice_error(const char* choice, const std::vector<ToolSpec>& tools) {
  try {
    parse_tool_choice(Json::parse(choice), tools);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    return error.what();
  }
  return "";
}

std::vector<ToolSpec> two_tools() {
  return parse_tools(Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {
        "location": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]}}},
    {"function": {"name": "get_time"}}
  ])"));
}

TEST(ToolSchema, ParsesToolsInOrder) {
  const auto tools = two_tools();
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0].name, "get_weather");
  EXPECT_EQ(tools[0].description, "Weather");
  ASSERT_EQ(tools[0].properties.size(), 2u);
  EXPECT_EQ(tools[0].properties[0].name, "location");
  EXPECT_TRUE(tools[0].properties[0].required);
  EXPECT_TRUE(tools[0].properties[0].is_string_only());
  EXPECT_FALSE(tools[0].properties[1].required);
  EXPECT_EQ(tools[0].properties[1].allowed_values.size(), 2u);
  EXPECT_EQ(tools[1].name, "get_time");
  EXPECT_TRUE(tools[1].properties.empty());
  EXPECT_EQ(tools[0].find_property("unit"), &tools[0].properties[1]);
  EXPECT_EQ(tools[0].find_property("missing"), nullptr);
}

TEST(ToolSchema, NullToolsIsEmpty) { EXPECT_TRUE(parse_tools(Json()).empty()); }

TEST(ToolSchema, RejectsMissingName) {
  EXPECT_EQ(tools_error(R"([{"type": "function", "function": {"name": "a"}},
                            {"type": "function", "function": {"description": "x"}}])"),
            "Tool 1 has no function name; set tools[1].function.name to a non-empty string");
  EXPECT_NE(tools_error(R"([{"type": "function", "function": {"name": ""}}])"), "");
  EXPECT_NE(tools_error(R"([{"type": "function", "function": {"name": 5}}])"), "");
}

TEST(ToolSchema, RejectsDuplicateNames) {
  EXPECT_EQ(tools_error(R"([{"function": {"name": "a"}}, {"function": {"name": "b"}},
                            {"function": {"name": "a"}}])"),
            "Tool 2 function name 'a' is also the name of tool 0; tool names must be unique");
}

TEST(ToolSchema, RejectsMalformedTools) {
  EXPECT_NE(tools_error(R"({"function": {"name": "a"}})"), "");
  EXPECT_NE(tools_error(R"(["a"])"), "");
  EXPECT_NE(tools_error(R"([{"type": "retrieval", "function": {"name": "a"}}])"), "");
  EXPECT_NE(tools_error(R"([{"type": "function"}])"), "");
}

TEST(ToolSchema, RejectsParametersThatAreNotObjectSchemas) {
  EXPECT_EQ(tools_error(R"([{"function": {"name": "a", "parameters": [1]}}])"),
            "Tool 0 function has invalid 'parameters' schema: expected a JSON object, got array");
  EXPECT_EQ(tools_error(R"([{"function": {"name": "a", "parameters": {"type": "string"}}}])"),
            "Tool 0 function has invalid 'parameters' schema: the top-level type must be "
            "\"object\", got \"string\"");
  EXPECT_EQ(tools_error(R"([{"function": {"name": "a", "parameters": {
                "type": "object", "properties": {"x": {"type": "strin"}}}}}])"),
            "Tool 0 function has invalid 'parameters' schema: property 'x' has type \"strin\"; "
            "expected one of string, number, integer, boolean, null, object, array");
  EXPECT_NE(tools_error(R"([{"function": {"name": "a", "parameters": {
                "type": "object", "properties": []}}}])"),
            "");
  EXPECT_NE(tools_error(R"([{"function": {"name": "a", "parameters": {
                "type": "object", "properties": {"x": 3}}}}])"),
            "");
  EXPECT_NE(tools_error(R"([{"function": {"name": "a", "parameters": {
                "type": "object", "required": "x"}}}])"),
            "");
  EXPECT_NE(tools_error(R"([{"function": {"name": "a", "parameters": {
                "type": "object", "properties": {"x": {"anyOf": [{"type": "nope"}]}}}}}])"),
            "");
  EXPECT_EQ(tools_error(R"([{"function": {"name": "a", "parameters": null}},
                            {"function": {"name": "b", "parameters": {}}}])"),
            "");
}

TEST(ToolSchema, InfersTypesStringLast) {
  const auto tools = parse_tools(Json::parse(R"([{"function": {"name": "f", "parameters": {
    "type": "object", "properties": {
      "list": {"type": ["string", "integer", "null"]},
      "any_of": {"anyOf": [{"type": "string"}, {"type": "number"}]},
      "one_of": {"oneOf": [{"type": "object"}, {"type": "array"}]},
      "open": {"anyOf": [{"type": "integer"}, {}]},
      "enum": {"enum": ["a", 1, null]},
      "const": {"const": true},
      "props": {"properties": {"a": {}}},
      "items": {"items": {}},
      "all_of": {"allOf": [{"description": "x"}, {"type": "boolean"}]},
      "untyped": {"description": "anything"},
      "bool_schema": true
    }}}}])"));
  const ToolSpec& tool = tools[0];
  auto types = [&](const char* name) { return tool.find_property(name)->types; };
  using T = JsonType;
  EXPECT_EQ(types("list"), (std::vector<T>{T::kInteger, T::kNull, T::kString}));
  EXPECT_EQ(types("any_of"), (std::vector<T>{T::kNumber, T::kString}));
  EXPECT_EQ(types("one_of"), (std::vector<T>{T::kObject, T::kArray}));
  EXPECT_TRUE(types("open").empty());
  EXPECT_EQ(types("enum"), (std::vector<T>{T::kInteger, T::kNull, T::kString}));
  EXPECT_EQ(tool.find_property("enum")->allowed_values.size(), 3u);
  EXPECT_EQ(types("const"), (std::vector<T>{T::kBoolean}));
  EXPECT_EQ(tool.find_property("const")->allowed_values.size(), 1u);
  EXPECT_EQ(types("props"), (std::vector<T>{T::kObject}));
  EXPECT_EQ(types("items"), (std::vector<T>{T::kArray}));
  EXPECT_EQ(types("all_of"), (std::vector<T>{T::kBoolean}));
  EXPECT_TRUE(types("untyped").empty());
  EXPECT_TRUE(types("bool_schema").empty());
}

ToolParameter parameter_of(std::vector<JsonType> types) {
  return ToolParameter{
      .name = std::string("p"), .types = std::move(types), .allowed_values = {}, .required = false};
}

TEST(ToolArgumentValue, StringKeepsExactText) {
  const ToolParameter string = parameter_of({JsonType::kString});
  EXPECT_EQ(format_argument_value("42", &string), R"("42")");
  EXPECT_EQ(format_argument_value("true", &string), R"("true")");
  EXPECT_EQ(format_argument_value("null", &string), R"("null")");
  EXPECT_EQ(format_argument_value(R"({"a":1})", &string), R"("{\"a\":1}")");
  EXPECT_EQ(format_argument_value(" x\n", &string), R"(" x\n")");
  EXPECT_EQ(format_argument_value("\"q\"", &string), R"("\"q\"")");
  EXPECT_EQ(format_argument_value("北京", &string), "\"北京\"");
}

TEST(ToolArgumentValue, TypedValuesParseAsJson) {
  const ToolParameter integer = parameter_of({JsonType::kInteger});
  EXPECT_EQ(format_argument_value("7", &integer), "7");
  EXPECT_EQ(format_argument_value(" 7\n", &integer), "7");
  EXPECT_EQ(format_argument_value("seven", &integer), R"("seven")");
  EXPECT_EQ(format_argument_value("2.5", &integer), "2.5");

  const ToolParameter number = parameter_of({JsonType::kNumber});
  EXPECT_EQ(format_argument_value("1e-5", &number), "1e-05");
  EXPECT_EQ(format_argument_value("1e16", &number), "1e+16");
  EXPECT_EQ(format_argument_value("123456.0", &number), "123456.0");
  EXPECT_EQ(format_argument_value("0.1", &number), "0.1");

  const ToolParameter object = parameter_of({JsonType::kObject});
  EXPECT_EQ(format_argument_value(R"({"b":[1,{"c":"é"}],"a":null})", &object),
            R"({"b": [1, {"c": "é"}], "a": null})");
  EXPECT_EQ(format_argument_value("{}", &object), "{}");

  const ToolParameter boolean = parameter_of({JsonType::kBoolean});
  EXPECT_EQ(format_argument_value("false", &boolean), "false");
}

TEST(ToolArgumentValue, TypeListTriesTypesThenString) {
  const ToolParameter list = parameter_of({JsonType::kInteger, JsonType::kNull, JsonType::kString});
  EXPECT_EQ(format_argument_value("3", &list), "3");
  EXPECT_EQ(format_argument_value("null", &list), "null");
  EXPECT_EQ(format_argument_value("true", &list), R"("true")");
  EXPECT_EQ(format_argument_value("[1]", &list), R"("[1]")");
  EXPECT_EQ(format_argument_value("x y", &list), R"("x y")");
}

TEST(ToolArgumentValue, UntypedIsJsonElseString) {
  const ToolParameter untyped = parameter_of({});
  EXPECT_EQ(format_argument_value("[1, 2]", &untyped), "[1, 2]");
  EXPECT_EQ(format_argument_value("hello", &untyped), R"("hello")");
  EXPECT_EQ(format_argument_value("", nullptr), R"("")");
  EXPECT_EQ(format_argument_value("5", nullptr), "5");
  EXPECT_EQ(format_argument_value("\"quoted\"", nullptr), R"("quoted")");
}

TEST(ToolChoiceParse, DefaultsFollowTools) {
  EXPECT_EQ(parse_tool_choice(Json(), {}).mode, ToolChoiceMode::kNone);
  EXPECT_EQ(parse_tool_choice(Json(), two_tools()).mode, ToolChoiceMode::kAuto);
}

TEST(ToolChoiceParse, AcceptsEveryForm) {
  const auto tools = two_tools();
  EXPECT_EQ(parse_tool_choice(Json("none"), tools).mode, ToolChoiceMode::kNone);
  EXPECT_EQ(parse_tool_choice(Json("auto"), tools).mode, ToolChoiceMode::kAuto);
  EXPECT_EQ(parse_tool_choice(Json("required"), tools).mode, ToolChoiceMode::kRequired);
  const ToolChoice named = parse_tool_choice(
      Json::parse(R"({"type": "function", "function": {"name": "get_time"}})"), tools);
  EXPECT_EQ(named.mode, ToolChoiceMode::kNamed);
  EXPECT_EQ(named.name, "get_time");
}

TEST(ToolChoiceParse, RejectsWithSglangMessages) {
  const auto tools = two_tools();
  EXPECT_EQ(choice_error(R"("required")", {}),
            "Tools cannot be empty if tool choice is set to required.");
  EXPECT_EQ(choice_error(R"({"type": "function", "function": {"name": "x"}})", {}),
            "Tools cannot be empty if tool choice is set to a specific tool.");
  EXPECT_EQ(choice_error(R"({"type": "function", "function": {"name": "x"}})", tools),
            "Tool 'x' not found in tools list.");
  EXPECT_NE(choice_error(R"("always")", tools), "");
  EXPECT_NE(choice_error(R"({"type": "function"})", tools), "");
  EXPECT_NE(choice_error(R"({"type": "other", "function": {"name": "get_time"}})", tools), "");
  EXPECT_NE(choice_error("3", tools), "");
}

TEST(ToolChoiceParse, SelectsTools) {
  const auto tools = two_tools();
  EXPECT_TRUE(tools_for_choice(tools, {ToolChoiceMode::kNone, ""}).empty());
  EXPECT_EQ(tools_for_choice(tools, {ToolChoiceMode::kRequired, ""}).size(), 2u);
  const auto named = tools_for_choice(tools, {ToolChoiceMode::kNamed, "get_time"});
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(named[0].name, "get_time");
}

TEST(ToolCallJson, EscapesLikePythonJsonDumps) {
  EXPECT_EQ(quote_json_string("a\"b\\c\n\r\t\b\f\x01\x1f\x7f é 😀"),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\x7f é 😀\"");
  std::string pieces;
  const std::string text = "é😀\"";
  for (char c : text) append_json_string_body(pieces, std::string_view(&c, 1));
  EXPECT_EQ("\"" + pieces + "\"", quote_json_string(text));
  EXPECT_EQ(dump_argument_json(Json::parse(R"({"a": [1.5, -0.0, 100.0, 1e300], "b": "ü"})")),
            R"({"a": [1.5, -0.0, 100.0, 1e+300], "b": "ü"})");
}

}  // namespace
}  // namespace glyph::chat
