#include "server/chat_request.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/api_error.h"

namespace glyph::server {
namespace {

using Json = nlohmann::ordered_json;

constexpr int32_t kVocabSize = 151365;

Json minimal_body() {
  return Json::parse(R"({"messages": [{"role": "user", "content": "Hi"}]})");
}

ChatRequest parse(const Json& body, bool allow_scripted_output = false) {
  return parse_chat_request(body, kVocabSize, allow_scripted_output);
}

// Returns the 400 message for body, or fails the test if it parses.
std::string rejection(const Json& body) {
  try {
    parse(body);
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    return error.what();
  }
  ADD_FAILURE() << "accepted " << body.dump();
  return "";
}

TEST(ChatRequest, MinimalRequestDefaults) {
  const ChatRequest request = parse(minimal_body());
  EXPECT_EQ(request.model, "default");
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0]["role"], "user");
  EXPECT_EQ(request.messages[0]["content"], "Hi");
  EXPECT_FALSE(request.max_tokens.has_value());
  EXPECT_FALSE(request.temperature.has_value());
  EXPECT_FALSE(request.stream);
  EXPECT_TRUE(request.separate_reasoning);
  EXPECT_TRUE(request.stream_reasoning);
  EXPECT_TRUE(request.skip_special_tokens);
  EXPECT_EQ(request.tool_choice.mode, chat::ToolChoiceMode::kNone);
  EXPECT_TRUE(request.tools.empty());
  EXPECT_TRUE(request.template_tools.is_null());
  EXPECT_TRUE(request.parallel_tool_calls);
  EXPECT_TRUE(request.chat_template_kwargs.empty());
}

TEST(ChatRequest, ReadsEveryField) {
  Json body = minimal_body();
  body["model"] = "zai-org/Glyph";
  body["max_tokens"] = 7;
  body["temperature"] = 0.7;
  body["top_p"] = 0.9;
  body["top_k"] = 20;
  body["min_p"] = 0.05;
  body["repetition_penalty"] = 1.1;
  body["frequency_penalty"] = 0.5;
  body["presence_penalty"] = -0.5;
  body["seed"] = 42;
  body["stop"] = "END";
  body["stop_token_ids"] = {151336};
  body["ignore_eos"] = true;
  body["n"] = 1;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["chat_template_kwargs"] = {{"enable_thinking", false}};
  body["separate_reasoning"] = false;
  body["stream_reasoning"] = false;
  body["skip_special_tokens"] = false;
  body["logprobs"] = false;
  body["unknown_field"] = "ignored";

  const ChatRequest request = parse(body);
  EXPECT_EQ(request.model, "zai-org/Glyph");
  EXPECT_EQ(request.max_tokens, 7);
  EXPECT_FLOAT_EQ(*request.temperature, 0.7f);
  EXPECT_FLOAT_EQ(*request.top_p, 0.9f);
  EXPECT_EQ(request.top_k, 20);
  EXPECT_FLOAT_EQ(*request.min_p, 0.05f);
  EXPECT_FLOAT_EQ(*request.repetition_penalty, 1.1f);
  EXPECT_FLOAT_EQ(request.frequency_penalty, 0.5f);
  EXPECT_FLOAT_EQ(request.presence_penalty, -0.5f);
  EXPECT_EQ(request.seed, 42u);
  EXPECT_EQ(request.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(request.stop_token_ids, std::vector<int32_t>{151336});
  EXPECT_TRUE(request.ignore_eos);
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
  EXPECT_EQ(request.chat_template_kwargs["enable_thinking"], false);
  EXPECT_FALSE(request.separate_reasoning);
  EXPECT_FALSE(request.stream_reasoning);
  EXPECT_FALSE(request.skip_special_tokens);
}

TEST(ChatRequest, MaxCompletionTokensWins) {
  Json body = minimal_body();
  body["max_tokens"] = 5;
  body["max_completion_tokens"] = 9;
  EXPECT_EQ(parse(body).max_tokens, 9);
}

TEST(ChatRequest, StopListAndRolesLowerCased) {
  Json body = Json::parse(R"({"messages": [{"role": "System", "content": "Be brief."},
                                           {"role": "USER", "content": "Hi"}],
                              "stop": ["a", "b"]})");
  const ChatRequest request = parse(body);
  EXPECT_EQ(request.messages[0]["role"], "system");
  EXPECT_EQ(request.messages[1]["role"], "user");
  EXPECT_EQ(request.stop, (std::vector<std::string>{"a", "b"}));
}

