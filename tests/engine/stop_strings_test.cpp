#include "engine/stop_strings.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace glyph::engine {
namespace {

struct Outcome {
  std::string text;
  std::string matched;
};

// Feeds text in pieces of `step` bytes and collects what would be sent.
Outcome feed(const std::vector<std::string>& stops, const std::string& text, size_t step,
             bool keep_stop = false) {
  StopStringMatcher matcher(stops, keep_stop);
  Outcome outcome;
  for (size_t i = 0; i < text.size(); i += step) {
    auto result = matcher.push(text.substr(i, step));
    outcome.text += result.text;
    if (result.matched) {
      outcome.matched = *result.matched;
      return outcome;
    }
  }
  outcome.text += matcher.flush();
  return outcome;
}

TEST(StopStrings, TrimsAtFirstMatchForEveryPieceSize) {
  const std::string text = "The answer is 42.\nQuestion: next";
  for (size_t step = 1; step <= text.size(); ++step) {
    Outcome outcome = feed({"Question", "Assistant:"}, text, step);
    EXPECT_EQ(outcome.text, "The answer is 42.\n") << "step " << step;
    EXPECT_EQ(outcome.matched, "Question") << "step " << step;
  }
}

TEST(StopStrings, KeepsStopWhenAsked) {
  Outcome outcome = feed({"END"}, "abcENDxyz", 2, /*keep_stop=*/true);
  EXPECT_EQ(outcome.text, "abcEND");
  EXPECT_EQ(outcome.matched, "END");
}

TEST(StopStrings, PartialPrefixIsReleasedAtFlush) {
  Outcome outcome = feed({"STOP"}, "abc STO", 1);
  EXPECT_EQ(outcome.text, "abc STO");
  EXPECT_EQ(outcome.matched, "");
}

TEST(StopStrings, HoldsOnlyPossiblePrefix) {
  StopStringMatcher matcher({"<end>"}, false);
  EXPECT_EQ(matcher.push("hello <e").text, "hello ");
  EXPECT_EQ(matcher.push("x").text, "<ex");
}

TEST(StopStrings, EarliestMatchWins) {
  Outcome outcome = feed({"world", "lo w"}, "hello world", 11);
  EXPECT_EQ(outcome.text, "hel");
  EXPECT_EQ(outcome.matched, "lo w");
}

TEST(StopStrings, NoStopsPassesEverything) {
  Outcome outcome = feed({}, "plain text", 3);
  EXPECT_EQ(outcome.text, "plain text");
}

TEST(StopStrings, MultibyteStopString) {
  const std::string text = "答案是四。问题：";
  for (size_t step = 1; step <= text.size(); ++step) {
    Outcome outcome = feed({"问题"}, text, step);
    EXPECT_EQ(outcome.text, "答案是四。") << "step " << step;
  }
}

}  // namespace
}  // namespace glyph::engine
