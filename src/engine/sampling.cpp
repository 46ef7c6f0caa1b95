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

  // Candidates sorted by logit, cut to top_k before the softmax.
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  const int32_t keep = params_.top_k > 0 ? std::min(params_.top_k, vocab) : vocab;
  auto by_logit = [&](int32_t a, int32_t b) { return allowed[a] > allowed[b]; };
  if (keep < vocab) {
    std::partial_sort(order.begin(), order.begin() + keep, order.end(), by_logit);
    order.resize(keep);
  } else {
    std::sort(order.begin(), order.end(), by_logit);
  }

  std::vector<double> probs(order.size());
  const double max_logit = allowed[order[0]];
  double total = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    probs[i] = std::exp((allowed[order[i]] - max_logit) / params_.temperature);
    total += probs[i];
  }
  for (double& p : probs) p /= total;

  // top_p keeps the smallest prefix whose mass reaches top_p (at least one token).
  size_t count = probs.size();
  if (params_.top_p < 1.0f) {
    double mass = 0.0;
    for (size_t i = 0; i < probs.size(); ++i) {
      mass += probs[i];
      if (mass >= params_.top_p) {
        count = i + 1;
        break;
      }
    }
  }
  // min_p drops tokens less likely than min_p times the most likely one.
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * probs[0];
    size_t kept = 1;
    while (kept < count && probs[kept] >= floor) ++kept;
    count = kept;
  }

  double kept_mass = 0.0;
  for (size_t i = 0; i < count; ++i) kept_mass += probs[i];
  std::uniform_real_distribution<double> uniform(0.0, kept_mass);
  const double target = uniform(rng_);
  double cumulative = 0.0;
  for (size_t i = 0; i < count; ++i) {
    cumulative += probs[i];
    if (target < cumulative) return order[i];
  }
  return order[count - 1];
}

}  // namespace glyph::engine
