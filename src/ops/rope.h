// Rotary position embedding as glm4v's text decoder applies it: partial (only the first
// rotary_dim dims of each head rotate), interleaved (dims 2j and 2j+1 form a pair, GPT-J style),
// and multimodal (M-RoPE: each frequency takes one of three position components).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "ops/ops.h"

namespace glyph::ops {

class MropeTable {
 public:
  // rotary_dim: rotated dims per head (head_dim * partial_rotary_factor), even.
  // sections: frequencies per position component (t, h, w), summing to rotary_dim / 2.
  MropeTable(int32_t rotary_dim, double theta, std::array<int32_t, 3> sections);

  int32_t rotary_dim() const { return rotary_dim_; }

  // cos and sin [tokens, rotary_dim / 2] for positions [tokens, 3] (t, h, w), in FP32 as
  // transformers computes them: angle = float(position) * inv_freq, rounded to float.
  void compute(std::span<const int32_t> positions, std::vector<float>& cos,
               std::vector<float>& sin) const;

 private:
  int32_t rotary_dim_;
  std::vector<float> inverse_frequency_;  // theta^(-2j / rotary_dim), j < rotary_dim / 2.
  std::vector<uint8_t> component_;        // Position component (0 t, 1 h, 2 w) of frequency j.
};

// Rotates x in place: for every token t and head h, pairs (x[2j], x[2j+1]) of the first
// rotary_dim dims turn by angle j of token t. x: [tokens, heads, head_dim] with row stride
// row_stride between tokens; cos, sin: [tokens, rotary_dim / 2] from MropeTable::compute.
void apply_rope_interleaved(Context& context, float* x, int64_t tokens, int64_t row_stride,
                            int64_t heads, int64_t head_dim, int32_t rotary_dim,
                            const float* cos, const float* sin);

}  // namespace glyph::ops
