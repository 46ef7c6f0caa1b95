// Request bodies and reply parsing of glyph bench, per --backend.
#include "cli/bench_backend.h"

#include <vector>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

using nlohmann::json;

BenchRequest make_request(std::string prompt, int64_t prompt_len, int64_t output_len) {
  BenchRequest request;
  request.prompt = std::move(prompt);
  request.prompt_len = prompt_len;
  request.output_len = output_len;
  return request;
}

RequestSettings settings_for(BenchProtocol protocol, bool stream = true) {
  RequestSettings settings;
  settings.protocol = protocol;
  settings.model = "zai-org/Glyph";
  settings.stream = stream;
  return settings;
}

std::string native_chunk(const std::string& text, int completion_tokens) {
  return "data: " +
         json({{"text", text}, {"meta_info", {{"completion_tokens", completion_tokens}}}}).dump();
}

TEST(FindBackend, MapsNamesToProtocolsAndPorts) {
  EXPECT_EQ(find_backend("sglang")->protocol, BenchProtocol::kNativeGenerate);
  EXPECT_EQ(find_backend("sglang-oai")->protocol, BenchProtocol::kCompletions);
  EXPECT_EQ(find_backend("sglang-oai-chat")->protocol, BenchProtocol::kChatCompletions);
  EXPECT_EQ(find_backend("vllm")->protocol, BenchProtocol::kCompletions);
  EXPECT_EQ(find_backend("openai")->protocol, BenchProtocol::kCompletions);
  EXPECT_EQ(find_backend("openai-chat")->protocol, BenchProtocol::kChatCompletions);
  EXPECT_EQ(find_backend("sglang")->default_port, 30000);
  EXPECT_EQ(find_backend("vllm")->default_port, 8000);
  EXPECT_FALSE(find_backend("trt").has_value());
}

TEST(RequestPath, OneRoutePerProtocol) {
  EXPECT_EQ(request_path(BenchProtocol::kNativeGenerate), "/generate");
  EXPECT_EQ(request_path(BenchProtocol::kCompletions), "/v1/completions");
  EXPECT_EQ(request_path(BenchProtocol::kChatCompletions), "/v1/chat/completions");
}

TEST(BuildRequestBody, NativeMatchesBenchServing) {
  const json body = build_request_body(make_request("Hello", 1, 32),
                                       settings_for(BenchProtocol::kNativeGenerate));
  const json expected = {
      {"text", "Hello"},
      {"sampling_params", {{"temperature", 0.0}, {"max_new_tokens", 32}, {"ignore_eos", true}}},
      {"stream", true},
      {"lora_path", nullptr},
      {"return_logprob", false},
      {"logprob_start_len", -1},
  };
  EXPECT_EQ(body, expected);
}

TEST(BuildRequestBody, NativeSendsTokenIds) {
  BenchRequest request = make_request("", 3, 8);
  request.prompt_ids = std::vector<int32_t>{5, 6, 7};
  const json body = build_request_body(request, settings_for(BenchProtocol::kNativeGenerate));
  EXPECT_FALSE(body.contains("text"));
  EXPECT_EQ(body["input_ids"], json({5, 6, 7}));
}

TEST(BuildRequestBody, CompletionsMatchesBenchServing) {
  RequestSettings settings = settings_for(BenchProtocol::kCompletions, false);
  settings.ignore_eos = false;
  const json body = build_request_body(make_request("Hi", 1, 16), settings);
  const json expected = {
      {"model", "zai-org/Glyph"}, {"prompt", "Hi"},  {"temperature", 0.0}, {"best_of", 1},
      {"max_tokens", 16},         {"stream", false}, {"ignore_eos", false}};
  EXPECT_EQ(body, expected);
}

TEST(BuildRequestBody, ChatMatchesBenchServing) {
  const json body =
      build_request_body(make_request("Hi", 1, 16), settings_for(BenchProtocol::kChatCompletions));
  const json expected = {
      {"model", "zai-org/Glyph"}, {"messages", {{{"role", "user"}, {"content", "Hi"}}}},
      {"temperature", 0.0},       {"max_completion_tokens", 16},
      {"stream", true},           {"ignore_eos", true}};
  EXPECT_EQ(body, expected);
}

