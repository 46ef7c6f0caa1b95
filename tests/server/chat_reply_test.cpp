#include "server/chat_reply.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/api_error.h"

namespace glyph::server {
namespace {

using Json = nlohmann::ordered_json;
using engine::FinishReason;
using engine::OutputEvent;

ResponseHeader test_header() { return {"chatcmpl-test", 1700000000, "zai-org/Glyph"}; }

// Engine events carrying the given text pieces; the last one finishes.
std::vector<OutputEvent> events_for(const std::vector<std::string>& pieces, FinishReason reason,
                                    int32_t matched_token = 151329) {
  std::vector<OutputEvent> events;
  int32_t generated = 0;
  for (const std::string& piece : pieces) {
    OutputEvent event;
    event.text = piece;
    event.prompt_tokens = 12;
    event.completion_tokens = ++generated;
    events.push_back(event);
  }
  if (events.empty()) events.emplace_back();
  events.back().finish_reason = reason;
  if (reason == FinishReason::kStop) events.back().matched_stop = matched_token;
  return events;
}

// Hands out one event per call, as a channel does when the reader keeps up.
EventSource one_at_a_time(std::vector<OutputEvent> events) {
  auto shared = std::make_shared<std::vector<OutputEvent>>(std::move(events));
  auto next = std::make_shared<size_t>(0);
  return [shared, next] {
    if (*next >= shared->size()) throw std::logic_error("read past the finishing event");
    return std::vector<OutputEvent>{(*shared)[(*next)++]};
  };
}

struct StreamResult {
  std::vector<Json> chunks;  // Parsed data: events, [DONE] excluded.
  bool ended_with_done = false;
  std::string reasoning;
  std::string content;
};

StreamResult run_stream(const std::vector<OutputEvent>& events, const ReplyOptions& options) {
  std::string wire;
  const bool finished = stream_reply(one_at_a_time(events), test_header(), options,
                                     [&](const std::string& piece) {
                                       wire += piece;
                                       return true;
                                     });
  EXPECT_TRUE(finished);

  StreamResult result;
  size_t start = 0;
  while (start < wire.size()) {
    const size_t end = wire.find("\n\n", start);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << wire.substr(start);
    if (end == std::string::npos) break;
    const std::string event = wire.substr(start, end - start);
    start = end + 2;
    EXPECT_EQ(event.rfind("data: ", 0), 0u) << event;
    const std::string data = event.substr(6);
    if (data == "[DONE]") {
      result.ended_with_done = true;
      EXPECT_EQ(start, wire.size()) << "events after [DONE]";
      continue;
    }
    Json chunk = Json::parse(data);
    if (!chunk["choices"].empty()) {
      const Json& delta = chunk["choices"][0]["delta"];
      if (delta["reasoning_content"].is_string()) result.reasoning += delta["reasoning_content"];
      if (delta["content"].is_string()) result.content += delta["content"];
    }
    result.chunks.push_back(std::move(chunk));
  }
  return result;
}

ReplyOptions reasoning_options() {
  ReplyOptions options;
  options.separate_reasoning = true;
  return options;
}

TEST(ChatReply, NonStreamingShape) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"<think>Think.</think>", "Answer."}, FinishReason::kStop)),
      test_header(), reasoning_options());
  const Json expected = Json::parse(R"({
    "id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000,
    "model": "zai-org/Glyph",
    "choices": [{"index": 0,
                 "message": {"role": "assistant", "content": "Answer.",
                             "reasoning_content": "Think.", "tool_calls": null},
                 "logprobs": null, "finish_reason": "stop", "matched_stop": 151329}],
    "usage": {"prompt_tokens": 12, "total_tokens": 14, "completion_tokens": 2,
              "prompt_tokens_details": null}})");
  EXPECT_EQ(response, expected);
  // Key order as SGLang's pydantic models write them.
  EXPECT_EQ(dump_json(response), dump_json(expected));
}

