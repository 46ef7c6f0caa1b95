// Prompt sampling of glyph bench. Lengths and orders are compared with what
// numpy 2.x and CPython 3.11 draw for the same seed.
#include "cli/bench_dataset.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

const std::string kTokenizerPath = std::string(GLYPH_TEST_DATA_DIR) + "/tiny-glyph/tokenizer.json";

const text::Tokenizer& tiny_tokenizer() {
  static const std::unique_ptr<text::Tokenizer> tokenizer = text::Tokenizer::load(kTokenizerPath);
  return *tokenizer;
}

int64_t total(const std::vector<int64_t>& values) {
  return std::accumulate(values.begin(), values.end(), int64_t{0});
}

// A file under the test's temporary directory, removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& content)
      : path_(std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "-" + name)) {
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(SampleRandomLengths, ReproducesPublishedGlyphTotals) {
  // The input and output token totals printed in SGLang's Glyph benchmark
  // page (seed 1, --random-range-ratio 0, ignore_eos).
  struct Case {
    size_t prompts;
    int64_t input_len;
    int64_t output_len;
    int64_t input_total;
    int64_t output_total;
  };
  const Case cases[] = {
      {10, 1000, 1000, 6101, 4220},      {80, 1000, 1000, 39668, 40805},
      {500, 1000, 1000, 249831, 252662}, {10, 1000, 8000, 6101, 44462},
      {80, 8000, 1000, 300020, 41669},   {320, 8000, 1000, 1273893, 170000},
  };
  for (const Case& c : cases) {
    NumpyRandomState random(1);
    const auto inputs = sample_random_lengths(random, c.input_len, 0.0, c.prompts);
    const auto outputs = sample_random_lengths(random, c.output_len, 0.0, c.prompts);
    EXPECT_EQ(total(inputs), c.input_total) << c.prompts << " prompts of " << c.input_len;
    EXPECT_EQ(total(outputs), c.output_total) << c.prompts << " prompts of " << c.output_len;
  }
}

TEST(SampleRandomLengths, RatioSetsTheLowerBound) {
  NumpyRandomState random(1);
  // int(1000 * 0.5) = 500, so draws come from [500, 1000].
  EXPECT_EQ(sample_random_lengths(random, 1000, 0.5, 6),
            (std::vector<int64_t>{537, 735, 896, 572, 755, 893}));
}

TEST(SampleRandomLengths, RatioOnePinsTheLength) {
  NumpyRandomState random(1);
  EXPECT_EQ(sample_random_lengths(random, 64, 1.0, 3), (std::vector<int64_t>{64, 64, 64}));
}

TEST(SampleRandomLengths, TruncatedLowerBoundStaysAtLeastOne) {
  NumpyRandomState random(1);
  for (int64_t length : sample_random_lengths(random, 3, 0.2, 50)) {
    EXPECT_GE(length, 1);
    EXPECT_LE(length, 3);
  }
}

TEST(BaseVocabSize, CountsModelVocabWithoutAddedTokens) {
  EXPECT_EQ(base_vocab_size(kTokenizerPath), 151329);
}

TEST(SampleRequests, RandomIdsFollowBenchServing) {
  // np.random.seed(1): input lens randint(1, 5, 3) = [2, 4, 1], output lens
  // randint(1, 3, 3) = [1, 2, 2], offsets randint(0, 151329, 3) =
  // [109259, 73349, 117583]. Prompt i contains (offset_i + i + j) % vocab.
  DatasetOptions options;
  options.name = "random-ids";
  options.num_prompts = 3;
  options.random_input_len = 4;
  options.random_output_len = 2;
  options.tokenize_prompt = true;
  NumpyRandomState numpy_random(1);
  PythonRandom python_random(1);
  const auto requests =
      sample_requests(options, tiny_tokenizer(), 151329, numpy_random, python_random);

  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(*requests[0].prompt_ids, (std::vector<int32_t>{109259, 109260}));
  EXPECT_EQ(*requests[1].prompt_ids, (std::vector<int32_t>{73350, 73351, 73352, 73353}));
  EXPECT_EQ(*requests[2].prompt_ids, (std::vector<int32_t>{117585}));
  EXPECT_EQ(requests[1].prompt_len, 4);
  EXPECT_EQ(requests[0].output_len, 1);
  EXPECT_EQ(requests[2].output_len, 2);
}

TEST(SampleRequests, RandomWithoutFileDecodesIdsToText) {
  DatasetOptions options;
  options.name = "random";
  options.num_prompts = 3;
  options.random_input_len = 4;
  options.random_output_len = 2;
  NumpyRandomState numpy_random(1);
  PythonRandom python_random(1);
  const auto requests =
      sample_requests(options, tiny_tokenizer(), 151329, numpy_random, python_random);

  ASSERT_EQ(requests.size(), 3u);
  const std::vector<int32_t> ids = {73350, 73351, 73352, 73353};
  EXPECT_FALSE(requests[1].prompt_ids.has_value());
  EXPECT_EQ(requests[1].prompt, tiny_tokenizer().decode(ids, false));
  EXPECT_EQ(requests[1].prompt_len, 4);
}

TEST(SampleRequests, RandomWithTextFileResizesShuffledParagraphs) {
  // random.seed(1) shuffles three paragraphs to [second, third, first];
  // np.random.seed(1) draws input lens [4, 5, 1] from randint(1, 6, 3).
  const TempFile file("paragraphs.txt", "alpha beta\n\ngamma\n\n\ndelta epsilon\nzeta\n");
  DatasetOptions options;
  options.name = "random";
  options.path = file.path();
  options.num_prompts = 3;
  options.random_input_len = 5;
  options.random_output_len = 3;
  options.tokenize_prompt = true;
  NumpyRandomState numpy_random(1);
  PythonRandom python_random(1);
  const auto requests =
      sample_requests(options, tiny_tokenizer(), 151329, numpy_random, python_random);
  ASSERT_EQ(requests.size(), 3u);

  const auto resized = [&](const std::string& text, size_t length) {
    const std::vector<int32_t> ids = tiny_tokenizer().encode(text);
    std::vector<int32_t> out;
    while (out.size() < length) out.push_back(ids[out.size() % ids.size()]);
    return out;
  };
  EXPECT_EQ(*requests[0].prompt_ids, resized("gamma", 4));
  EXPECT_EQ(*requests[1].prompt_ids, resized("delta epsilon\nzeta", 5));
  EXPECT_EQ(*requests[2].prompt_ids, resized("alpha beta", 1));
  EXPECT_EQ(requests[0].output_len, 2);
  EXPECT_EQ(requests[2].output_len, 1);
}

TEST(LoadPromptPairs, ReadsShareGptTurns) {
  const TempFile file("sharegpt.json", R"([
    {"conversations": [{"from": "human", "value": "Q1"}, {"from": "gpt", "value": "A1"}]},
    {"conversation": [{"value": "Q2"}, {"value": "A2"}, {"value": "Q3"}]},
    {"conversations": [{"value": "lonely"}]}
  ])");
  const auto pairs = load_prompt_pairs(file.path());
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].prompt, "Q1");
  EXPECT_EQ(pairs[0].completion, "A1");
  EXPECT_EQ(pairs[1].prompt, "Q2");
  EXPECT_EQ(pairs[1].completion, "A2");
}

