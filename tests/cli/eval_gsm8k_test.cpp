// glyph eval gsm8k's data, prompts and answer extraction, checked against
// SGLang 0.5.6's few_shot_gsm8k.get_answer_value run in Python on the same
// inputs.
#include "cli/eval_gsm8k.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

// GSM8K's test.jsonl (MIT) lives outside the repository: $GLYPH_GSM8K_TEST_JSONL,
// else the shared data folder beside the checkout, else /work/shared.
std::string gsm8k_test_file() {
  if (const char* path = std::getenv("GLYPH_GSM8K_TEST_JSONL"); path != nullptr) return path;
  for (const std::string& candidate : {std::string(GLYPH_SHARED_GSM8K_TEST_JSONL),
                                       std::string("/work/shared/data/gsm8k/test.jsonl")}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return GLYPH_SHARED_GSM8K_TEST_JSONL;
}

const std::vector<Gsm8kExample>& test_set() {
  static const std::vector<Gsm8kExample> examples = load_gsm8k(gsm8k_test_file());
  return examples;
}

// Code points, as Python's len() counts a str.
size_t python_length(const std::string& text) {
  size_t count = 0;
  for (char byte : text) count += (static_cast<unsigned char>(byte) & 0xc0) != 0x80;
  return count;
}

TEST(ExtractAnswerValue, EveryTestLabelMatchesSglang) {
  // get_answer_value over the 1319 answers: the labels sum to 9009213 and
  // start 18, 3, 70000, 540, 20, 64, 260, 160, 45, 460.
  const auto& examples = test_set();
  ASSERT_EQ(examples.size(), 1319u);
  int64_t sum = 0;
  std::vector<int64_t> first_labels;
  for (size_t i = 0; i < examples.size(); ++i) {
    const std::optional<std::string> label = extract_answer_value(examples[i].answer);
    ASSERT_TRUE(label.has_value()) << "example " << i;
    sum += std::stoll(*label);
    if (first_labels.size() < 10) first_labels.push_back(std::stoll(*label));
  }
  EXPECT_EQ(sum, 9009213);
  EXPECT_EQ(first_labels, (std::vector<int64_t>{18, 3, 70000, 540, 20, 64, 260, 160, 45, 460}));
}

TEST(ExtractAnswerValue, LabelIsTheNumberAfterHashes) {
  // Independent of the digit-run rule: every answer ends "#### N", and the
  // label is N with commas and a minus sign dropped.
  for (const Gsm8kExample& example : test_set()) {
    const size_t marker = example.answer.rfind("####");
    ASSERT_NE(marker, std::string::npos);
    std::string number;
    for (char c : example.answer.substr(marker + 4)) {
      if (c >= '0' && c <= '9') number += c;
    }
    ASSERT_FALSE(number.empty());
    EXPECT_EQ(extract_answer_value(example.answer), number) << example.answer;
  }
}

TEST(ExtractAnswerValue, NegativeAnswersLoseTheirSign) {
  // Examples 489 and 1113 have answers -10 and -3.
  EXPECT_EQ(extract_answer_value(test_set()[489].answer), "10");
  EXPECT_EQ(extract_answer_value(test_set()[1113].answer), "3");
}

TEST(ExtractAnswerValue, PythonQuirks) {
  EXPECT_EQ(extract_answer_value("The answer is 1,234."), "1234");
  EXPECT_EQ(extract_answer_value("no digits"), std::nullopt);
  EXPECT_EQ(extract_answer_value("-3.5"), "5");
  EXPECT_EQ(extract_answer_value("3.14"), "14");
  EXPECT_EQ(extract_answer_value("1 2 3\n#### 42"), "42");
  EXPECT_EQ(extract_answer_value("x 0"), "0");
  // ast.literal_eval rejects leading zeros unless every digit is zero.
  EXPECT_EQ(extract_answer_value("007"), std::nullopt);
  EXPECT_EQ(extract_answer_value("00"), "0");
  // \d also matches non-ASCII digits, which literal_eval then rejects.
  EXPECT_EQ(extract_answer_value("12\xd9\xa3"), std::nullopt);          // 12 + ARABIC-INDIC THREE
  EXPECT_EQ(extract_answer_value("a 5 b \xef\xbc\x97"), std::nullopt);  // FULLWIDTH SEVEN
  // Python refuses integer literals of more than 4300 digits.
  EXPECT_EQ(extract_answer_value(std::string(4300, '9')), std::string(4300, '9'));
  EXPECT_EQ(extract_answer_value(std::string(4301, '9')), std::nullopt);
}

TEST(ExtractAnswerValue, InvalidUtf8IsReplacedNotFatal) {
  EXPECT_EQ(extract_answer_value("answer \xff 17"), "17");
}

TEST(FewShotPrompt, MatchesSglangLayout) {
  const auto& examples = test_set();
  const std::string prefix = few_shot_prefix(examples, 5);
  // SGLang 0.5.6 cached a 2212-character prefix for the first five examples.
  EXPECT_EQ(python_length(prefix), 2212u);
  EXPECT_TRUE(prefix.starts_with("Question: Janet\xe2\x80\x99s ducks lay 16 eggs per day."));
  EXPECT_TRUE(prefix.ends_with("#### 20\n\n"));

  const std::string expected_first_shot =
      "Question: " + examples[0].question + "\nAnswer: " + examples[0].answer + "\n\n";
  EXPECT_TRUE(prefix.starts_with(expected_first_shot));

  const std::string question = format_example(examples[7], false);
  EXPECT_EQ(question, "Question: " + examples[7].question + "\nAnswer:");
  EXPECT_EQ(python_length(question), 305u);
}

TEST(FewShotPrompt, ZeroShotsIsEmpty) { EXPECT_EQ(few_shot_prefix(test_set(), 0), ""); }

TEST(LoadGsm8k, SkipsCommentsAndRejectsBadLines) {
  const auto path = std::filesystem::temp_directory_path() / "glyph-gsm8k-load-test.jsonl";
  {
    std::ofstream file(path);
    file << "# a comment\n"
         << R"({"question": "q1", "answer": "#### 1"})"
         << "\n\n"
         << R"({"question": "q2", "answer": "#### 2"})"
         << "\n";
  }
  const auto examples = load_gsm8k(path.string());
  ASSERT_EQ(examples.size(), 2u);
  EXPECT_EQ(examples[1].question, "q2");

  {
    std::ofstream file(path);
    file << R"({"question": "q1"})"
         << "\n";
  }
  EXPECT_THROW(load_gsm8k(path.string()), std::runtime_error);
  std::filesystem::remove(path);
  EXPECT_THROW(load_gsm8k(path.string()), std::runtime_error);
}

TEST(BuildGsm8kRequestBody, MatchesRuntimeEndpoint) {
  // The body SGLang 0.5.6 posted for a question, captured from its run.
  const nlohmann::json expected = nlohmann::json::parse(R"({
    "text": "Question: q\nAnswer:",
    "sampling_params": {"skip_special_tokens": true, "spaces_between_special_tokens": true,
      "max_new_tokens": 512, "min_new_tokens": 0, "n": 1,
      "stop": ["Question", "Assistant:", "<|separator|>"], "stop_token_ids": [],
      "stop_regex": [], "temperature": 0.0, "top_p": 1.0, "top_k": -1, "min_p": 0.0,
      "frequency_penalty": 0.0, "presence_penalty": 0.0, "ignore_eos": false,
      "regex": null, "json_schema": null}})");
  EXPECT_EQ(build_gsm8k_request_body("Question: q\nAnswer:", 512, 0.0), expected);
}

TEST(FormatGsm8kScore, ThreeDecimals) {
  Gsm8kScore score;
  score.accuracy = 0.89;
  score.invalid = 0.0;
  score.latency_s = 3.7184;
  score.output_throughput = 5245.6058;
  EXPECT_EQ(
      format_gsm8k_score(score),
      "Accuracy: 0.890\nInvalid: 0.000\nLatency: 3.718 s\nOutput throughput: 5245.606 token/s\n");
}

}  // namespace
}  // namespace glyph::cli
