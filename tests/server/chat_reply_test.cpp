#include "server/chat_reply.h"

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "chat/tool_call_parser.h"
#include "chat/tool_schema.h"
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

// A tool call put together from stream deltas.
struct StreamedCall {
  std::string id;
  std::string name;
  std::string arguments;
};

struct StreamResult {
  std::vector<Json> chunks;  // Parsed data: events, [DONE] excluded.
  bool ended_with_done = false;
  std::string reasoning;
  std::string content;
  std::vector<StreamedCall> calls;  // In index order.
};

// Adds one delta.tool_calls entry and checks SGLang's streaming shape. A
// call's first delta carries its id, name and empty arguments. Later deltas
// carry null id and name and the next argument text.
void add_tool_call_delta(const Json& entry, std::vector<StreamedCall>& calls) {
  EXPECT_EQ(entry["type"], "function") << entry;
  const auto index = entry["index"].get<size_t>();
  const Json& function = entry["function"];
  if (index == calls.size()) {
    EXPECT_TRUE(entry["id"].is_string()) << entry;
    EXPECT_TRUE(function["name"].is_string()) << entry;
    EXPECT_EQ(function["arguments"], "") << entry;
    calls.push_back({entry["id"].is_string() ? entry["id"].get<std::string>() : "",
                     function["name"].is_string() ? function["name"].get<std::string>() : "",
                     ""});
    return;
  }
  ASSERT_LT(index, calls.size()) << "a delta for a call that has not started: " << entry;
  EXPECT_EQ(index + 1, calls.size()) << "arguments for an earlier call: " << entry;
  EXPECT_TRUE(entry["id"].is_null()) << entry;
  EXPECT_TRUE(function["name"].is_null()) << entry;
  ASSERT_TRUE(function["arguments"].is_string()) << entry;
  EXPECT_FALSE(function["arguments"].get<std::string>().empty()) << entry;
  calls[index].arguments += function["arguments"].get<std::string>();
}

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
      if (delta["tool_calls"].is_array()) {
        EXPECT_EQ(delta["tool_calls"].size(), 1u) << delta;
        for (const Json& entry : delta["tool_calls"]) add_tool_call_delta(entry, result.calls);
      }
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


// Tool calls.

const std::regex kToolCallId("call_[0-9a-f]{24}");

// The tools of tool_call_cases.json, the model outputs and their expected parse.
struct ToolFixture {
  std::shared_ptr<const std::vector<chat::ToolSpec>> tools;
  struct Case {
    std::string name;
    std::string output;
    std::string content;
    std::vector<chat::ToolCall> calls;
  };
  std::vector<Case> cases;
};

const ToolFixture& tool_fixture() {
  static const ToolFixture fixture = [] {
    std::ifstream file(GLYPH_TEST_DATA_DIR "/fixtures/tool_call_cases.json");
    EXPECT_TRUE(file.good()) << "cannot open tool_call_cases.json";
    const Json json = Json::parse(file);
    ToolFixture result;
    result.tools = std::make_shared<const std::vector<chat::ToolSpec>>(
        chat::parse_tools(json["tools"]));
    for (const Json& entry : json["cases"]) {
      ToolFixture::Case c{entry["name"], entry["output"], entry["content"], {}};
      for (const Json& call : entry["calls"]) c.calls.push_back({call["name"], call["arguments"]});
      result.cases.push_back(std::move(c));
    }
    return result;
  }();
  return fixture;
}

ReplyOptions tool_options(bool separate_reasoning = true) {
  ReplyOptions options;
  options.separate_reasoning = separate_reasoning;
  options.tools = tool_fixture().tools;
  return options;
}

const std::string kWeatherCall =
    "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Beijing</arg_value>\n"
    "<arg_key>unit</arg_key>\n<arg_value>celsius</arg_value>\n</tool_call>";
const std::string kWeatherArguments = R"({"location": "Beijing", "unit": "celsius"})";