TEST(BuildRequestBody, ExtraBodyReplacesTopLevelKeys) {
  RequestSettings settings = settings_for(BenchProtocol::kNativeGenerate);
  settings.extra_body = {{"sampling_params", {{"top_p", 0.5}}}, {"rid", "x"}};
  const json body = build_request_body(make_request("Hi", 1, 16), settings);
  EXPECT_EQ(body["sampling_params"], json({{"top_p", 0.5}}));
  EXPECT_EQ(body["rid"], "x");
}

TEST(ResponseTimeline, NativeSplitsChunkGapsPerToken) {
  // Start at t = 10. The first chunk (1 token) sets TTFT = 0.5. The second
  // brings 3 tokens after 0.3 s: three gaps of 0.1. The third brings none and
  // is skipped without moving the clock, so the fourth's 2 tokens share the
  // 0.6 s since the second: two gaps of 0.3. [DONE] at 11.5 ends the latency.
  const BenchRequest request = make_request("p", 4, 6);
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate), request, 10.0);
  timeline.add_line(native_chunk("a", 1), 10.5);
  timeline.add_line("", 10.6);
  timeline.add_line(native_chunk("ab c", 4), 10.8);
  timeline.add_line(native_chunk("ab c", 4), 11.0);
  timeline.add_line(native_chunk("ab c d", 6), 11.4);
  timeline.add_line("data: [DONE]", 11.5);
  const RequestOutput output = timeline.finish();

  EXPECT_TRUE(output.success);
  EXPECT_DOUBLE_EQ(output.ttft, 0.5);
  ASSERT_EQ(output.itl.size(), 5u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(output.itl[i], 0.1, 1e-12) << "gap " << i;
  EXPECT_NEAR(output.itl[3], 0.3, 1e-12);
  EXPECT_NEAR(output.itl[4], 0.3, 1e-12);
  EXPECT_DOUBLE_EQ(output.latency, 1.5);
  EXPECT_EQ(output.output_len, 6);
  EXPECT_EQ(output.generated_text, "ab c d");
  EXPECT_EQ(output.prompt_len, 4);
}

TEST(ResponseTimeline, NativeMultiTokenFirstChunk) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate), make_request("p", 1, 8),
                            0.0);
  timeline.add_line(native_chunk("abc", 3), 0.2);
  timeline.add_line(native_chunk("abcd", 4), 0.3);
  const RequestOutput output = timeline.finish();
  EXPECT_DOUBLE_EQ(output.ttft, 0.2);
  ASSERT_EQ(output.itl.size(), 1u);
  EXPECT_NEAR(output.itl[0], 0.1, 1e-12);
}

TEST(ResponseTimeline, NativeNonStreamingBodyIsOneChunk) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate, false),
                            make_request("p", 1, 8), 1.0);
  timeline.add_body(R"({"text": "hello world", "meta_info": {"completion_tokens": 2}})", 1.75);
  const RequestOutput output = timeline.finish();
  EXPECT_DOUBLE_EQ(output.ttft, 0.75);
  EXPECT_DOUBLE_EQ(output.latency, 0.75);
  EXPECT_TRUE(output.itl.empty());
  EXPECT_EQ(output.output_len, 2);
}

TEST(ResponseTimeline, NativeChunkWithoutTokenCountFails) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate), make_request("p", 1, 8),
                            0.0);
  EXPECT_THROW(timeline.add_line(R"(data: {"text": "a"})", 0.1), std::runtime_error);
}

TEST(ResponseTimeline, ErrorChunkFailsTheRequest) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate), make_request("p", 1, 8),
                            0.0);
  timeline.add_line(native_chunk("a", 1), 0.1);
  EXPECT_THROW(timeline.add_line(R"(data: {"error": {"message": "out of memory"}})", 0.2),
               std::runtime_error);
}