TEST(LoadPromptPairs, EmptyFileIsAnError) {
  const TempFile file("empty.txt", "\n\n");
  EXPECT_THROW(load_prompt_pairs(file.path()), std::runtime_error);
  EXPECT_THROW(load_prompt_pairs("/nonexistent/glyph-bench-prompts.txt"), std::runtime_error);
}

class ShareGptSampling : public ::testing::Test {
 protected:
  // After dropping the one-turn record, random.seed(1) orders the pairs
  // [colour, hi, sum]. "Hi" is a single token, too short to keep.
  ShareGptSampling()
      : file_("sharegpt-sampling.json", R"([
          {"conversations": [{"value": "What is two plus two?"}, {"value": "Four, of course."}]},
          {"conversation": [{"value": "Name a colour please"}, {"value": "Blue is a colour."}]},
          {"conversations": [{"value": "one turn only"}]},
          {"conversations": [{"value": "Hi"}, {"value": "Hello there, friend"}]}
        ])") {
    options_.name = "sharegpt";
    options_.path = file_.path();
    options_.num_prompts = 5;
  }

  std::vector<BenchRequest> sample() {
    NumpyRandomState numpy_random(1);
    PythonRandom python_random(1);
    return sample_requests(options_, tiny_tokenizer(), 151329, numpy_random, python_random);
  }

  TempFile file_;
  DatasetOptions options_;
};

TEST_F(ShareGptSampling, KeepsShuffledOrderAndDropsShortPrompts) {
  ASSERT_EQ(tiny_tokenizer().encode("Hi").size(), 1u);
  const auto requests = sample();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].prompt, "Name a colour please");
  EXPECT_EQ(requests[1].prompt, "What is two plus two?");
  EXPECT_EQ(requests[0].prompt_len,
            static_cast<int64_t>(tiny_tokenizer().encode("Name a colour please").size()));
  EXPECT_EQ(requests[0].output_len,
            static_cast<int64_t>(tiny_tokenizer().encode("Blue is a colour.").size()));
}

TEST_F(ShareGptSampling, FixedOutputLength) {
  options_.sharegpt_output_len = 7;
  for (const BenchRequest& request : sample()) EXPECT_EQ(request.output_len, 7);
}

TEST_F(ShareGptSampling, ContextLengthDropsLongPairs) {
  const int64_t colour_total =
      static_cast<int64_t>(tiny_tokenizer().encode("Name a colour please").size() +
                           tiny_tokenizer().encode("Blue is a colour.").size());
  const int64_t sum_total =
      static_cast<int64_t>(tiny_tokenizer().encode("What is two plus two?").size() +
                           tiny_tokenizer().encode("Four, of course.").size());
  ASSERT_LT(colour_total, sum_total);
  options_.sharegpt_context_len = colour_total;
  const auto requests = sample();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].prompt, "Name a colour please");
}

TEST_F(ShareGptSampling, RejectsTinyFixedOutputAndMissingFile) {
  options_.sharegpt_output_len = 3;
  EXPECT_THROW(sample(), std::runtime_error);
  options_.sharegpt_output_len.reset();
  options_.path.clear();
  EXPECT_THROW(sample(), std::runtime_error);
}

}  // namespace
}  // namespace glyph::cli
