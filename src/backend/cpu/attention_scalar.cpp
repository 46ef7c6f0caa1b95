// Attention for the scalar table: the loops of attention_portable.h built with the compiler's
// default flags.
#include <cstdint>

#include "backend/cpu/kernels_internal.h"

namespace glyph::cpu::internal {

namespace {

void score_keys(const float* query, const float* key_columns, int64_t head_dim, float* scores) {
  for (int64_t j = 0; j < kAttentionKeyBlock; ++j) scores[j] = 0.0f;
  for (int64_t d = 0; d < head_dim; ++d) {
    for (int64_t j = 0; j < kAttentionKeyBlock; ++j) {
      scores[j] += query[d] * key_columns[d * kAttentionKeyBlock + j];
    }
  }
}

void scale_and_accumulate(float* accumulator, float rescale, const float* weights,
                          const float* values, int64_t visible, int64_t head_dim) {
  for (int64_t d = 0; d < head_dim; ++d) accumulator[d] *= rescale;
  for (int64_t j = 0; j < visible; ++j) {
    for (int64_t d = 0; d < head_dim; ++d) accumulator[d] += weights[j] * values[j * head_dim + d];
  }
}

#include "backend/cpu/attention_portable.h"

}  // namespace

void attention_scalar(const AttentionTile& tile) { attention_portable(tile); }

}  // namespace glyph::cpu::internal