TEST(ChatReplyTools, NonStreamingShape) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"<think>Use the tool.</think>\n", kWeatherCall, "\n",
                                "<tool_call>get_time\n</tool_call>"},
                               FinishReason::kStop)),
      test_header(), tool_options());
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_EQ(choice["matched_stop"], nullptr);
  const Json& message = choice["message"];
  EXPECT_EQ(message["content"], nullptr);
  EXPECT_EQ(message["reasoning_content"], "Use the tool.");
  ASSERT_EQ(message["tool_calls"].size(), 2u);

  const Json& first = message["tool_calls"][0];
  const std::string id = first["id"];
  EXPECT_TRUE(std::regex_match(id, kToolCallId)) << id;
  Json expected = Json::parse(R"({"id": "", "index": 0, "type": "function",
      "function": {"name": "get_weather", "arguments": ""}})");
  expected["id"] = id;
  expected["function"]["arguments"] = kWeatherArguments;
  EXPECT_EQ(dump_json(first), dump_json(expected));

  const Json& second = message["tool_calls"][1];
  EXPECT_EQ(second["index"], 1);
  EXPECT_EQ(second["function"]["name"], "get_time");
  EXPECT_EQ(second["function"]["arguments"], "{}");
  EXPECT_NE(second["id"], first["id"]);
}

TEST(ChatReplyTools, TextAroundCallsIsContent) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"Let me check.\n", kWeatherCall, "\nDone."}, FinishReason::kStop)),
      test_header(), tool_options());
  const Json& message = response["choices"][0]["message"];
  EXPECT_EQ(message["content"], "Let me check.Done.");
  ASSERT_EQ(message["tool_calls"].size(), 1u);
  EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], kWeatherArguments);
}

TEST(ChatReplyTools, NoCallKeepsStopAndMatchedStop) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"Okay.\n<tool_call>delete_everything\n</tool_call>"},
                               FinishReason::kStop)),
      test_header(), tool_options());
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "stop");
  EXPECT_EQ(choice["matched_stop"], 151329);
  EXPECT_EQ(choice["message"]["tool_calls"], nullptr);
  // A call to a tool that is not offered stays in the content, raw.
  EXPECT_EQ(choice["message"]["content"], "Okay.\n<tool_call>delete_everything\n</tool_call>");
}

TEST(ChatReplyTools, CutOffCallKeepsLength) {
  const std::vector<std::string> pieces = {"<tool_call>get_weather\n<arg_key>location</arg_key>\n",
                                           "<arg_value>Bei"};
  const Json response =
      collect_reply(one_at_a_time(events_for(pieces, FinishReason::kLength)), test_header(),
                    tool_options());
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "length");
  EXPECT_EQ(choice["matched_stop"], nullptr);
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1u);
  EXPECT_EQ(choice["message"]["tool_calls"][0]["function"]["arguments"],
            R"({"location": "Bei"})");

  const StreamResult stream = run_stream(events_for(pieces, FinishReason::kLength),
                                         tool_options());
  EXPECT_EQ(stream.chunks.back()["choices"][0]["finish_reason"], "length");
  ASSERT_EQ(stream.calls.size(), 1u);
  EXPECT_EQ(stream.calls[0].arguments, R"({"location": "Bei"})");
}

TEST(ChatReplyTools, WithoutToolParsingCallsStayContent) {
  const Json response = collect_reply(
      one_at_a_time(events_for({kWeatherCall}, FinishReason::kStop)), test_header(),
      reasoning_options());
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["message"]["content"], kWeatherCall);
  EXPECT_EQ(choice["message"]["tool_calls"], nullptr);
  EXPECT_EQ(choice["finish_reason"], "stop");
}

