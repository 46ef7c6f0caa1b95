// Batch invariance: a sequence's logits must be bit-identical whatever else shares its forward
// passes. Sixteen sequences of different lengths decode 24 greedy tokens each, alone and
// together, with prefill chunks of several sizes, several KV page sizes and thread counts.
// Every step's logits must match the run alone bit for bit. That is true only if no kernel's
// reduction order depends on how many tokens a batch has or where a token is in it.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "model/text_model.h"
#include "model_test_support.h"

namespace glyph::model {
namespace {

using testing::GreedyOptions;
using testing::GreedyRequest;
using testing::GreedyResult;

// Prompt lengths from 1 to 130, so that batches hold decodes, short prefills and prefills
// longer than a page, a prefill chunk and a 16-token kernel tile.
constexpr int32_t kPromptLengths[] = {1, 2, 3, 5, 8, 13, 16, 17, 24, 31, 40, 47, 64, 77, 100, 130};
constexpr int32_t kSteps = 24;

std::vector<GreedyRequest> make_requests(int64_t vocab) {
  std::mt19937 generator(7);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(vocab - 1));
  std::vector<GreedyRequest> requests;
  for (int32_t length : kPromptLengths) {
    GreedyRequest request;
    for (int32_t i = 0; i < length; ++i) {
      request.prompt.push_back(token(generator));
      request.positions.insert(request.positions.end(), {i, i, i});
    }
    request.steps = kSteps;
    requests.push_back(std::move(request));
  }
  return requests;
}

// Each request alone, one sequence per forward pass: the reference.
std::vector<GreedyResult> run_alone(TextModel& model, const std::vector<GreedyRequest>& requests,
                                    const GreedyOptions& options) {
  std::vector<GreedyResult> results;
  for (const GreedyRequest& request : requests) {
    results.push_back(testing::run_greedy(model, {request}, options)[0]);
  }
  return results;
}

void expect_identical(const std::vector<GreedyResult>& expected,
                      const std::vector<GreedyResult>& actual, const std::string& variant) {
  ASSERT_EQ(expected.size(), actual.size()) << variant;
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string where = variant + ", prompt of " + std::to_string(kPromptLengths[i]);
    EXPECT_EQ(actual[i].tokens, expected[i].tokens) << where;
    ASSERT_EQ(actual[i].prompt_logits.size(), expected[i].prompt_logits.size()) << where;
    EXPECT_EQ(std::memcmp(actual[i].prompt_logits.data(), expected[i].prompt_logits.data(),
                          expected[i].prompt_logits.size() * sizeof(float)),
              0)
        << where << ": prompt logits differ, max |difference| "
        << testing::max_abs_difference(actual[i].prompt_logits, expected[i].prompt_logits);
    EXPECT_EQ(actual[i].logit_hashes, expected[i].logit_hashes) << where << ": step logits differ";
  }
}

struct ModelSource {
  std::filesystem::path dir;
  bool dummy = false;
};

std::unique_ptr<TextModel> load(const ModelSource& source, ComputeType compute_type,
                                SimdLevel level, int threads) {
  LoadOptions options;
  options.model_dir = source.dir;
  options.dummy_weights = source.dummy;
  options.dummy_seed = 11;
  options.compute_type = compute_type;
  options.threads = threads;
  options.simd_level = level;
  return TextModel::load(options);
}

// Runs every variant against the reference. The variants are all sequences in one batch from
// the first step, staggered joins with small prefill chunks and small pages (so that prefill
// chunks mix with decodes and the sequences' pages interleave), and other thread counts.
void check_batch_invariance(const ModelSource& source, ComputeType compute_type,
                            SimdLevel level) {
  auto model = load(source, compute_type, level, 2);
  const std::vector<GreedyRequest> requests = make_requests(model->config().text.vocab_size);
  const auto reference = run_alone(*model, requests, {.page_size = 16, .chunk = 0});

  expect_identical(reference, testing::run_greedy(*model, requests, {.page_size = 16, .chunk = 0}),
                   "all in one batch");

  std::vector<GreedyRequest> staggered = requests;
  for (size_t i = 0; i < staggered.size(); ++i) {
    staggered[i].first_iteration = static_cast<int32_t>((i * 5) % 11);
  }
  expect_identical(reference, testing::run_greedy(*model, staggered, {.page_size = 4, .chunk = 7}),
                   "staggered, chunks of 7, pages of 4");
  expect_identical(reference, testing::run_greedy(*model, staggered, {.page_size = 8, .chunk = 33}),
                   "staggered, chunks of 33, pages of 8");

  for (int threads : {1, 3}) {
    auto other = load(source, compute_type, level, threads);
    expect_identical(reference, testing::run_greedy(*other, requests, {.page_size = 32, .chunk = 16}),
                     std::to_string(threads) + " threads, chunks of 16, pages of 32");
  }
}

// Wider than the tiny model, so that the linear kernels take their cache-blocked and
// multi-tile paths. K is 512 and 1400 (not a multiple of 32), gate_up has 2800 columns and the
// vocab of 1999 is not a multiple of 16. Heads have 64 dims, 4 query heads per KV head.
const char* kWideConfig = R"({
  "architectures": ["Glm4vForConditionalGeneration"],
  "text_config": {"hidden_size": 512, "num_hidden_layers": 2, "num_attention_heads": 8,
    "num_key_value_heads": 2, "head_dim": 64, "intermediate_size": 1400, "vocab_size": 1999,
    "partial_rotary_factor": 0.5, "rope_theta": 500000, "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "default", "mrope_section": [4, 6, 6]}}})";

class BatchInvariance : public ::testing::TestWithParam<SimdLevel> {
 protected:
  static ModelSource tiny() { return {testing::tiny_model_dir(), false}; }

  ModelSource wide() {
    testing::write_text(dir_.path() / "config.json", kWideConfig);
    return {dir_.path(), true};
  }

 private:
  testing::TemporaryDirectory dir_;
};

TEST_P(BatchInvariance, Fp32TinyModel) {
  check_batch_invariance(tiny(), ComputeType::kF32, GetParam());
}

TEST_P(BatchInvariance, Fp32WideModel) {
  check_batch_invariance(wide(), ComputeType::kF32, GetParam());
}

// BF16 weights and KV cache. Activations are rounded to BF16 per element before the kernels
// that multiply in BF16, so rounding cannot depend on the batch either.
TEST_P(BatchInvariance, Bf16TinyModel) {
  check_batch_invariance(tiny(), ComputeType::kBF16, GetParam());
}

TEST_P(BatchInvariance, Bf16WideModel) {
  check_batch_invariance(wide(), ComputeType::kBF16, GetParam());
}

std::vector<SimdLevel> levels() {
  std::vector<SimdLevel> result;
  // The scalar level takes minutes on the wide model and shares the widening arithmetic of
  // avx2, which is covered.
  for (SimdLevel level : {SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kAvx512Bf16}) {
    if (level <= best_simd_level()) result.push_back(level);
  }
  return result;
}

INSTANTIATE_TEST_SUITE_P(Levels, BatchInvariance, ::testing::ValuesIn(levels()),
                         [](const ::testing::TestParamInfo<SimdLevel>& info) {
                           return std::string(simd_level_name(info.param));
                         });

}  // namespace
}  // namespace glyph::model
