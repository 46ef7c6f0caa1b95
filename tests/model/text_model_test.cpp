// The text decoder against transformers: fixtures from tools/make_tiny_model.py, produced by
// transformers 4.57 in float32 from the tiny model's BF16 weights.
#include "model/text_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model_test_support.h"

namespace glyph::model {
namespace {

using testing::FixturePrompt;
using testing::GreedyOptions;
using testing::GreedyRequest;

std::unique_ptr<TextModel> load_tiny(ComputeType compute_type,
                                     std::optional<SimdLevel> level = std::nullopt) {
  LoadOptions options;
  options.model_dir = testing::tiny_model_dir();
  options.compute_type = compute_type;
  options.threads = 2;
  options.simd_level = level;
  return TextModel::load(options);
}

const std::vector<FixturePrompt>& fixture_prompts() {
  static const std::vector<FixturePrompt> prompts = testing::load_fixture_prompts();
  return prompts;
}

std::vector<SimdLevel> supported_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level : {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512,
                          SimdLevel::kAvx512Bf16}) {
    if (level <= best_simd_level()) levels.push_back(level);
  }
  return levels;
}

std::string level_name(const ::testing::TestParamInfo<SimdLevel>& info) {
  return std::string(simd_level_name(info.param));
}

// Runs every fixture prompt, each alone, and returns the results in fixture order.
std::vector<testing::GreedyResult> run_each(TextModel& model, const GreedyOptions& options) {
  std::vector<testing::GreedyResult> results;
  for (const FixturePrompt& prompt : fixture_prompts()) {
    results.push_back(testing::run_greedy(model, {testing::request_for(prompt)}, options)[0]);
  }
  return results;
}

void expect_fixture_greedy(const std::vector<testing::GreedyResult>& results) {
  ASSERT_EQ(results.size(), fixture_prompts().size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].tokens, fixture_prompts()[i].greedy_ids)
        << "prompt " << fixture_prompts()[i].name;
  }
}

TEST(TextModel, FixtureCoversLongAndImagePrompts) {
  size_t longest = 0;
  bool has_image_positions = false;
  for (const FixturePrompt& prompt : fixture_prompts()) {
    longest = std::max(longest, prompt.prompt_ids.size());
    for (size_t t = 0; t < prompt.positions.size(); t += 3) {
      has_image_positions |= prompt.positions[t] != prompt.positions[t + 1] ||
                             prompt.positions[t + 1] != prompt.positions[t + 2];
    }
  }
  EXPECT_GE(fixture_prompts().size(), 6u);
  EXPECT_GE(longest, 300u);
  EXPECT_TRUE(has_image_positions);
}

class Fp32Logits : public ::testing::TestWithParam<SimdLevel> {};