TEST(ChatReplyTools, StreamShape) {
  const StreamResult stream =
      run_stream(events_for({"<think>Use the tool.</think>", "\n<tool_call>",
                             "get_weather\n<arg_key>location</arg_key>\n<arg_value>Bei",
                             "jing</arg_value>\n</tool_call>"},
                            FinishReason::kStop),
                 tool_options());
  ASSERT_TRUE(stream.ended_with_done);
  EXPECT_EQ(stream.reasoning, "Use the tool.");
  EXPECT_EQ(stream.content, "");
  ASSERT_EQ(stream.calls.size(), 1u);
  EXPECT_TRUE(std::regex_match(stream.calls[0].id, kToolCallId)) << stream.calls[0].id;
  EXPECT_EQ(stream.calls[0].name, "get_weather");
  EXPECT_EQ(stream.calls[0].arguments, R"({"location": "Beijing"})");

  // The name is sent before the value is complete, and the value streams.
  bool saw_partial_value = false;
  for (const Json& chunk : stream.chunks) {
    const Json& tool_calls = chunk["choices"][0]["delta"]["tool_calls"];
    if (!tool_calls.is_array()) continue;
    const Json& arguments = tool_calls[0]["function"]["arguments"];
    if (arguments.is_string() && arguments.get<std::string>().find("Bei") != std::string::npos &&
        arguments.get<std::string>().find("jing") == std::string::npos) {
      saw_partial_value = true;
    }
    EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  }
  EXPECT_TRUE(saw_partial_value);

  const Json& finish = stream.chunks.back()["choices"][0];
  EXPECT_EQ(finish["finish_reason"], "tool_calls");
  EXPECT_EQ(finish["matched_stop"], nullptr);
  EXPECT_EQ(finish["delta"]["tool_calls"], nullptr);
}

// Splits text at the given byte offsets, never inside a UTF-8 character.
std::vector<std::string> split_at(const std::string& text, const std::vector<size_t>& cuts) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t cut : cuts) {
    pieces.push_back(text.substr(start, cut - start));
    start = cut;
  }
  pieces.push_back(text.substr(start));
  return pieces;
}

bool is_character_start(const std::string& text, size_t offset) {
  return offset == text.size() || (static_cast<unsigned char>(text[offset]) & 0xC0) != 0x80;
}

// Every way to cut text into two pieces, and one piece per character.
std::vector<std::vector<std::string>> chunkings_of(const std::string& text) {
  std::vector<std::vector<std::string>> chunkings = {{text}};
  std::vector<size_t> every_character;
  for (size_t cut = 1; cut < text.size(); ++cut) {
    if (!is_character_start(text, cut)) continue;
    chunkings.push_back(split_at(text, {cut}));
    every_character.push_back(cut);
  }
  if (!every_character.empty()) chunkings.push_back(split_at(text, every_character));
  return chunkings;
}

// Checks a reply both ways against the expected content and calls.
void expect_reply(const std::vector<std::string>& pieces, const ReplyOptions& options,
                  FinishReason reason, const Json& expected_reasoning,
                  const std::string& expected_content,
                  const std::vector<chat::ToolCall>& expected_calls) {
  const char* expected_finish =
      expected_calls.empty() || reason != FinishReason::kStop ? engine::to_string(reason)
                                                              : "tool_calls";

  const Json response =
      collect_reply(one_at_a_time(events_for(pieces, reason)), test_header(), options);
  const Json& choice = response["choices"][0];
  EXPECT_EQ(choice["finish_reason"], expected_finish);
  EXPECT_EQ(choice["message"]["reasoning_content"], expected_reasoning);
  EXPECT_EQ(choice["message"]["content"], text_or_null(expected_content));
  const Json& tool_calls = choice["message"]["tool_calls"];
  if (expected_calls.empty()) {
    EXPECT_EQ(tool_calls, nullptr);
  } else {
    ASSERT_EQ(tool_calls.size(), expected_calls.size());
    for (size_t i = 0; i < expected_calls.size(); ++i) {
      EXPECT_EQ(tool_calls[i]["index"], i);
      EXPECT_EQ(tool_calls[i]["function"]["name"], expected_calls[i].name);
      EXPECT_EQ(tool_calls[i]["function"]["arguments"], expected_calls[i].arguments);
    }
  }

  const StreamResult stream = run_stream(events_for(pieces, reason), options);
  EXPECT_EQ(stream.chunks.back()["choices"][0]["finish_reason"], expected_finish);
  EXPECT_EQ(text_or_null(stream.reasoning), expected_reasoning);
  EXPECT_EQ(stream.content, expected_content);
  ASSERT_EQ(stream.calls.size(), expected_calls.size());
  for (size_t i = 0; i < expected_calls.size(); ++i) {
    EXPECT_EQ(stream.calls[i].name, expected_calls[i].name);
    EXPECT_EQ(stream.calls[i].arguments, expected_calls[i].arguments);
  }
}