TEST(ResponseTimeline, MalformedLineFails) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kCompletions), make_request("p", 1, 8),
                            0.0);
  EXPECT_THROW(timeline.add_line("data: {not json", 0.1), std::runtime_error);
}

TEST(ResponseTimeline, EmptyReplyFails) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kNativeGenerate), make_request("p", 1, 8),
                            0.0);
  timeline.add_line(": keep-alive", 0.1);
  EXPECT_THROW(timeline.finish(), std::runtime_error);
}

TEST(ResponseTimeline, CompletionsCountsOneGapPerTextChunk) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kCompletions), make_request("p", 1, 16),
                            0.0);
  timeline.add_line(R"(data: {"choices": [{"text": "He"}]})", 0.25);
  timeline.add_line(R"(data: {"choices": [{"text": ""}]})", 0.3);
  timeline.add_line(R"(data: {"choices": [{"text": "llo"}]})", 0.5);
  timeline.add_line(R"(data: {"choices": [{"text": "!"}], "usage": {"completion_tokens": 3}})",
                    1.0);
  timeline.add_line("data: [DONE]", 1.25);
  const RequestOutput output = timeline.finish();
  EXPECT_DOUBLE_EQ(output.ttft, 0.25);
  EXPECT_EQ(output.itl, (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(output.text_chunks, (std::vector<std::string>{"llo", "!"}));
  EXPECT_EQ(output.generated_text, "Hello!");
  EXPECT_EQ(output.output_len, 3);
  EXPECT_DOUBLE_EQ(output.latency, 1.25);
}

TEST(ResponseTimeline, CompletionsWithoutUsageKeepsRequestedLength) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kCompletions), make_request("p", 1, 16),
                            0.0);
  timeline.add_line(R"(data: {"choices": [{"text": "x"}]})", 0.1);
  EXPECT_EQ(timeline.finish().output_len, 16);
}

TEST(ResponseTimeline, ChatIgnoresReasoningDeltas) {
  // Reasoning text arrives first, and TTFT waits for the first content delta.
  ResponseTimeline timeline(settings_for(BenchProtocol::kChatCompletions), make_request("p", 1, 16),
                            0.0);
  timeline.add_line(R"(data: {"choices": [{"delta": {"role": "assistant", "content": null}}]})",
                    0.1);
  timeline.add_line(R"(data: {"choices": [{"delta": {"reasoning_content": "hmm"}}]})", 0.2);
  timeline.add_line(R"(data: {"choices": [{"delta": {"content": "Yes"}}]})", 0.5);
  timeline.add_line(R"(data: {"choices": [{"delta": {"content": "."}}]})", 0.75);
  timeline.add_line(R"(data: {"choices": [], "usage": {"completion_tokens": 7}})", 0.8);
  const RequestOutput output = timeline.finish();
  EXPECT_DOUBLE_EQ(output.ttft, 0.5);
  EXPECT_EQ(output.itl, (std::vector<double>{0.25}));
  EXPECT_EQ(output.generated_text, "Yes.");
  EXPECT_EQ(output.output_len, 7);
  EXPECT_DOUBLE_EQ(output.latency, 0.8);
}

TEST(ResponseTimeline, ChatNonStreamingTtftIsLatency) {
  ResponseTimeline timeline(settings_for(BenchProtocol::kChatCompletions, false),
                            make_request("p", 1, 16), 2.0);
  timeline.add_body(
      R"({"choices": [{"message": {"content": "Hi there"}}], "usage": {"completion_tokens": 2}})",
      2.5);
  const RequestOutput output = timeline.finish();
  EXPECT_DOUBLE_EQ(output.ttft, 0.5);
  EXPECT_DOUBLE_EQ(output.latency, 0.5);
  EXPECT_EQ(output.generated_text, "Hi there");
  EXPECT_EQ(output.output_len, 2);
}

}  // namespace
}  // namespace glyph::cli