TEST(ChatRequest, ContentPartsForTemplate) {
  Json body = Json::parse(R"({"messages": [{"role": "user", "content": [
      {"type": "text", "text": "What is this?"},
      {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]})");
  const ChatRequest request = parse(body);
  ASSERT_EQ(request.media.size(), 1u);
  EXPECT_EQ(request.media[0].url, "data:image/png;base64,AAAA");
  EXPECT_EQ(request.media[0].path, "messages[0].content[1]");
  const Json& parts = request.messages[0]["content"];
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], Json::parse(R"({"type": "text", "text": "What is this?"})"));
  EXPECT_EQ(parts[1], Json::parse(R"({"type": "image", "media_index": 0})"));
}

TEST(ChatRequest, RenderedTextPartsKeepTheirOrderAmongImages) {
  Json body = Json::parse(R"({"messages": [{"role": "user", "content": [
      {"type": "image_url", "image_url": {"url": "a.png"}},
      {"type": "rendered_text", "rendered_text": {"text": "Long text", "dpi": 96}},
      {"type": "text", "text": "Summarise it."}]}]})");
  const ChatRequest request = parse(body);
  ASSERT_EQ(request.media.size(), 2u);
  EXPECT_FALSE(request.media[0].rendered_text);
  ASSERT_TRUE(request.media[1].rendered_text);
  EXPECT_EQ(request.media[1].rendered_text->text, "Long text");
  EXPECT_EQ(request.media[1].rendered_text->dpi, 96);
  EXPECT_EQ(request.messages[0]["content"][1]["media_index"], 1);
}

TEST(ChatRequest, RenderedTextIsRejectedWhereItCannotApply) {
  auto reason = [](const char* body) { return rejection(Json::parse(body)); };
  EXPECT_NE(reason(R"({"messages": [{"role": "system", "content": [
      {"type": "rendered_text", "rendered_text": {"text": "x"}}]}]})")
                .find("only user messages may carry text to render"),
            std::string::npos);
  EXPECT_NE(reason(R"({"messages": [{"role": "user", "content": [
      {"type": "rendered_text", "rendered_text": {"text": ""}}]}]})")
                .find("rendered_text.text is empty"),
            std::string::npos);
  EXPECT_NE(reason(R"({"messages": [{"role": "user", "content": [
      {"type": "rendered_text", "rendered_text": {"text": " \n\t "}}]}]})")
                .find("only whitespace"),
            std::string::npos);
  EXPECT_NE(reason(R"({"messages": [{"role": "user", "content": [
      {"type": "rendered_text", "rendered_text": {"text": "x", "dpi": 4000}}]}]})")
                .find("use a value from 36 to 300"),
            std::string::npos);
  EXPECT_NE(reason(R"({"messages": [{"role": "user", "content": [
      {"type": "image_url", "image_url": {"url": ""}}]}]})")
                .find("image_url.url is empty"),
            std::string::npos);
}

TEST(ChatRequest, ToolCallArgumentsBecomeObjects) {
  Json body = Json::parse(R"({"messages": [
      {"role": "user", "content": "Weather in Beijing?"},
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_123", "type": "function",
        "function": {"name": "get_weather",
                     "arguments": "{\"location\": \"Beijing\", \"unit\": \"celsius\"}"}}]},
      {"role": "tool", "tool_call_id": "call_123", "content": "22 degrees"}]})");
  const ChatRequest request = parse(body);
  const Json& assistant = request.messages[1];
  EXPECT_EQ(assistant["content"], "");
  const Json& arguments = assistant["tool_calls"][0]["function"]["arguments"];
  ASSERT_TRUE(arguments.is_object());
  EXPECT_EQ(arguments["location"], "Beijing");
  // Key order is kept, so the template prints arguments as the client sent them.
  EXPECT_EQ(arguments.begin().key(), "location");
  EXPECT_EQ(request.messages[2]["tool_call_id"], "call_123");
}