// Every fixture output, cut into events at every point, streamed and not,
// with the reasoning parser on and off: the content and calls are the
// fixture's, and the streamed argument fragments join to the arguments.
TEST(ChatReplyTools, FixtureCasesAtEveryChunking) {
  for (const ToolFixture::Case& c : tool_fixture().cases) {
    for (bool separate_reasoning : {true, false}) {
      for (const std::vector<std::string>& pieces : chunkings_of(c.output)) {
        SCOPED_TRACE(c.name + (separate_reasoning ? " with" : " without") +
                     " the reasoning parser, " + std::to_string(pieces.size()) +
                     " pieces, first: " + pieces[0]);
        expect_reply(pieces, tool_options(separate_reasoning), FinishReason::kStop, nullptr,
                     c.content, c.calls);
        if (HasFatalFailure() || HasFailure()) return;
      }
    }
  }
}

// Reasoning comes first; a <tool_call> inside unfinished reasoning ends it.
TEST(ChatReplyTools, ReasoningThenCallsAtEveryChunking) {
  struct Case {
    std::string text;
    Json reasoning;
    std::string content;
    std::vector<chat::ToolCall> calls;
  };
  const std::vector<Case> cases = {
      {"<think>Need weather.</think>\n" + kWeatherCall, "Need weather.", "",
       {{"get_weather", kWeatherArguments}}},
      {"<think>Need weather.\n" + kWeatherCall, "Need weather.", "",
       {{"get_weather", kWeatherArguments}}},
      {"<think>Two.\n\n<tool_call>get_time\n</tool_call>\n" + kWeatherCall + "\nBye", "Two.",
       "Bye", {{"get_time", "{}"}, {"get_weather", kWeatherArguments}}},
      {"<think>Hmm <tool_c and more</think>Answer", "Hmm <tool_c and more", "Answer", {}},
      {"<tool_call>get_time\n</tool_call>", nullptr, "", {{"get_time", "{}"}}},
  };
  for (const Case& c : cases) {
    for (bool stream_reasoning : {true, false}) {
      ReplyOptions options = tool_options();
      options.stream_reasoning = stream_reasoning;
      for (const std::vector<std::string>& pieces : chunkings_of(c.text)) {
        SCOPED_TRACE(c.text + " in " + std::to_string(pieces.size()) +
                     " pieces, first: " + pieces[0]);
        expect_reply(pieces, options, FinishReason::kStop, c.reasoning, c.content, c.calls);
        if (HasFailure()) return;
      }
    }
  }
}

// Without tool parsing, a <tool_call> inside reasoning is reasoning text.
TEST(ChatReplyTools, ToolCallTagInReasoningWithoutTools) {
  const Json response = collect_reply(
      one_at_a_time(events_for({"<think>a <tool_call>get_time\n</tool_call></think>b"},
                               FinishReason::kStop)),
      test_header(), reasoning_options());
  const Json& message = response["choices"][0]["message"];
  EXPECT_EQ(message["reasoning_content"], "a <tool_call>get_time\n</tool_call>");
  EXPECT_EQ(message["content"], "b");
}

TEST(ChatReplyTools, ToolCallIdsAreUnique) {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    const std::string id = new_tool_call_id();
    EXPECT_TRUE(std::regex_match(id, kToolCallId)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 100u);
}

}  // namespace
}  // namespace glyph::server
