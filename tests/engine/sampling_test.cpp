#include "engine/sampling.h"

#include <cmath>
#include <map>
#include <vector>

#include <gtest/gtest.h>

namespace glyph::engine {
namespace {

std::vector<float> logits_of(std::initializer_list<float> values) { return values; }

TEST(Sampler, GreedyPicksLargest) {
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler sampler(params, 1, {});
  auto logits = logits_of({0.1f, 2.0f, 1.5f, -3.0f});
  EXPECT_EQ(sampler.sample(logits, 4), 1);
}

TEST(Sampler, AllowedVocabExcludesPaddingRows) {
  SamplingParams params;
  params.temperature = 0.0f;
  Sampler sampler(params, 1, {});
  auto logits = logits_of({0.1f, 0.2f, 9.0f});
  EXPECT_EQ(sampler.sample(logits, 2), 1);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams params;
  params.temperature = 5.0f;
  params.top_k = 1;
  Sampler sampler(params, 7, {});
  for (int i = 0; i < 20; ++i) {
    auto logits = logits_of({1.0f, 1.1f, 0.9f});
    EXPECT_EQ(sampler.sample(logits, 3), 1);
  }
}

TEST(Sampler, SameSeedSameTokens) {
  SamplingParams params;
  params.temperature = 1.0f;
  std::vector<int32_t> first, second;
  for (auto* out : {&first, &second}) {
    Sampler sampler(params, 1234, {});
    for (int i = 0; i < 50; ++i) {
      auto logits = logits_of({0.0f, 0.1f, 0.2f, 0.3f, 0.4f});
      out->push_back(sampler.sample(logits, 5));
    }
  }
  EXPECT_EQ(first, second);
}

TEST(Sampler, FrequenciesFollowSoftmax) {
  SamplingParams params;
  params.temperature = 1.0f;
  Sampler sampler(params, 99, {});
  std::map<int32_t, int> counts;
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    auto logits = logits_of({0.0f, std::log(3.0f)});
    ++counts[sampler.sample(logits, 2)];
  }
  // Expected share of token 1 is 3/4; 20000 draws give a standard error of about 0.003.
  EXPECT_NEAR(counts[1] / static_cast<double>(draws), 0.75, 0.02);
}

TEST(Sampler, TopPKeepsSmallestNucleus) {
  SamplingParams params;
  params.temperature = 1.0f;
  params.top_p = 0.5f;
  Sampler sampler(params, 5, {});
  // Probabilities 0.6, 0.3, 0.1: the nucleus of mass 0.5 is token 0 alone.
  for (int i = 0; i < 100; ++i) {
    auto logits = logits_of({std::log(0.6f), std::log(0.3f), std::log(0.1f)});
    EXPECT_EQ(sampler.sample(logits, 3), 0);
  }
}

TEST(Sampler, MinPDropsUnlikelyTokens) {
  SamplingParams params;
  params.temperature = 1.0f;
  params.min_p = 0.4f;
  Sampler sampler(params, 5, {});
  // Probabilities 0.5, 0.3, 0.2: min_p 0.4 keeps tokens with p >= 0.2, i.e. 0 and 1.
  std::map<int32_t, int> counts;
  for (int i = 0; i < 2000; ++i) {
    auto logits = logits_of({std::log(0.5f), std::log(0.3f), std::log(0.19f)});
    ++counts[sampler.sample(logits, 3)];
  }
  EXPECT_EQ(counts[2], 0);
  EXPECT_GT(counts[0], 0);
  EXPECT_GT(counts[1], 0);
}

TEST(Sampler, RepetitionPenaltyCoversPrompt) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.repetition_penalty = 2.0f;
  const std::vector<int32_t> prompt = {0};
  Sampler sampler(params, 1, prompt);
  // Token 0 (logit 3, seen in the prompt) drops to 1.5, below token 1's 2.
  auto logits = logits_of({3.0f, 2.0f});
  EXPECT_EQ(sampler.sample(logits, 2), 1);
  EXPECT_FLOAT_EQ(logits[0], 1.5f);
}

TEST(Sampler, RepetitionPenaltyMultipliesNegative) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.repetition_penalty = 2.0f;
  const std::vector<int32_t> prompt = {0};
  Sampler sampler(params, 1, prompt);
  auto logits = logits_of({-1.0f, -1.5f});
  EXPECT_EQ(sampler.sample(logits, 2), 1);
  EXPECT_FLOAT_EQ(logits[0], -2.0f);
}

TEST(Sampler, FrequencyAndPresencePenalties) {
  SamplingParams params;
  params.temperature = 0.0f;
  params.frequency_penalty = 0.5f;
  params.presence_penalty = 0.25f;
  const std::vector<int32_t> prompt = {1};
  Sampler sampler(params, 1, prompt);
  sampler.accept(0);
  sampler.accept(0);
  auto logits = logits_of({3.0f, 2.0f});
  sampler.sample(logits, 2);
  EXPECT_FLOAT_EQ(logits[0], 3.0f - 2 * 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[1], 2.0f);  // Prompt tokens carry no frequency penalty.
}

}  // namespace
}  // namespace glyph::engine
