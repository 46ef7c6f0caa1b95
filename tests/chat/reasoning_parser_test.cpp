#include "chat/reasoning_parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace glyph::chat {
namespace {

struct Case {
  std::string name;
  std::string output;  // The model's reply as generated.
  bool ended_on_its_own;
  std::string reasoning;
  std::string content;
};

const std::vector<Case>& cases() {
  static const std::vector<Case> table = {
      {"plain answer", "The capital is Paris.", true, "", "The capital is Paris."},
      {"plain answer keeps whitespace", "\n  Paris \n", true, "", "\n  Paris \n"},
      {"empty reply", "", true, "", ""},
      {"whitespace only", " \n", true, "", " \n"},
      {"closed reasoning", "<think>15% of 240 is 36.</think>36", true, "15% of 240 is 36.", "36"},
      {"template whitespace",
       "<think>\nLet me compute.\n</think>\n\nThe answer is 36.", true, "Let me compute.",
       "The answer is 36."},
      {"whitespace before think", "\n\n<think>a</think>b", true, "a", "b"},
      {"empty reasoning", "<think></think>\nHello", true, "", "Hello"},
      {"whitespace-only reasoning", "<think> \n </think>Hello", true, "", "Hello"},
      {"inner whitespace kept", "<think>a \n b</think> c  d ", true, "a \n b", "c  d "},
      {"text before think is content", "Hi <think>x</think>y", true, "",
       "Hi <think>x</think>y"},
      {"partial start tag only", "<thi", true, "", "<thi"},
      {"start tag lookalike", "<thinking>no</thinking>", true, "", "<thinking>no</thinking>"},
      {"lone end tag", "a</think>b", true, "", "a</think>b"},
      {"nested start tag in reasoning", "<think>a<think>b</think>c", true, "a<think>b", "c"},
      {"tags after reasoning stay content", "<think>r</think>c<think>d</think>", true, "r",
       "c<think>d</think>"},
      {"end tag lookalike in reasoning", "<think>a </thinker> b</think>c", true,
       "a </thinker> b", "c"},
      {"angle brackets in reasoning", "<think>x < y and y <</ z</think>ok", true,
       "x < y and y <</ z", "ok"},
      {"unclosed reasoning, stop", "<think>\nThe answer is 36.\n", true, "The answer is 36.",
       "The answer is 36."},
      {"unclosed reasoning, length", "<think>\nStill thinking \n", false, "Still thinking", ""},
      {"unclosed with partial end tag, stop", "<think>abc </thi", true, "abc </thi",
       "abc </thi"},
      {"unclosed with partial end tag, length", "<think>abc \n</", false, "abc \n</", ""},
      {"only start tag, stop", "<think>", true, "", ""},
      {"only start tag, length", "<think>\n", false, "", ""},
      {"content cut by length", "<think>r</think>partial answ", false, "r", "partial answ"},
      {"multibyte text", "<think>北京 is 北京</think>\n答案：北京", true, "北京 is 北京",
       "答案：北京"},
  };
  return table;
}

// Feeds pieces one by one, then finishes, and concatenates what came out.
ReasoningDelta run_streaming(const std::vector<std::string>& pieces, bool ended_on_its_own,
                             bool stream_reasoning) {
  ReasoningParser parser(stream_reasoning);
  ReasoningDelta total;
  for (const std::string& piece : pieces) {
    ReasoningDelta step = parser.push(piece);
    total.reasoning += step.reasoning;
    total.content += step.content;
  }
  ReasoningDelta tail = parser.finish(ended_on_its_own);
  total.reasoning += tail.reasoning;
  total.content += tail.content;
  return total;
}

// Every chunking the tests try: whole, split once at every byte, one byte at a time.
std::vector<std::vector<std::string>> chunkings(const std::string& text) {
  std::vector<std::vector<std::string>> result;
  result.push_back({text});
  for (size_t split = 0; split <= text.size(); ++split) {
    result.push_back({text.substr(0, split), text.substr(split)});
  }
  std::vector<std::string> bytes;
  for (char c : text) bytes.emplace_back(1, c);
  result.push_back(bytes);
  return result;
}

std::string describe(const std::vector<std::string>& pieces) {
  std::string out;
  for (const std::string& piece : pieces) out += "[" + piece + "]";
  return out;
}

TEST(ReasoningParser, WholeReplyMatchesTable) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    ReasoningDelta result = ReasoningParser::parse(c.output, c.ended_on_its_own);
    EXPECT_EQ(result.reasoning, c.reasoning);
    EXPECT_EQ(result.content, c.content);
  }
}

TEST(ReasoningParser, EveryChunkingMatchesWholeReply) {
  for (const Case& c : cases()) {
    for (bool stream_reasoning : {true, false}) {
      for (const auto& pieces : chunkings(c.output)) {
        SCOPED_TRACE(c.name + (stream_reasoning ? " streamed " : " held ") + describe(pieces));
        ReasoningDelta result = run_streaming(pieces, c.ended_on_its_own, stream_reasoning);
        EXPECT_EQ(result.reasoning, c.reasoning);
        EXPECT_EQ(result.content, c.content);
      }
    }
  }
}

TEST(ReasoningParser, StreamsReasoningBeforeEndTag) {
  ReasoningParser parser;
  EXPECT_EQ(parser.push("<think>").reasoning, "");
  EXPECT_EQ(parser.push("\nstep one").reasoning, "step one");
  // Trailing whitespace waits: it is dropped if `</think>` follows.
  EXPECT_EQ(parser.push(" \n").reasoning, "");
  EXPECT_EQ(parser.push("step two").reasoning, " \nstep two");
  ReasoningDelta closing = parser.push("</think>\nAnswer");
  EXPECT_EQ(closing.reasoning, "");
  EXPECT_EQ(closing.content, "Answer");
}

TEST(ReasoningParser, HoldsOnlyPossibleEndTag) {
  ReasoningParser parser;
  parser.push("<think>");
  ReasoningDelta step = parser.push("x </th");
  EXPECT_EQ(step.reasoning, "x");
  step = parser.push("ing");
  EXPECT_EQ(step.reasoning, " </thing");
}

TEST(ReasoningParser, PlainReplyIsNotHeldBack) {
  ReasoningParser parser;
  EXPECT_EQ(parser.push("Hello").content, "Hello");
  EXPECT_EQ(parser.push(" <").content, " <");
}

TEST(ReasoningParser, HeldReasoningReleasedAtEndTag) {
  ReasoningParser parser(/*stream_reasoning=*/false);
  EXPECT_EQ(parser.push("<think>a").reasoning, "");
  EXPECT_EQ(parser.push("b").reasoning, "");
  ReasoningDelta closing = parser.push("</think>c");
  EXPECT_EQ(closing.reasoning, "ab");
  EXPECT_EQ(closing.content, "c");
}

TEST(ReasoningParser, UnclosedStopRepeatsReasoningAsContentAtFinish) {
  ReasoningParser parser;
  EXPECT_EQ(parser.push("<think>36").reasoning, "36");
  ReasoningDelta tail = parser.finish(/*ended_on_its_own=*/true);
  EXPECT_EQ(tail.reasoning, "");
  EXPECT_EQ(tail.content, "36");
}

TEST(ReasoningParser, KnownParserNames) {
  EXPECT_TRUE(is_known_reasoning_parser("glm45"));
  EXPECT_FALSE(is_known_reasoning_parser("qwen3"));
  EXPECT_EQ(known_reasoning_parsers(), "glm45");
}

}  // namespace
}  // namespace glyph::chat