TEST(ChatReply, NonStreamingCacheReportAndStopString) {
  std::vector<OutputEvent> events = events_for({"Paris"}, FinishReason::kStop);
  events.back().matched_stop = std::string("\n\n");
  events.back().cached_tokens = 8;
  ReplyOptions options;
  options.cache_report = true;
  const Json response = collect_reply(one_at_a_time(events), test_header(), options);
  EXPECT_EQ(response["choices"][0]["matched_stop"], "\n\n");
  EXPECT_EQ(response["choices"][0]["message"]["reasoning_content"], nullptr);
  EXPECT_EQ(response["usage"]["prompt_tokens_details"], Json::parse(R"({"cached_tokens": 8})"));
}

TEST(ChatReply, WithoutParserReasoningStaysInContent) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"<think>a</think>b"}, FinishReason::kLength)), test_header(),
      ReplyOptions{});
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["message"]["content"], "<think>a</think>b");
  EXPECT_EQ(choice["message"]["reasoning_content"], nullptr);
  EXPECT_EQ(choice["finish_reason"], "length");
  EXPECT_EQ(choice["matched_stop"], nullptr);
}

TEST(ChatReply, StreamShape) {
  ReplyOptions options = reasoning_options();
  options.include_usage = true;
  const StreamResult stream =
      run_stream(events_for({"<think>", "Think.", "</think>", "Answer."}, FinishReason::kStop),
                 options);
  ASSERT_TRUE(stream.ended_with_done);
  ASSERT_GE(stream.chunks.size(), 4u);

  const Json expected_first = Json::parse(R"({
    "id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1700000000,
    "model": "zai-org/Glyph",
    "choices": [{"index": 0,
                 "delta": {"role": "assistant", "content": "", "reasoning_content": null,
                           "tool_calls": null},
                 "logprobs": null, "finish_reason": null, "matched_stop": null}],
    "usage": null})");
  EXPECT_EQ(stream.chunks.front(), expected_first);

  const Json& finish = stream.chunks[stream.chunks.size() - 2];
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(finish["choices"][0]["matched_stop"], 151329);
  EXPECT_EQ(finish["choices"][0]["delta"],
            Json::parse(R"({"role": null, "content": null, "reasoning_content": null,
                            "tool_calls": null})"));

  const Json& usage = stream.chunks.back();
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 4);
  EXPECT_EQ(usage["usage"]["total_tokens"], 16);

  EXPECT_EQ(stream.reasoning, "Think.");
  EXPECT_EQ(stream.content, "Answer.");
  // Every chunk in between carries exactly one of reasoning or content.
  for (size_t i = 1; i + 2 < stream.chunks.size(); ++i) {
    const Json& delta = stream.chunks[i]["choices"][0]["delta"];
    EXPECT_NE(delta["reasoning_content"].is_string(), delta["content"].is_string()) << delta;
    EXPECT_TRUE(stream.chunks[i]["usage"].is_null());
  }
}

