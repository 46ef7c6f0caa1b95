// Sampling parameters and the sampler: temperature, top_k, top_p, min_p,
// repetition/frequency/presence penalties, seeded per request.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace glyph::engine {

struct SamplingParams {
  float temperature = 1.0f;  // Below kGreedyTemperature: greedy.
  float top_p = 1.0f;
  int32_t top_k = -1;        // -1 or 0: no limit.
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  std::optional<uint64_t> seed;
  int32_t max_new_tokens = 128;
  int32_t min_new_tokens = 0;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool skip_special_tokens = true;
  bool no_stop_trim = false;  // Keep the matched stop string or token in the output text.
};

// SGLang treats temperatures below this as greedy decoding.
inline constexpr float kGreedyTemperature = 1e-5f;

// Picks the next token of one request. Holds the request's random generator
// and the counts its penalties need, so one Sampler lives as long as its request.
class Sampler {
 public:
  Sampler(const SamplingParams& params, uint64_t seed, std::span<const int32_t> prompt);

  // Applies penalties and the sampling rules to logits (modified in place)
  // and returns the chosen id. Ids at or past allowed_vocab are never chosen:
  // the embedding table has padding rows with no token behind them.
  int32_t sample(std::span<float> logits, int32_t allowed_vocab);

  // Records a generated token for the frequency, presence and repetition penalties.
  void accept(int32_t token);

 private:
  void apply_penalties(std::span<float> logits) const;

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::unordered_map<int32_t, int32_t> output_counts_;  // Generated tokens -> times seen.
  std::unordered_map<int32_t, bool> seen_tokens_;       // Prompt and generated tokens.
};

}  // namespace glyph::engine
