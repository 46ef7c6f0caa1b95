#include "server/prompt_builder.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "server/api_error.h"

namespace glyph::server {
namespace {

using Json = nlohmann::ordered_json;

// Stands in for the Jinja engine: prints the context, or raises like a
// template's raise_exception.
class ContextEcho : public chat::ChatTemplate {
 public:
  explicit ContextEcho(bool fail = false) : fail_(fail) {}
  std::string render(const Json& context) const override {
    if (fail_) throw Error(ErrorKind::kInvalidRequest, "raise_exception: no system role");
    return context.dump();
  }

 private:
  bool fail_;
};

ChatRequest request_from(const std::string& body) {
  return parse_chat_request(Json::parse(body), 151365, false);
}

TEST(PromptBuilder, ContextLikeApplyChatTemplate) {
  const ChatRequest request = request_from(
      R"({"messages": [{"role": "user", "content": "Hi"}],
          "chat_template_kwargs": {"enable_thinking": false, "add_generation_prompt": false}})");
  const Json context =
      build_template_context(request, Json::parse(R"({"eos_token": "<|endoftext|>"})"));
  EXPECT_EQ(context["eos_token"], "<|endoftext|>");
  EXPECT_EQ(context["messages"], request.messages);
  EXPECT_FALSE(context.contains("tools"));
  EXPECT_EQ(context["enable_thinking"], false);
  // chat_template_kwargs are applied last, as transformers merges them.
  EXPECT_EQ(context["add_generation_prompt"], false);
}

TEST(PromptBuilder, ToolsInContext) {
  const ChatRequest request = request_from(
      R"({"messages": [{"role": "user", "content": "Hi"}],
          "tools": [{"type": "function", "function": {"name": "f"}}]})");
  const Json context = build_template_context(request, Json::object());
  ASSERT_TRUE(context.contains("tools"));
  EXPECT_EQ(context["tools"][0]["name"], "f");
  EXPECT_EQ(context["add_generation_prompt"], true);
}

TEST(PromptBuilder, TemplateFailureIs400) {
  const ChatRequest request = request_from(R"({"messages": [{"role": "user", "content": "Hi"}]})");
  const Json context = build_template_context(request, Json::object());
  EXPECT_EQ(render_prompt(ContextEcho(), context), context.dump());
  try {
    render_prompt(ContextEcho(/*fail=*/true), context);
    FAIL() << "a raising template rendered";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(std::string(error.what()).find("no system role"), std::string::npos);
  }
}

// The tiny model's GLM template, as the server renders it.
std::unique_ptr<chat::ChatTemplate> tiny_glyph_template() {
  std::ifstream file(GLYPH_TEST_DATA_DIR "/tiny-glyph/chat_template.jinja");
  EXPECT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  return chat::ChatTemplate::parse(text.str());
}

std::string render_tiny_glyph(const std::string& body) {
  return render_prompt(*tiny_glyph_template(),
                       build_template_context(request_from(body), Json::object()));
}

// The expected prompts below are Python jinja2 3.1's rendering of the same
// template (trim_blocks, lstrip_blocks, transformers' tojson) with the
// arguments parsed into objects, as SGLang passes them.

// The tool-result request of SGLang's Glyph page: the assistant's call with
// content null and JSON-string arguments, then the tool's result.
TEST(PromptBuilder, ToolResultRoundTrip) {
  const std::string prompt = render_tiny_glyph(R"({"messages": [
      {"role": "user", "content": "What's the weather in Beijing?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_123", "type": "function",
        "function": {"name": "get_weather",
                     "arguments": "{\"location\": \"Beijing\", \"unit\": \"celsius\"}"}}]},
      {"role": "tool", "tool_call_id": "call_123",
       "content": "The weather in Beijing is 22°C and sunny."}]})");
  EXPECT_EQ(prompt,
            "[gMASK]<sop><|user|>\nWhat's the weather in Beijing?<|assistant|>\n<think></think>\n"
            "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Beijing</arg_value>\n"
            "<arg_key>unit</arg_key>\n<arg_value>celsius</arg_value>\n</tool_call><|observation|>\n"
            "<tool_response>\nThe weather in Beijing is 22°C and sunny.\n</tool_response>\n"
            "<|assistant|>\n");
}

// Two calls in one turn, non-string argument values (printed with tojson),
// a call without arguments and a tool result sent as content parts.
TEST(PromptBuilder, ParallelToolCallsRoundTrip) {
  const std::string prompt = render_tiny_glyph(R"({"messages": [
      {"role": "user", "content": "Plan"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "plan",
         "arguments": "{\"city\": \"北京\", \"days\": 3, \"tags\": [\"a\", \"b\"]}"}},
        {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
      {"role": "tool", "tool_call_id": "call_2",
       "content": [{"type": "text", "text": "12:00"}]}]})");
  EXPECT_EQ(prompt,
            "[gMASK]<sop><|user|>\nPlan<|assistant|>\n<think></think>\n<tool_call>plan\n"
            "<arg_key>city</arg_key>\n<arg_value>北京</arg_value>\n<arg_key>days</arg_key>\n"
            "<arg_value>3</arg_value>\n<arg_key>tags</arg_key>\n<arg_value>[\"a\", \"b\"]"
            "</arg_value>\n</tool_call>\n<tool_call>get_time\n</tool_call><|observation|>\n"
            "<tool_response>\nok\n</tool_response>\n\n<tool_response>\n12:00\n</tool_response>"
            "<|assistant|>\n");
}

// The tools of the page's tool-calling example reach the system prompt as
// SGLang 0.5 dumps them, and tool_choice "none" leaves them out.
TEST(PromptBuilder, ToolsInSystemPrompt) {
  const std::string tools = R"([{"type": "function", "function": {
      "name": "get_weather", "description": "Get the current weather for a location",
      "parameters": {"type": "object", "properties": {"location": {"type": "string",
      "description": "The city name"}}, "required": ["location"]}}}])";
  const std::string prompt = render_tiny_glyph(
      R"({"messages": [{"role": "user", "content": "What's the weather in Beijing?"}], "tools": )" +
      tools + "}");
  EXPECT_EQ(prompt,
            "[gMASK]<sop><|system|>\n# Tools\n\nYou may call one or more functions to assist "
            "with the user query.\n\nYou are provided with function signatures within "
            "<tools></tools> XML tags:\n<tools>\n{\"description\": \"Get the current weather "
            "for a location\", \"name\": \"get_weather\", \"parameters\": {\"type\": "
            "\"object\", \"properties\": {\"location\": {\"type\": \"string\", "
            "\"description\": \"The city name\"}}, \"required\": [\"location\"]}, "
            "\"strict\": false}\n</tools>\n\nFor each function call, output the function name "
            "and arguments within the following XML format:\n<tool_call>{function-name}\n"
            "<arg_key>{arg-key-1}</arg_key>\n<arg_value>{arg-value-1}</arg_value>\n"
            "<arg_key>{arg-key-2}</arg_key>\n<arg_value>{arg-value-2}</arg_value>\n...\n"
            "</tool_call><|user|>\nWhat's the weather in Beijing?<|assistant|>\n");

  const std::string without = render_tiny_glyph(
      R"({"messages": [{"role": "user", "content": "What's the weather in Beijing?"}], "tools": )" +
      tools + R"(, "tool_choice": "none"})");
  EXPECT_EQ(without, "[gMASK]<sop><|user|>\nWhat's the weather in Beijing?<|assistant|>\n");
}

}  // namespace
}  // namespace glyph::server