TEST(ChatRequest, ToolsPassedAsFunctionObjects) {
  Json body = minimal_body();
  body["tools"] = Json::parse(R"([{"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}},
      {"type": "function", "function": {"name": "get_time", "description": "Now"}}])");
  ChatRequest request = parse(body);
  EXPECT_EQ(request.tool_choice.mode, chat::ToolChoiceMode::kAuto);
  EXPECT_FALSE(request.skip_special_tokens);
  ASSERT_EQ(request.tools.size(), 2u);
  EXPECT_EQ(request.tools[0].name, "get_weather");
  ASSERT_EQ(request.tools[0].properties.size(), 1u);
  EXPECT_TRUE(request.tools[0].properties[0].is_string_only());
  ASSERT_EQ(request.template_tools.size(), 2u);
  EXPECT_EQ(request.template_tools[0].dump(),
            R"({"description":null,"name":"get_weather","parameters":{"type":"object",)"
            R"("properties":{"location":{"type":"string"}}},"strict":false})");
  EXPECT_EQ(offered_tools(request).size(), 2u);

  body["tool_choice"] = Json::parse(R"({"type": "function", "function": {"name": "get_time"}})");
  request = parse(body);
  EXPECT_EQ(request.tool_choice.mode, chat::ToolChoiceMode::kNamed);
  EXPECT_EQ(request.tool_choice.name, "get_time");
  ASSERT_EQ(request.template_tools.size(), 1u);
  EXPECT_EQ(request.template_tools[0]["name"], "get_time");
  EXPECT_EQ(request.template_tools[0]["description"], "Now");
  ASSERT_EQ(offered_tools(request).size(), 1u);
  EXPECT_EQ(offered_tools(request)[0].name, "get_time");

  body["tool_choice"] = "required";
  body["parallel_tool_calls"] = false;
  request = parse(body);
  EXPECT_EQ(request.tool_choice.mode, chat::ToolChoiceMode::kRequired);
  EXPECT_FALSE(request.parallel_tool_calls);
  EXPECT_EQ(request.template_tools.size(), 2u);

  body["tool_choice"] = "none";
  request = parse(body);
  EXPECT_TRUE(request.template_tools.is_null());
  EXPECT_TRUE(offered_tools(request).empty());
  EXPECT_TRUE(request.skip_special_tokens);
  // The tools are still validated and kept.
  EXPECT_EQ(request.tools.size(), 2u);
}

TEST(ChatRequest, AutoWithoutToolsOffersNone) {
  Json body = minimal_body();
  body["tools"] = Json::array();
  body["tool_choice"] = "auto";
  const ChatRequest request = parse(body);
  EXPECT_EQ(request.tool_choice.mode, chat::ToolChoiceMode::kNone);
  EXPECT_TRUE(request.template_tools.is_null());
  EXPECT_TRUE(request.skip_special_tokens);
}

TEST(ChatRequest, ScriptedOutputOnlyWhenAllowed) {
  Json body = minimal_body();
  body["_scripted_output"] = {"<think>", "a", "</think>"};
  EXPECT_FALSE(parse(body, false).scripted_output.has_value());
  const ChatRequest request = parse(body, true);
  ASSERT_TRUE(request.scripted_output.has_value());
  EXPECT_EQ(*request.scripted_output, (std::vector<std::string>{"<think>", "a", "</think>"}));
}

struct BadRequest {
  std::string body;
  std::string expected;  // A part of the message: the field and the fix.
};

