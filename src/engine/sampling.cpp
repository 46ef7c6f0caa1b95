#include "engine/sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace glyph::engine {

Sampler::Sampler(const SamplingParams& params, uint64_t seed, std::span<const int32_t> prompt)
    : params_(params), rng_(seed) {
  for (int32_t token : prompt) seen_tokens_[token] = true;
}

void Sampler::accept(int32_t token) {
  ++output_counts_[token];
  seen_tokens_[token] = true;
}

// Repetition penalty follows Hugging Face and SGLang: it covers prompt and
// output tokens and divides positive logits, multiplies negative ones.
// Frequency and presence penalties follow OpenAI and cover output tokens only.
void Sampler::apply_penalties(std::span<float> logits) const {
  const int32_t vocab = static_cast<int32_t>(logits.size());
  if (params_.repetition_penalty != 1.0f) {
    for (const auto& [token, seen] : seen_tokens_) {
      if (token < 0 || token >= vocab) continue;
      float& logit = logits[token];
      logit = logit > 0 ? logit / params_.repetition_penalty : logit * params_.repetition_penalty;
    }
  }
  if (params_.frequency_penalty != 0.0f || params_.presence_penalty != 0.0f) {
    for (const auto& [token, count] : output_counts_) {
      if (token < 0 || token >= vocab) continue;
      logits[token] -= params_.frequency_penalty * static_cast<float>(count) +
                       params_.presence_penalty;
    }
  }
}

int32_t Sampler::sample(std::span<float> logits, int32_t allowed_vocab) {
  const int32_t vocab = std::min<int32_t>(allowed_vocab, static_cast<int32_t>(logits.size()));
  std::span<float> allowed = logits.first(vocab);
  apply_penalties(allowed);

  if (params_.temperature < kGreedyTemperature || params_.top_k == 1) {
    return static_cast<int32_t>(std::max_element(allowed.begin(), allowed.end()) -
                                allowed.begin());
  }

  // Softmax with temperature over the whole vocabulary: O(vocab), no sort.
  const float max_logit = *std::max_element(allowed.begin(), allowed.end());
  std::vector<float> probs(vocab);
  for (int32_t i = 0; i < vocab; ++i) {
    probs[i] = std::exp((allowed[i] - max_logit) / params_.temperature);
  }

  // Candidates in the order SGLang applies the rules: top_k, then top_p over
  // the renormalised top_k, then min_p. Sorting 151k entries per token is
  // slow, so top_p sorts the largest kFirstCut first and widens only when
  // their mass falls short.
  constexpr size_t kFirstCut = 1024;
  std::vector<int32_t> order;
  const bool needs_filter = params_.top_k > 0 || params_.top_p < 1.0f || params_.min_p > 0.0f;
  if (needs_filter) {
    order.resize(vocab);
    std::iota(order.begin(), order.end(), 0);
    auto by_prob = [&](int32_t a, int32_t b) { return probs[a] > probs[b]; };
    if (params_.top_k > 0 && params_.top_k < vocab) {
      std::nth_element(order.begin(), order.begin() + params_.top_k, order.end(), by_prob);
      order.resize(params_.top_k);
    }
    if (params_.top_p < 1.0f) {
      double reference = 0.0;
      for (int32_t id : order) reference += probs[id];
      const double target_mass = params_.top_p * reference;
      size_t sorted = std::min(order.size(), kFirstCut);
      while (true) {
        std::partial_sort(order.begin(), order.begin() + sorted, order.end(), by_prob);
        double mass = 0.0;
        size_t prefix = 0;
        while (prefix < sorted && mass < target_mass) mass += probs[order[prefix++]];
        if (mass >= target_mass || sorted == order.size()) {
          order.resize(std::max<size_t>(prefix, 1));  // At least one token.
          break;
        }
        sorted = std::min(order.size(), sorted * 4);
      }
    }
    if (params_.min_p > 0.0f) {
      float max_prob = 0.0f;
      for (int32_t id : order) max_prob = std::max(max_prob, probs[id]);
      const float floor = params_.min_p * max_prob;
      std::erase_if(order, [&](int32_t id) { return probs[id] < floor; });
    }
  }
  const size_t count = needs_filter ? order.size() : static_cast<size_t>(vocab);

  auto candidate = [&](size_t i) { return needs_filter ? order[i] : static_cast<int32_t>(i); };
  double kept_mass = 0.0;
  for (size_t i = 0; i < count; ++i) kept_mass += probs[candidate(i)];
  std::uniform_real_distribution<double> uniform(0.0, kept_mass);
  const double target = uniform(rng_);
  double cumulative = 0.0;
  for (size_t i = 0; i < count; ++i) {
    cumulative += probs[candidate(i)];
    if (target < cumulative) return candidate(i);
  }
  return candidate(count - 1);
}

}  // namespace glyph::engine