// FP32 runs the same arithmetic as transformers in float32; only summation order differs, so
// the logits agree to float32 rounding, well inside 1e-4 of the logit scale.
TEST_P(Fp32Logits, MatchTransformers) {
  auto model = load_tiny(ComputeType::kF32, GetParam());
  for (const FixturePrompt& prompt : fixture_prompts()) {
    GreedyRequest request = testing::request_for(prompt);
    request.steps = 1;
    auto result = testing::run_greedy(*model, {request}, {})[0];
    const float error = testing::max_abs_difference(result.prompt_logits, prompt.logits);
    EXPECT_LE(error, 1e-4f * prompt.max_abs_logit) << "prompt " << prompt.name;
    RecordProperty("max_error_" + prompt.name, std::to_string(error));
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, Fp32Logits, ::testing::ValuesIn(supported_levels()), level_name);

TEST(TextModelFp32, GreedyMatchesTransformers) {
  auto model = load_tiny(ComputeType::kF32);
  expect_fixture_greedy(run_each(*model, {.page_size = 16, .chunk = 0}));
}

TEST(TextModelFp32, ChunkedPrefillGreedy) {
  auto model = load_tiny(ComputeType::kF32);
  expect_fixture_greedy(run_each(*model, {.page_size = 16, .chunk = 7}));
}

TEST(TextModelFp32, SmallPagesGreedy) {
  auto model = load_tiny(ComputeType::kF32);
  expect_fixture_greedy(run_each(*model, {.page_size = 4, .chunk = 0}));
}

// All prompts in one batch from the first step: prefills of different lengths, then decodes
// of every sequence together, with their pages interleaved in the pool.
TEST(TextModelFp32, AllSequencesInOneBatch) {
  auto model = load_tiny(ComputeType::kF32);
  std::vector<GreedyRequest> requests;
  for (const FixturePrompt& prompt : fixture_prompts()) requests.push_back(testing::request_for(prompt));
  expect_fixture_greedy(testing::run_greedy(*model, requests, {.page_size = 4, .chunk = 0}));
}

// Sequences join at different steps and prefill in chunks, so batches mix one sequence's
// prefill chunk with other sequences' decodes.
TEST(TextModelFp32, PrefillChunksMixWithDecodes) {
  auto model = load_tiny(ComputeType::kF32);
  std::vector<GreedyRequest> requests;
  int32_t iteration = 0;
  for (const FixturePrompt& prompt : fixture_prompts()) {
    requests.push_back(testing::request_for(prompt));
    requests.back().first_iteration = iteration;
    iteration += 5;
  }
  expect_fixture_greedy(testing::run_greedy(*model, requests, {.page_size = 8, .chunk = 6}));
}

// BF16 paths hold the weights in BF16, exactly as stored, so their error comes from rounding
// activations to BF16, each rounding off by at most u = 2^-8 of the value (8 significant bits).
// The widening kernels (avx2, avx512) round only what enters the KV cache: K and V in each of
// the 2 layers, 4 roundings. VDPBF16PS (avx512_bf16) also rounds the input of every linear
// layer: qkv, o_proj, gate_up and down in each layer plus lm_head, 13 roundings in all. To
// first order the effects add, and the sandwich norms keep every rounded value at the scale of
// the logits, so the logits may move by up to roundings * u * max |logit|. Observed on this
// model: 0.97u (widening) and 2.8u (VDPBF16PS). AMX tiles, which kernels_for picks at
// avx512_bf16 where the CPU has them, round the same inputs and gave 2.8u as well.
float bf16_tolerance(SimdLevel level, float max_abs_logit) {
  const float roundings = level == SimdLevel::kAvx512Bf16 ? 13.0f : 4.0f;
  return roundings * std::ldexp(1.0f, -8) * max_abs_logit;
}

std::vector<SimdLevel> bf16_levels() {
  std::vector<SimdLevel> levels = supported_levels();
  std::erase(levels, SimdLevel::kScalar);  // Same widening arithmetic as avx2, only slower.
  return levels;
}

class Bf16 : public ::testing::TestWithParam<SimdLevel> {};

TEST_P(Bf16, LogitsWithinRoundingBound) {
  auto model = load_tiny(ComputeType::kBF16, GetParam());
  for (const FixturePrompt& prompt : fixture_prompts()) {
    GreedyRequest request = testing::request_for(prompt);
    request.steps = 1;
    auto result = testing::run_greedy(*model, {request}, {})[0];
    const float error = testing::max_abs_difference(result.prompt_logits, prompt.logits);
    EXPECT_LE(error, bf16_tolerance(GetParam(), prompt.max_abs_logit)) << "prompt " << prompt.name;
    RecordProperty("max_error_" + prompt.name, std::to_string(error));
  }
}

// The rule for BF16 greedy decoding. Logits within the tolerance t of FP32 can flip the argmax
// only where FP32's top-2 gap is below 2t. The test feeds the reference tokens back (teacher
// forcing) so that every step is compared. Where the reference gap exceeds 2t, the BF16 argmax
// must be the reference token. At every step, the reference token's BF16 logit must be within
// 2t of the BF16 maximum. Running freely, the continuation must match the reference up to the
// first step whose reference gap is below 2t.
TEST_P(Bf16, GreedyFollowsReference) {
  auto model = load_tiny(ComputeType::kBF16, GetParam());
  for (const FixturePrompt& prompt : fixture_prompts()) {
    const float margin = 2.0f * bf16_tolerance(GetParam(), prompt.max_abs_logit);

    GreedyRequest forced = testing::request_for(prompt);
    forced.forced = prompt.greedy_ids;
    auto teacher = testing::run_greedy(*model, {forced}, {})[0];
    int exact = 0;
    for (size_t step = 0; step < prompt.greedy_ids.size(); ++step) {
      if (prompt.greedy_top2_gaps[step] > margin) {
        EXPECT_EQ(teacher.tokens[step], prompt.greedy_ids[step])
            << "prompt " << prompt.name << " step " << step;
      }
      EXPECT_LE(teacher.forced_margins[step], margin) << "prompt " << prompt.name << " step " << step;
      exact += teacher.tokens[step] == prompt.greedy_ids[step];
    }
    RecordProperty("exact_steps_" + prompt.name, exact);

    auto free_running = testing::run_greedy(*model, {testing::request_for(prompt)}, {})[0];
    for (size_t step = 0; step < prompt.greedy_ids.size(); ++step) {
      if (prompt.greedy_top2_gaps[step] <= margin) break;
      ASSERT_EQ(free_running.tokens[step], prompt.greedy_ids[step])
          << "prompt " << prompt.name << " step " << step;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, Bf16, ::testing::ValuesIn(bf16_levels()), level_name);

}  // namespace
}  // namespace glyph::model