TEST(ChatRequest, RejectsInvalidRequests) {
  const std::vector<BadRequest> table = {
      {R"([1, 2])", "must be a JSON object"},
      {R"({})", "messages is missing"},
      {R"({"messages": "Hi"})", "messages must be a list of message objects"},
      {R"({"messages": []})", "messages must contain at least one message"},
      {R"({"messages": ["Hi"]})", "messages[0] must be an object"},
      {R"({"messages": [{"content": "Hi"}]})", "messages[0].role is missing"},
      {R"({"messages": [{"role": "robot", "content": "Hi"}]})",
       "messages[0].role \"robot\" is not a valid role; use one of system, user"},
      {R"({"messages": [{"role": 3, "content": "Hi"}]})", "messages[0].role must be a string"},
      {R"({"messages": [{"role": "user"}]})", "messages[0].content is missing"},
      {R"({"messages": [{"role": "user", "content": 5}]})",
       "messages[0].content must be a string or a list of content parts"},
      {R"({"messages": [{"role": "user", "content": [{"type": "audio_url"}]}]})",
       "messages[0].content[0].type \"audio_url\" is not supported"},
      {R"({"messages": [{"role": "user", "content": [{"type": "text"}]}]})",
       "messages[0].content[0].text is missing"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       "messages[0].content[0].image_url is missing"},
      {R"({"messages": [{"role": "assistant", "tool_calls": [{"function":
          {"name": "f", "arguments": "{not json"}}]}]})",
       "messages[0].tool_calls[0].function.arguments must be a JSON object"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "temperature": "hot"})",
       "temperature must be a number, got \"hot\" (a string)"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "temperature": -0.5})",
       "temperature must be a non-negative finite number, got -0.5"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "top_p": 0})",
       "top_p must be in (0, 1], got 0"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "top_p": 1.5})",
       "top_p must be in (0, 1], got 1.5"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "top_k": 0})",
       "top_k must be -1 (disable) or at least 1, got 0"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "top_k": -2})",
       "top_k must be -1 (disable) or at least 1, got -2"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "top_k": 2.5})",
       "top_k must be an integer"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "min_p": 1.5})",
       "min_p must be in [0, 1], got 1.5"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "repetition_penalty": 0})",
       "repetition_penalty must be in (0, 2], got 0"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "frequency_penalty": 2.5})",
       "frequency_penalty must be in [-2, 2], got 2.5"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "presence_penalty": -3})",
       "presence_penalty must be in [-2, 2], got -3"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": -1})",
       "max_tokens must be at least 0, got -1"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": -1})",
       "max_completion_tokens must be at least 0, got -1"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": "ten"})",
       "max_tokens must be an integer"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "n": 2})",
       "n=2 is not supported yet; send n=1"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "logprobs": true})",
       "logprobs is not supported yet"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "stream": "yes"})",
       "stream must be true or false"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "stop": 5})",
       "stop must be a string or a list of strings"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "stop": ["a", 1]})",
       "stop[1] must be a string"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "stop_token_ids": [-1]})",
       "stop_token_ids contains -1"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "chat_template_kwargs": 1})",
       "chat_template_kwargs must be an object"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tool_choice": "required"})",
       "Tools cannot be empty if tool choice is set to required."},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tool_choice": "sometimes"})",
       "tool_choice \"sometimes\" is invalid; expected \"none\", \"auto\", \"required\""},
      {R"({"messages": [{"role": "user", "content": "Hi"}],
          "tool_choice": {"type": "function", "function": {"name": "f"}}})",
       "Tools cannot be empty if tool choice is set to a specific tool."},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function",
          "function": {"name": "f"}}, {"type": "function", "function": {"name": "f"}}]})",
       "Tool 1 function name 'f' is also the name of tool 0"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function",
          "function": {"name": "f", "parameters": {"type": "object",
          "properties": {"a": {"type": "text"}}}}}]})",
       "Tool 0 function has invalid 'parameters' schema: property 'a' has type \"text\""},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": {"name": "f"}})",
       "; expected an array of"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function",
          "function": {"name": "f"}}], "parallel_tool_calls": "no"})",
       "parallel_tool_calls must be true or false"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function",
          "function": {"name": "f"}}], "tool_choice": {"type": "function",
          "function": {"name": "g"}}})",
       "Tool 'g' not found in tools list."},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function"}]})",
       "Tool 0 has no 'function' object"},
      {R"({"messages": [{"role": "user", "content": "Hi"}],
          "response_format": {"type": "json_object"}})",
       "response_format type \"json_object\" is not supported yet"},
      {R"({"messages": [{"role": "user", "content": "Hi"}], "min_tokens": 5, "max_tokens": 2})",
       "min_tokens (5) must not exceed max_tokens (2)"},
  };
  for (const BadRequest& bad : table) {
    SCOPED_TRACE(bad.body);
    const std::string message = rejection(Json::parse(bad.body));
    EXPECT_NE(message.find(bad.expected), std::string::npos) << message;
  }
}

