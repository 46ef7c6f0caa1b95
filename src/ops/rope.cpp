#include "ops/rope.h"

#include <cmath>

#include "core/error.h"

namespace glyph::ops {

MropeTable::MropeTable(int32_t rotary_dim, double theta, std::array<int32_t, 3> sections)
    : rotary_dim_(rotary_dim) {
  GLYPH_CHECK(rotary_dim > 0 && rotary_dim % 2 == 0, "rotary_dim {} must be even and positive",
              rotary_dim);
  const int32_t pairs = rotary_dim / 2;
  GLYPH_CHECK(sections[0] + sections[1] + sections[2] == pairs,
              "mrope sections {}+{}+{} do not add up to rotary_dim / 2 = {}", sections[0],
              sections[1], sections[2], pairs);

  // transformers: inv_freq = 1 / theta ** (arange(0, dim, 2).float() / dim), in float32.
  inverse_frequency_.resize(static_cast<size_t>(pairs));
  for (int32_t j = 0; j < pairs; ++j) {
    const float exponent = static_cast<float>(2 * j) / static_cast<float>(rotary_dim);
    const auto power = static_cast<float>(std::pow(theta, static_cast<double>(exponent)));
    inverse_frequency_[static_cast<size_t>(j)] = 1.0f / power;
  }

  component_.resize(static_cast<size_t>(pairs));
  int32_t j = 0;
  for (uint8_t component = 0; component < 3; ++component) {
    for (int32_t i = 0; i < sections[component]; ++i) component_[static_cast<size_t>(j++)] = component;
  }
}

void MropeTable::compute(std::span<const int32_t> positions, std::vector<float>& cos,
                         std::vector<float>& sin) const {
  const size_t tokens = positions.size() / 3;
  const size_t pairs = inverse_frequency_.size();
  cos.resize(tokens * pairs);
  sin.resize(tokens * pairs);
  for (size_t t = 0; t < tokens; ++t) {
    for (size_t j = 0; j < pairs; ++j) {
      const auto position = static_cast<float>(positions[t * 3 + component_[j]]);
      const float angle = position * inverse_frequency_[j];
      cos[t * pairs + j] = std::cos(angle);
      sin[t * pairs + j] = std::sin(angle);
    }
  }
}

void apply_rope_interleaved(Context& context, float* x, int64_t tokens, int64_t row_stride,
                            int64_t heads, int64_t head_dim, int32_t rotary_dim,
                            const float* cos, const float* sin) {
  const int64_t pairs = rotary_dim / 2;
  auto rotate = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const float* c = cos + t * pairs;
      const float* s = sin + t * pairs;
      for (int64_t h = 0; h < heads; ++h) {
        float* head = x + t * row_stride + h * head_dim;
        for (int64_t j = 0; j < pairs; ++j) {
          const float even = head[2 * j];
          const float odd = head[2 * j + 1];
          head[2 * j] = even * c[j] - odd * s[j];
          head[2 * j + 1] = odd * c[j] + even * s[j];
        }
      }
    }
  };
  context.pool().parallel_for(tokens, std::max<int64_t>(1, 8192 / (heads * rotary_dim)), rotate);
}

}  // namespace glyph::ops
