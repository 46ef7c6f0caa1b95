#include "server/prompt_builder.h"

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

}  // namespace
}  // namespace glyph::server