TEST(ChatReply, StreamWithoutUsageEndsAfterFinishChunk) {
  const StreamResult stream = run_stream(events_for({"Hi"}, FinishReason::kLength), ReplyOptions{});
  ASSERT_TRUE(stream.ended_with_done);
  EXPECT_EQ(stream.chunks.back()["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(stream.content, "Hi");
}

TEST(ChatReply, ContinuousUsageInEveryChunk) {
  ReplyOptions options;
  options.continuous_usage_stats = true;
  const StreamResult stream = run_stream(events_for({"a", "b"}, FinishReason::kStop), options);
  for (const Json& chunk : stream.chunks) EXPECT_TRUE(chunk["usage"].is_object()) << chunk;
}

// The same replies, cut into events at every character, give the same split
// streamed and not streamed; the unclosed-</think> rule depends on the finish reason.
TEST(ChatReply, StreamMatchesNonStreamForEveryChunking) {
  struct Case {
    std::string text;
    FinishReason reason;
    Json reasoning;
    Json content;
  };
  const std::vector<Case> cases = {
      {"<think>\nStep.\n</think>\n\n36", FinishReason::kStop, "Step.", "36"},
      {"<think>Unclosed answer", FinishReason::kStop, "Unclosed answer", "Unclosed answer"},
      {"<think>Cut off", FinishReason::kLength, "Cut off", nullptr},
      {"No reasoning", FinishReason::kStop, nullptr, "No reasoning"},
  };
  for (const Case& c : cases) {
    for (bool stream_reasoning : {true, false}) {
      ReplyOptions options = reasoning_options();
      options.stream_reasoning = stream_reasoning;
      std::vector<std::vector<std::string>> chunkings = {{c.text}};
      for (size_t split = 1; split < c.text.size(); ++split) {
        chunkings.push_back({c.text.substr(0, split), c.text.substr(split)});
      }
      for (const auto& pieces : chunkings) {
        SCOPED_TRACE(c.text + " split after " + pieces[0]);
        const Json response =
            collect_reply(one_at_a_time(events_for(pieces, c.reason)), test_header(), options);
        const Json& message = response["choices"][0]["message"];
        EXPECT_EQ(message["reasoning_content"], c.reasoning);
        EXPECT_EQ(message["content"], c.content);

        const StreamResult stream = run_stream(events_for(pieces, c.reason), options);
        EXPECT_EQ(text_or_null(stream.reasoning), c.reasoning);
        EXPECT_EQ(text_or_null(stream.content), c.content);
      }
    }
  }
}

TEST(ChatReply, UnclosedStopSendsContentBeforeFinishChunk) {
  const StreamResult stream =
      run_stream(events_for({"<think>", "42"}, FinishReason::kStop), reasoning_options());
  ASSERT_GE(stream.chunks.size(), 3u);
  const Json& before_finish = stream.chunks[stream.chunks.size() - 2];
  EXPECT_EQ(before_finish["choices"][0]["delta"]["content"], "42");
  EXPECT_EQ(stream.chunks.back()["choices"][0]["finish_reason"], "stop");
}

TEST(ChatReply, EngineErrorNonStreamingIs500) {
  std::vector<OutputEvent> events(1);
  events[0].finish_reason = FinishReason::kAbort;
  events[0].error = "the KV cache is full";
  try {
    collect_reply(one_at_a_time(events), test_header(), ReplyOptions{});
    FAIL() << "an engine error gave a response";
  } catch (const ApiError& error) {
    EXPECT_EQ(error.status(), 500);
    EXPECT_EQ(std::string(error.what()), "Internal server error: the KV cache is full");
  }
}

TEST(ChatReply, EngineErrorStreamingIsErrorEvent) {
  std::vector<OutputEvent> events(1);
  events[0].finish_reason = FinishReason::kAbort;
  events[0].error = "the KV cache is full";
  const StreamResult stream = run_stream(events, ReplyOptions{});
  EXPECT_TRUE(stream.ended_with_done);
  const Json& error = stream.chunks.back()["error"];
  EXPECT_EQ(error["message"], "Internal server error: the KV cache is full");
  EXPECT_EQ(error["code"], 500);
}

TEST(ChatReply, StopsWhenClientLeaves) {
  int writes = 0;
  const bool finished = stream_reply(
      one_at_a_time(events_for({"a", "b", "c"}, FinishReason::kStop)), test_header(),
      ReplyOptions{}, [&](const std::string&) { return ++writes < 2; });
  EXPECT_FALSE(finished);
  EXPECT_EQ(writes, 2);
}

TEST(ChatReply, SseFraming) {
  EXPECT_EQ(sse_event(Json::parse(R"({"a": "é\n"})")), "data: {\"a\":\"é\\n\"}\n\n");
  EXPECT_EQ(sse_done(), "data: [DONE]\n\n");
  const std::string id = new_completion_id();
  EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(id.size(), 9u + 32u);
  EXPECT_NE(id, new_completion_id());
}

}  // namespace
}  // namespace glyph::server
