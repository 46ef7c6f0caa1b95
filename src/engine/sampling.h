// Sampling parameters and the sampler: temperature, top_k, top_p, min_p,
// repetition/frequency/presence penalties, seeded per request.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace glyph::engine {

struct SamplingParams {
  float temperature = 1.0f;        // 0 means greedy.
  float top_p = 1.0f;
  int32_t top_k = -1;              // -1 or 0: no limit.
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
  bool no_stop_trim = false;       // Keep the matched stop string in the output.
};
}  // namespace glyph::engine
