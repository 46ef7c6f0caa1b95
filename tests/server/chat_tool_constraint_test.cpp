#include "server/chat_tool_constraint.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chat/tool_call_parser.h"
#include "server/api_error.h"

namespace glyph::server {
namespace {

using Json = nlohmann::ordered_json;

// Token ids of the tiny model's GLM vocabulary (tokenizer.json's added tokens).
constexpr int32_t kEndOfText = 151329;
constexpr int32_t kUser = 151336;
constexpr int32_t kThinkStart = 151350;
constexpr int32_t kThinkEnd = 151351;
constexpr int32_t kToolCallStart = 151352;
const std::vector<int32_t> kEosTokens = {151329, 151336, 151338};  // generation_config.json

const text::Tokenizer& tiny_tokenizer() {
  static const std::unique_ptr<text::Tokenizer> tokenizer =
      text::Tokenizer::load(GLYPH_TEST_DATA_DIR "/tiny-glyph/tokenizer.json");
  return *tokenizer;
}

std::shared_ptr<const chat::ToolGrammarVocabulary> tiny_vocabulary() {
  static const std::shared_ptr<const chat::ToolGrammarVocabulary> vocabulary =
      build_tool_grammar_vocabulary(tiny_tokenizer(), kEosTokens);
  return vocabulary;
}

ChatRequest request_with(const std::string& extra_fields) {
  const Json body = Json::parse(R"({"messages": [{"role": "user", "content": "Hi"}],
      "tools": [{"type": "function", "function": {"name": "set_unit", "parameters": {
        "type": "object", "properties": {
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
          "exact": {"type": "boolean"}}, "required": ["unit", "exact"]}}},
        {"type": "function", "function": {"name": "get_time"}}])" +
                                extra_fields + "}");
  return parse_chat_request(body, tiny_tokenizer().vocab_size(), false);
}

std::vector<uint8_t> allowed_now(TokenConstraint& constraint) {
  std::vector<uint8_t> allowed(static_cast<size_t>(tiny_tokenizer().vocab_size()), 0);
  constraint.fill_allowed(allowed);
  return allowed;
}

TEST(ToolGrammarVocabulary, LeavesOutSpecialTokens) {
  const auto vocabulary = tiny_vocabulary();
  EXPECT_EQ(vocabulary->size(), tiny_tokenizer().vocab_size());
  EXPECT_EQ(vocabulary->token_bytes(kUser), "");
  EXPECT_EQ(vocabulary->token_bytes(kEndOfText), "");
  // <think> is an added token but not a special one: its text stays.
  EXPECT_EQ(vocabulary->token_bytes(kThinkStart), "<think>");
  const int32_t hello = tiny_tokenizer().encode("Hello")[0];
  EXPECT_EQ(vocabulary->token_bytes(hello), "Hello");
  EXPECT_EQ(vocabulary->markup_tags().tool_call_start.token, kToolCallStart);
  EXPECT_EQ(vocabulary->markup_tags().arg_value_end.token,
            tiny_tokenizer().token_to_id("</arg_value>").value());
  EXPECT_EQ(vocabulary->eos_token_ids(), kEosTokens);
}

TEST(ToolCallConstraint, OnlyForRequiredOrNamed) {
  EXPECT_EQ(make_tool_call_constraint(request_with(""), tiny_vocabulary(), -1), nullptr);
  EXPECT_EQ(make_tool_call_constraint(request_with(R"(, "tool_choice": "none")"),
                                      tiny_vocabulary(), -1),
            nullptr);
  EXPECT_NE(make_tool_call_constraint(request_with(R"(, "tool_choice": "required")"),
                                      tiny_vocabulary(), -1),
            nullptr);
  EXPECT_NE(make_tool_call_constraint(
                request_with(R"(, "tool_choice": {"type": "function",
                                  "function": {"name": "get_time"}})"),
                tiny_vocabulary(), -1),
            nullptr);
}

TEST(ToolCallConstraint, ReplyStartsWithCall) {
  auto constraint = make_tool_call_constraint(request_with(R"(, "tool_choice": "required")"),
                                              tiny_vocabulary(), -1);
  const std::vector<uint8_t> allowed = allowed_now(*constraint);
  EXPECT_EQ(allowed[kToolCallStart], 1);
  EXPECT_EQ(allowed[tiny_tokenizer().encode("Hello")[0]], 0);
  EXPECT_EQ(allowed[kThinkStart], 0);
  for (int32_t eos : kEosTokens) EXPECT_EQ(allowed[static_cast<size_t>(eos)], 0) << eos;
}

