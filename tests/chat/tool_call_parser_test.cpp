#include "chat/tool_call_parser.h"

#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/tool_schema.h"

namespace glyph::chat {
namespace {

using Json = nlohmann::ordered_json;

struct FixtureCase {
  std::string name;
  std::string output;
  ToolCallParseResult expected;
};

struct Fixture {
  std::vector<ToolSpec> tools;
  std::vector<FixtureCase> cases;
};

const Fixture& fixture() {
  static const Fixture loaded = [] {
    std::ifstream file(GLYPH_TEST_DATA_DIR "/fixtures/tool_call_cases.json");
    EXPECT_TRUE(file.good()) << "cannot open tool_call_cases.json";
    const Json json = Json::parse(file);
    Fixture result;
    result.tools = parse_tools(json["tools"]);
    for (const Json& item : json["cases"]) {
      FixtureCase entry;
      entry.name = item["name"].get<std::string>();
      entry.output = item["output"].get<std::string>();
      entry.expected.content = item["content"].get<std::string>();
      for (const Json& call : item["calls"]) {
        entry.expected.calls.push_back(
            {call["name"].get<std::string>(), call["arguments"].get<std::string>()});
      }
      result.cases.push_back(std::move(entry));
    }
    return result;
  }();
  return loaded;
}

// What a streaming client rebuilds from the events, plus the checks every
// event sequence must pass: indexes 0, 1, ... in order, each call started
// exactly once before its argument fragments.
struct StreamOutcome {
  ToolCallParseResult joined;
  std::vector<std::string> errors;
};

void apply_events(const std::vector<ToolCallEvent>& events, StreamOutcome& outcome) {
  for (const ToolCallEvent& event : events) {
    switch (event.kind) {
      case ToolCallEventKind::kContent:
        if (event.index != -1) outcome.errors.push_back("content event with a call index");
        if (event.text.empty()) outcome.errors.push_back("empty content event");
        outcome.joined.content += event.text;
        break;
      case ToolCallEventKind::kCallStarted:
        if (event.index != static_cast<int32_t>(outcome.joined.calls.size())) {
          outcome.errors.push_back("call started with index " + std::to_string(event.index));
        }
        outcome.joined.calls.push_back({event.text, ""});
        break;
      case ToolCallEventKind::kArguments:
        if (event.index < 0 || event.index >= static_cast<int32_t>(outcome.joined.calls.size())) {
          outcome.errors.push_back("arguments for unstarted call " + std::to_string(event.index));
          break;
        }
        if (event.index != static_cast<int32_t>(outcome.joined.calls.size()) - 1) {
          outcome.errors.push_back("arguments for an earlier call " + std::to_string(event.index));
        }
        outcome.joined.calls[static_cast<size_t>(event.index)].arguments += event.text;
        break;
    }
  }
}

StreamOutcome stream_pieces(const std::string& text, const std::vector<size_t>& cuts,
                            const std::vector<ToolSpec>& tools) {
  ToolCallParser parser(tools);
  StreamOutcome outcome;
  size_t start = 0;
  for (size_t cut : cuts) {
    apply_events(parser.feed(std::string_view(text).substr(start, cut - start)), outcome);
    start = cut;
  }
  apply_events(parser.feed(std::string_view(text).substr(start)), outcome);
  apply_events(parser.finish(), outcome);
  if (parser.call_count() != static_cast<int32_t>(outcome.joined.calls.size())) {
    outcome.errors.push_back("call_count() disagrees with the events");
  }
  return outcome;
}

std::string describe(const ToolCallParseResult& result) {
  Json json;
  json["content"] = result.content;
  json["calls"] = Json::array();
  for (const ToolCall& call : result.calls) {
    json["calls"].push_back({{"name", call.name}, {"arguments", call.arguments}});
  }
  return json.dump();
}

bool same(const ToolCallParseResult& a, const ToolCallParseResult& b) {
  if (a.content != b.content || a.calls.size() != b.calls.size()) return false;
  for (size_t i = 0; i < a.calls.size(); ++i) {
    if (a.calls[i].name != b.calls[i].name || a.calls[i].arguments != b.calls[i].arguments) {
      return false;
    }
  }
  return true;
}

TEST(ToolCallFixture, HasEnoughCases) { EXPECT_GE(fixture().cases.size(), 40u); }

TEST(ToolCallFixture, NonStreamingMatchesExpected) {
  for (const FixtureCase& entry : fixture().cases) {
    const ToolCallParseResult result = parse_tool_calls(entry.output, fixture().tools);
    EXPECT_EQ(describe(result), describe(entry.expected)) << "case " << entry.name;
  }
}

TEST(ToolCallFixture, EveryPieceSizeMatchesNonStreaming) {
  for (const FixtureCase& entry : fixture().cases) {
    const std::string& text = entry.output;
    for (size_t size = 1; size <= std::max<size_t>(text.size(), 1); ++size) {
      std::vector<size_t> cuts;
      for (size_t cut = size; cut < text.size(); cut += size) cuts.push_back(cut);
      const StreamOutcome outcome = stream_pieces(text, cuts, fixture().tools);
      ASSERT_TRUE(outcome.errors.empty())
          << "case " << entry.name << ", piece size " << size << ": " << outcome.errors[0];
      ASSERT_TRUE(same(outcome.joined, entry.expected))
          << "case " << entry.name << ", piece size " << size
          << "\n  streamed: " << describe(outcome.joined)
          << "\n  expected: " << describe(entry.expected);
    }
  }
}

TEST(ToolCallFixture, EverySplitPointMatchesNonStreaming) {
  for (const FixtureCase& entry : fixture().cases) {
    const std::string& text = entry.output;
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      const StreamOutcome outcome = stream_pieces(text, {cut}, fixture().tools);
      ASSERT_TRUE(outcome.errors.empty())
          << "case " << entry.name << ", split at " << cut << ": " << outcome.errors[0];
      ASSERT_TRUE(same(outcome.joined, entry.expected))
          << "case " << entry.name << ", split at " << cut
          << "\n  streamed: " << describe(outcome.joined)
          << "\n  expected: " << describe(entry.expected);
    }
  }
}

TEST(ToolCallFixture, RandomSplitsMatchNonStreaming) {
  std::mt19937 random(20251204);
  for (const FixtureCase& entry : fixture().cases) {
    const std::string& text = entry.output;
    for (int trial = 0; trial < 50 && !text.empty(); ++trial) {
      std::vector<size_t> cuts;
      std::bernoulli_distribution cut_here(0.3);
      for (size_t cut = 1; cut < text.size(); ++cut) {
        if (cut_here(random)) cuts.push_back(cut);
      }
      const StreamOutcome outcome = stream_pieces(text, cuts, fixture().tools);
      ASSERT_TRUE(outcome.errors.empty()) << "case " << entry.name << ": " << outcome.errors[0];
      ASSERT_TRUE(same(outcome.joined, entry.expected))
          << "case " << entry.name << ", trial " << trial
          << "\n  streamed: " << describe(outcome.joined)
          << "\n  expected: " << describe(entry.expected);
    }
  }
}

std::vector<ToolSpec> weather_tools() {
  return parse_tools(Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "parameters": {
      "type": "object",
      "properties": {"location": {"type": "string"}, "days": {"type": "integer"}}}}},
    {"type": "function", "function": {"name": "get_time"}}
  ])"));
}

