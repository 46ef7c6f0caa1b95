// The blocked online softmax of attention_avx512.cpp in plain C++: keys in blocks of
// kAttentionKeyBlock at fixed cache positions, each query row reduced alone, so a row's result
// depends only on its own position and the cache contents.
//
// Included inside an anonymous namespace by attention_scalar.cpp (portable flags) and by
// kernels_avx2.cpp (AVX2 and FMA), so each gets a private copy. It calls no inline function
// from a shared header: an out-of-line copy compiled for AVX2 could otherwise be picked by the
// linker for code that runs on any CPU. The including file includes <cstdint> and
// backend/cpu/kernels.h first, outside the namespace, and defines the two inner loops:
//   void score_keys(const float* query, const float* key_columns, int64_t head_dim,
//                   float* scores);
//     scores[j] = sum over d of query[d] * key_columns[d * 16 + j], for the 16 keys j.
//   void scale_and_accumulate(float* accumulator, float rescale, const float* weights,
//                             const float* values, int64_t visible, int64_t head_dim);
//     accumulator = accumulator * rescale + sum over j < visible of weights[j] * values[j].
// Each must add in an order fixed by head_dim alone.

inline float widen(float value) { return value; }
inline float widen(glyph::bf16 value) {
  const uint32_t bits = uint32_t{value.bits} << 16;
  float result;
  __builtin_memcpy(&result, &bits, sizeof(result));
  return result;
}

// Copies positions [start, start + count) of the tile's KV head as FP32: keys transposed into
// key_columns [head_dim][16], values into values [16][head_dim]. Key columns past count are
// zeros. Values past count are left as they are, because no row reads them.
template <typename T>
void load_portable_block(const glyph::cpu::AttentionTile& tile, int64_t start, int64_t count,
                         float* key_columns, float* values) {
  constexpr int64_t kBlock = glyph::cpu::kAttentionKeyBlock;
  const auto* k = static_cast<const T*>(tile.k);
  const auto* v = static_cast<const T*>(tile.v);
  const int64_t head_dim = tile.head_dim;
  for (int64_t j = 0; j < kBlock; ++j) {
    if (j >= count) {
      for (int64_t d = 0; d < head_dim; ++d) key_columns[d * kBlock + j] = 0.0f;
      continue;
    }
    const int64_t position = start + j;
    const int64_t page = tile.pages[position / tile.page_size];
    const int64_t offset =
        page * tile.page_stride + tile.head_offset + (position % tile.page_size) * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) {
      key_columns[d * kBlock + j] = widen(k[offset + d]);
      values[j * head_dim + d] = widen(v[offset + d]);
    }
  }
}

// Folds one block into one query row: scores of keys past visible are not used.
inline void update_portable_row(const float* query, const float* key_columns, const float* values,
                                int64_t visible, int64_t head_dim, float scale, float& maximum,
                                float& sum, float* accumulator) {
  constexpr int64_t kBlock = glyph::cpu::kAttentionKeyBlock;
  float scores[kBlock];
  score_keys(query, key_columns, head_dim, scores);

  float block_max = -__builtin_inff();
  for (int64_t j = 0; j < visible; ++j) {
    scores[j] *= scale;
    block_max = scores[j] > block_max ? scores[j] : block_max;
  }
  const float new_max = maximum > block_max ? maximum : block_max;
  const float rescale = __builtin_expf(maximum - new_max);  // exp(-inf) = 0 on the first block.
  maximum = new_max;
  float weights[kBlock];
  sum *= rescale;
  for (int64_t j = 0; j < visible; ++j) {
    weights[j] = __builtin_expf(scores[j] - new_max);
    sum += weights[j];
  }
  scale_and_accumulate(accumulator, rescale, weights, values, visible, head_dim);
}

template <typename T>
void attend_portable(const glyph::cpu::AttentionTile& tile) {
  constexpr int64_t kBlock = glyph::cpu::kAttentionKeyBlock;
  const int64_t head_dim = tile.head_dim;
  const int64_t rows = tile.tokens * tile.group;
  float* key_columns = tile.scratch;
  float* values = key_columns + kBlock * head_dim;
  float* maxima = values + kBlock * head_dim;
  float* sums = maxima + rows;
  float* accumulators = sums + rows;
  for (int64_t row = 0; row < rows; ++row) {
    maxima[row] = -__builtin_inff();
    sums[row] = 0.0f;
  }
  for (int64_t i = 0; i < rows * head_dim; ++i) accumulators[i] = 0.0f;

  const int64_t end = tile.first_position + tile.tokens;  // One past the last visible position.
  for (int64_t start = 0; start < end; start += kBlock) {
    const int64_t count = end - start < kBlock ? end - start : kBlock;
    load_portable_block<T>(tile, start, count, key_columns, values);
    // Tokens before first_token see none of this block.
    const int64_t first_token = start > tile.first_position ? start - tile.first_position : 0;
    for (int64_t i = first_token; i < tile.tokens; ++i) {
      const int64_t seen = tile.first_position + i - start + 1;
      const int64_t visible = seen < count ? seen : count;
      for (int64_t g = 0; g < tile.group; ++g) {
        const int64_t row = i * tile.group + g;
        update_portable_row(tile.q + i * tile.q_stride + g * head_dim, key_columns, values,
                            visible, head_dim, tile.scale, maxima[row], sums[row],
                            accumulators + row * head_dim);
      }
    }
  }

  for (int64_t i = 0; i < tile.tokens; ++i) {
    for (int64_t g = 0; g < tile.group; ++g) {
      const int64_t row = i * tile.group + g;
      const float inverse = 1.0f / sums[row];
      float* out = tile.out + i * tile.out_stride + g * head_dim;
      for (int64_t d = 0; d < head_dim; ++d) out[d] = accumulators[row * head_dim + d] * inverse;
    }
  }
}

inline void attention_portable(const glyph::cpu::AttentionTile& tile) {
  if (tile.bf16) {
    attend_portable<glyph::bf16>(tile);
  } else {
    attend_portable<float>(tile);
  }
}