TEST(ToolCallConstraint, ReasoningFirstAllowsEveryTokenUntilThinkEnd) {
  auto constraint = make_tool_call_constraint(request_with(R"(, "tool_choice": "required")"),
                                              tiny_vocabulary(), kThinkEnd);
  std::vector<uint8_t> allowed = allowed_now(*constraint);
  EXPECT_EQ(std::count(allowed.begin(), allowed.end(), 1),
            static_cast<std::ptrdiff_t>(allowed.size()));

  constraint->accept(tiny_tokenizer().encode("Hello")[0]);
  constraint->accept(kThinkEnd);
  allowed = allowed_now(*constraint);
  EXPECT_EQ(allowed[kToolCallStart], 1);
  EXPECT_EQ(allowed[tiny_tokenizer().encode("Hello")[0]], 0);
}

// Picks allowed tokens at random, as a random model would, and reads the
// reply back with the tool-call parser: it is one call of an offered tool
// with valid arguments.
TEST(ToolCallConstraint, RandomRepliesParseAsCalls) {
  const ChatRequest request =
      request_with(R"(, "tool_choice": "required", "parallel_tool_calls": false)");
  const std::vector<chat::ToolSpec> tools = offered_tools(request);
  std::mt19937 random(7);
  for (int reply = 0; reply < 20; ++reply) {
    auto constraint = make_tool_call_constraint(request, tiny_vocabulary(), -1);
    std::vector<int32_t> tokens;
    while (!constraint->is_complete() && tokens.size() < 200) {
      const std::vector<uint8_t> allowed = allowed_now(*constraint);
      std::vector<int32_t> choices;
      for (size_t id = 0; id < allowed.size(); ++id) {
        if (allowed[id]) choices.push_back(static_cast<int32_t>(id));
      }
      ASSERT_FALSE(choices.empty());
      const int32_t token = choices[random() % choices.size()];
      constraint->accept(token);
      tokens.push_back(token);
    }
    ASSERT_TRUE(constraint->is_complete()) << "reply " << reply << " did not finish";

    const std::string text = tiny_tokenizer().decode(tokens, /*skip_special_tokens=*/false);
    SCOPED_TRACE(text);
    const chat::ToolCallParseResult result = chat::parse_tool_calls(text, tools);
    EXPECT_EQ(result.content, "");
    ASSERT_EQ(result.calls.size(), 1u);
    const Json arguments = Json::parse(result.calls[0].arguments);
    if (result.calls[0].name == "get_time") {
      EXPECT_EQ(arguments, Json::object());
    } else {
      ASSERT_EQ(result.calls[0].name, "set_unit");
      EXPECT_TRUE(arguments["unit"] == "celsius" || arguments["unit"] == "fahrenheit");
      EXPECT_TRUE(arguments["exact"].is_boolean());
    }
  }
}

TEST(ToolCallConstraint, UnwritableToolNameIs400) {
  const Json body = Json::parse(R"({"messages": [{"role": "user", "content": "Hi"}],
      "tools": [{"type": "function", "function": {"name": "get\ntime"}}],
      "tool_choice": "required"})");
  const ChatRequest request = parse_chat_request(body, tiny_tokenizer().vocab_size(), false);
  try {
    make_tool_call_constraint(request, tiny_vocabulary(), -1);
    FAIL() << "a grammar for an unwritable name was built";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_NE(std::string(error.what()).find("no tool name can be written"), std::string::npos);
  }
}

TEST(ToolCallConstraint, WhenReplyStartsWithReasoning) {
  const ChatRequest plain = request_with("");
  EXPECT_FALSE(tool_call_reply_starts_with_reasoning(plain, "<|assistant|>\n"));
  EXPECT_FALSE(tool_call_reply_starts_with_reasoning(plain, "<|assistant|>\n<think></think>\n"));
  EXPECT_TRUE(tool_call_reply_starts_with_reasoning(plain, "<|assistant|>\n<think>\n"));

  const ChatRequest thinking = request_with(R"(, "chat_template_kwargs": {"enable_thinking": true})");
  EXPECT_TRUE(tool_call_reply_starts_with_reasoning(thinking, "<|assistant|>\n"));
  const ChatRequest not_thinking =
      request_with(R"(, "chat_template_kwargs": {"enable_thinking": false})");
  EXPECT_FALSE(tool_call_reply_starts_with_reasoning(not_thinking,
                                                     "<|assistant|>\n<think></think>\n"));
}

}  // namespace
}  // namespace glyph::server