TEST(ChatRequest, ContextChecks) {
  ChatRequest request = parse(minimal_body());
  EXPECT_NO_THROW(check_context_fits(request, 100, 4096));
  try {
    check_context_fits(request, 4096, 4096);
    FAIL() << "a prompt filling the context was accepted";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(std::string(error.what()).find("The input (4096 tokens) is longer than the model's "
                                             "context length (4096 tokens)"),
              std::string::npos);
  }

  request.max_tokens = 4000;
  EXPECT_NO_THROW(check_context_fits(request, 96, 4096));
  try {
    check_context_fits(request, 100, 4096);
    FAIL() << "prompt + max_tokens past the context was accepted";
  } catch (const ApiError& error) {
    EXPECT_NE(std::string(error.what()).find("You requested a total of 4100 tokens: 100 tokens "
                                             "from the input messages and 4000 tokens"),
              std::string::npos);
  }

  request.max_tokens = 5000;
  try {
    check_context_fits(request, 10, 4096);
    FAIL() << "max_tokens past the context was accepted";
  } catch (const ApiError& error) {
    EXPECT_NE(std::string(error.what()).find("max_completion_tokens is too large: 5000"),
              std::string::npos);
  }
}

TEST(ChatRequest, SamplingDefaultsFromGenerationConfig) {
  model::GenerationConfig generation;
  generation.temperature = 0.8f;
  generation.top_p = 0.6f;
  generation.top_k = 2;
  generation.min_p = 0.1f;
  generation.repetition_penalty = 1.05f;

  ChatRequest request = parse(minimal_body());
  engine::SamplingParams params = to_sampling_params(request, generation, 100, 4096);
  EXPECT_FLOAT_EQ(params.temperature, 0.8f);
  EXPECT_FLOAT_EQ(params.top_p, 0.6f);
  EXPECT_EQ(params.top_k, 2);
  EXPECT_FLOAT_EQ(params.min_p, 0.1f);
  EXPECT_FLOAT_EQ(params.repetition_penalty, 1.05f);
  EXPECT_EQ(params.max_new_tokens, 3996);  // What fits the context.

  request.temperature = 0.0f;
  request.top_k = -1;
  request.max_tokens = 16;
  params = to_sampling_params(request, generation, 100, 4096);
  EXPECT_FLOAT_EQ(params.temperature, 0.0f);
  EXPECT_EQ(params.top_k, -1);
  EXPECT_EQ(params.max_new_tokens, 16);

  params = to_sampling_params(parse(minimal_body()), model::GenerationConfig{}, 10, 20);
  EXPECT_FLOAT_EQ(params.temperature, 1.0f);
  EXPECT_FLOAT_EQ(params.top_p, 1.0f);
  EXPECT_EQ(params.top_k, -1);
  EXPECT_FLOAT_EQ(params.min_p, 0.0f);
  EXPECT_FLOAT_EQ(params.repetition_penalty, 1.0f);
}

}  // namespace
}  // namespace glyph::server