std::string joined_content(const std::vector<ToolCallEvent>& events) {
  std::string text;
  for (const ToolCallEvent& event : events) {
    if (event.kind == ToolCallEventKind::kContent) text += event.text;
  }
  return text;
}

TEST(ToolCallParser, HoldsBackOnlyPossibleTagStart) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  EXPECT_EQ(joined_content(parser.feed("Hello <tool")), "Hello");
  EXPECT_EQ(joined_content(parser.feed("box> there")), " <toolbox> there");
  EXPECT_EQ(joined_content(parser.feed(" <")), "");
  EXPECT_EQ(joined_content(parser.finish()), " <");
}

TEST(ToolCallParser, StreamsStringValueAsItArrives) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  auto events = parser.feed("<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>New");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, ToolCallEventKind::kCallStarted);
  EXPECT_EQ(events[0].index, 0);
  EXPECT_EQ(events[0].text, "get_weather");
  EXPECT_EQ(events[1].kind, ToolCallEventKind::kArguments);
  EXPECT_EQ(events[1].text, R"({"location": "New)");

  events = parser.feed(" York</arg_");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, " York");

  events = parser.feed("value>\n</tool_call>");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "\"}");
  EXPECT_TRUE(parser.finish().empty());
}

TEST(ToolCallParser, SendsTypedValueWhenComplete) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  parser.feed("<tool_call>get_weather\n<arg_key>days</arg_key>\n<arg_value>1");
  auto events = parser.feed("4</arg_value>\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "14");
  events = parser.feed("</tool_call>");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].text, "}");
}

TEST(ToolCallParser, ZeroArgumentCallSendsBracesOnce) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  auto events = parser.feed("<tool_call>get_time\n</tool_call>");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, ToolCallEventKind::kCallStarted);
  EXPECT_EQ(events[1].kind, ToolCallEventKind::kArguments);
  EXPECT_EQ(events[1].text, "{}");
  EXPECT_TRUE(parser.finish().empty());
}

TEST(ToolCallParser, TwoCallsInOnePieceKeepArguments) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  const auto events = parser.feed(
      "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>A</arg_value>\n"
      "</tool_call>\n<tool_call>get_weather\n<arg_key>location</arg_key>\n"
      "<arg_value>B</arg_value>\n</tool_call>");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].index, 0);
  EXPECT_EQ(events[1].text, R"({"location": "A"})");
  EXPECT_EQ(events[2].index, 1);
  EXPECT_EQ(events[3].index, 1);
  EXPECT_EQ(events[3].text, R"({"location": "B"})");
}

TEST(ToolCallParser, UnknownToolStreamsAsContentBeforeNewline) {
  const auto tools = weather_tools();
  ToolCallParser parser(tools);
  EXPECT_EQ(joined_content(parser.feed("<tool_call>get_w")), "");
  EXPECT_EQ(joined_content(parser.feed("ind")), "<tool_call>get_wind");
  EXPECT_EQ(parser.call_count(), 0);
}

TEST(ToolCallParser, NoToolsMakesEveryCallContent) {
  const std::vector<ToolSpec> no_tools;
  const std::string text = "<tool_call>get_time\n</tool_call>";
  const ToolCallParseResult result = parse_tool_calls(text, no_tools);
  EXPECT_EQ(result.content, text);
  EXPECT_TRUE(result.calls.empty());
}

TEST(ToolCallStart, FindsTagAndPartialSuffix) {
  EXPECT_EQ(find_tool_call_start("abc<tool_call>x"), 3u);
  EXPECT_EQ(find_tool_call_start("abc<tool_cal"), std::string_view::npos);
  EXPECT_EQ(partial_tool_call_start_length("abc<tool_cal"), 9u);
  EXPECT_EQ(partial_tool_call_start_length("abc<tool_call"), 10u);
  EXPECT_EQ(partial_tool_call_start_length("abc<"), 1u);
  EXPECT_EQ(partial_tool_call_start_length("abc<tool_call>"), 0u);
  EXPECT_EQ(partial_tool_call_start_length("abc"), 0u);
}

}  // namespace
}  // namespace glyph::chat
