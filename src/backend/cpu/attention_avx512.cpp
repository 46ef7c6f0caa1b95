// Attention with AVX-512: a blocked online softmax over paged KV, one work item per sequence,
// KV head and run of query tokens (AttentionTile in kernels.h).
//
// Each block of kAttentionKeyBlock (16) cache positions is loaded once per work item and
// widened to FP32. The keys are transposed so that one vector contains one dimension of all
// 16 keys. The block then serves every query row of the item: the query heads that share the
// KV head (16 in Glyph), times the item's tokens. A row's 16 scores are accumulated over the
// head dimension in order, and its maximum, sum and weighted sum of values update as in the
// portable kernel. Nothing in a row's arithmetic depends on the other rows.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "backend/cpu/kernels_internal.h"

namespace glyph::cpu::internal {

namespace {

#include "backend/cpu/avx512_helpers.h"

constexpr int kMaxRows = 8;  // Query rows scored together: 8 accumulators of 16 keys.

inline __m512 load16(const float* p, __mmask16 mask) { return _mm512_maskz_loadu_ps(mask, p); }
inline __m512 load16(const bf16* p, __mmask16 mask) {
  const __m256i halves = _mm256_maskz_loadu_epi16(mask, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// Scratch of one work item, carved from AttentionTile::scratch.
struct Workspace {
  int64_t padded;      // head_dim rounded up to 16.
  float* key_columns;  // [padded][16]: dimension d of the block's 16 keys.
  float* values;       // [16][padded]
  float* maxima;       // [rows]
  float* sums;         // [rows]
  float* accumulators; // [rows][padded]
};

// Loads positions [start, start + count) of the KV head into the workspace in FP32. Keys and
// values past count, and dimensions past head_dim, are zeros.
// end: one past the last position the work item reads.
template <typename T>
void load_block(const AttentionTile& tile, int64_t start, int64_t count, int64_t end,
                const Workspace& work) {
  const auto* k = static_cast<const T*>(tile.k);
  const auto* v = static_cast<const T*>(tile.v);
  const T* key_rows[kAttentionKeyBlock];
  const T* value_rows[kAttentionKeyBlock];
  int64_t page_index = start / tile.page_size;
  int64_t in_page = start % tile.page_size;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t offset = tile.pages[page_index] * tile.page_stride + tile.head_offset +
                           in_page * tile.head_dim;
    key_rows[j] = k + offset;
    value_rows[j] = v + offset;
    if (++in_page == tile.page_size) {
      in_page = 0;
      ++page_index;
    }
  }

  // Decode reads the cache once per step, so it streams from memory: prefetch the next
  // block's rows while this one is in use.
  const int64_t next_count = end - (start + count) < kAttentionKeyBlock ? end - (start + count)
                                                                        : kAttentionKeyBlock;
  const int64_t row_bytes = tile.head_dim * static_cast<int64_t>(sizeof(T));
  for (int64_t j = 0; j < next_count; ++j) {
    const int64_t offset = tile.pages[page_index] * tile.page_stride + tile.head_offset +
                           in_page * tile.head_dim;
    for (int64_t byte = 0; byte < row_bytes; byte += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(k + offset) + byte, _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(v + offset) + byte, _MM_HINT_T0);
    }
    if (++in_page == tile.page_size) {
      in_page = 0;
      ++page_index;
    }
  }

  for (int64_t column = 0; column < work.padded; column += 16) {
    const __mmask16 mask = lanes16(tile.head_dim - column);
    __m512 block[16];
    for (int64_t j = 0; j < 16; ++j) {
      const bool present = j < count;
      block[j] = present ? load16(key_rows[j] + column, mask) : _mm512_setzero_ps();
      const __m512 value = present ? load16(value_rows[j] + column, mask) : _mm512_setzero_ps();
      _mm512_storeu_ps(work.values + j * work.padded + column, value);
    }
    transpose16x16(block);
    for (int64_t d = 0; d < 16; ++d) _mm512_storeu_ps(work.key_columns + (column + d) * 16, block[d]);
  }
}

// q.k for Rows query rows and the block's 16 keys, summed over d in order, times scale.
template <int Rows>
void score_rows(const float* const* queries, const Workspace& work, int64_t head_dim,
                float scale, __m512* scores) {
  __m512 sums[Rows];
  for (int r = 0; r < Rows; ++r) sums[r] = _mm512_setzero_ps();
  for (int64_t d = 0; d < head_dim; ++d) {
    const __m512 keys = _mm512_loadu_ps(work.key_columns + d * 16);
    for (int r = 0; r < Rows; ++r) {
      sums[r] = _mm512_fmadd_ps(_mm512_set1_ps(queries[r][d]), keys, sums[r]);
    }
  }
  for (int r = 0; r < Rows; ++r) scores[r] = _mm512_mul_ps(sums[r], _mm512_set1_ps(scale));
}

using ScoreFunction = void (*)(const float* const*, const Workspace&, int64_t, float, __m512*);
constexpr ScoreFunction kScoreRows[kMaxRows] = {score_rows<1>, score_rows<2>, score_rows<3>,
                                                score_rows<4>, score_rows<5>, score_rows<6>,
                                                score_rows<7>, score_rows<8>};

// For Rows rows (1 or 2) that see the same keys: accumulator = accumulator * rescale + sum
// over j < visible of weights[j] * values[j], over Vectors vectors of 16 dimensions starting
// at column. Two rows share each load of the values; each row's arithmetic is the same as
// alone.
template <int Rows, int Vectors>
void accumulate(float* const* accumulators, const float* const* weights, const float* rescales,
                const Workspace& work, int64_t column, int64_t visible) {
  __m512 sums[Rows][Vectors];
  for (int r = 0; r < Rows; ++r) {
    const __m512 factor = _mm512_set1_ps(rescales[r]);
    for (int c = 0; c < Vectors; ++c) {
      sums[r][c] = _mm512_mul_ps(_mm512_loadu_ps(accumulators[r] + column + 16 * c), factor);
    }
  }
  for (int64_t j = 0; j < visible; ++j) {
    const float* value = work.values + j * work.padded + column;
    __m512 weight[Rows];
    for (int r = 0; r < Rows; ++r) weight[r] = _mm512_set1_ps(weights[r][j]);
    for (int c = 0; c < Vectors; ++c) {
      const __m512 v = _mm512_loadu_ps(value + 16 * c);
      for (int r = 0; r < Rows; ++r) sums[r][c] = _mm512_fmadd_ps(weight[r], v, sums[r][c]);
    }
  }
  for (int r = 0; r < Rows; ++r) {
    for (int c = 0; c < Vectors; ++c) _mm512_storeu_ps(accumulators[r] + column + 16 * c, sums[r][c]);
  }
}

using AccumulateFunction = void (*)(float* const*, const float* const*, const float*,
                                    const Workspace&, int64_t, int64_t);
constexpr AccumulateFunction kAccumulate[2][8] = {
    {accumulate<1, 1>, accumulate<1, 2>, accumulate<1, 3>, accumulate<1, 4>, accumulate<1, 5>,
     accumulate<1, 6>, accumulate<1, 7>, accumulate<1, 8>},
    {accumulate<2, 1>, accumulate<2, 2>, accumulate<2, 3>, accumulate<2, 4>, accumulate<2, 5>,
     accumulate<2, 6>, accumulate<2, 7>, accumulate<2, 8>}};

// The softmax step of one row for the block, keys past visible masked out: updates the
// row's maximum and sum, writes its weights (zeros past visible) and returns the factor for
// its earlier weighted sum of values.
float softmax_step(__m512 scores, int64_t visible, float* maximum, float* sum, float* weights) {
  const __mmask16 mask = lanes16(visible);
  const float block_max = _mm512_mask_reduce_max_ps(mask, scores);
  const float new_max = *maximum > block_max ? *maximum : block_max;
  // exp(maximum - new_max) through the same exp16 as the weights: 0 on the first block
  // (maximum is -inf), and exactly exp16(0) = 1 when the maximum stays, which needs no call.
  float rescale = 1.0f;
  if (new_max != *maximum) {
    rescale = _mm512_cvtss_f32(exp16(_mm512_set1_ps(*maximum - new_max)));
  }
  const __m512 values = _mm512_maskz_mov_ps(mask, exp16(_mm512_sub_ps(scores, _mm512_set1_ps(new_max))));
  _mm512_storeu_ps(weights, values);
  *maximum = new_max;
  *sum = *sum * rescale + _mm512_reduce_add_ps(values);
  return rescale;
}

template <typename T>
void attend(const AttentionTile& tile) {
  const int64_t head_dim = tile.head_dim;
  const int64_t rows = tile.tokens * tile.group;
  Workspace work;
  work.padded = (head_dim + 15) / 16 * 16;
  work.key_columns = tile.scratch;
  work.values = work.key_columns + kAttentionKeyBlock * work.padded;
  work.maxima = work.values + kAttentionKeyBlock * work.padded;
  work.sums = work.maxima + rows;
  work.accumulators = work.sums + rows;
  for (int64_t row = 0; row < rows; ++row) {
    work.maxima[row] = -__builtin_inff();
    work.sums[row] = 0.0f;
  }
  for (int64_t i = 0; i < rows * work.padded; i += 16) {
    _mm512_storeu_ps(work.accumulators + i, _mm512_setzero_ps());
  }

  const int64_t end = tile.first_position + tile.tokens;  // One past the last visible position.
  for (int64_t start = 0; start < end; start += kAttentionKeyBlock) {
    const int64_t count = end - start < kAttentionKeyBlock ? end - start : kAttentionKeyBlock;
    load_block<T>(tile, start, count, end, work);

    // Rows are token-major; tokens before first_token see none of this block.
    const int64_t first_token = start > tile.first_position ? start - tile.first_position : 0;
    for (int64_t row = first_token * tile.group; row < rows; row += kMaxRows) {
      const int64_t chunk = rows - row < kMaxRows ? rows - row : kMaxRows;
      const float* queries[kMaxRows];
      for (int64_t r = 0; r < chunk; ++r) {
        const int64_t token = (row + r) / tile.group;
        const int64_t head = (row + r) % tile.group;
        queries[r] = tile.q + token * tile.q_stride + head * head_dim;
      }
      __m512 scores[kMaxRows];
      kScoreRows[chunk - 1](queries, work, head_dim, tile.scale, scores);

      float weights[kMaxRows][kAttentionKeyBlock];
      float rescales[kMaxRows];
      int64_t visible[kMaxRows];
      for (int64_t r = 0; r < chunk; ++r) {
        const int64_t position = tile.first_position + (row + r) / tile.group;
        visible[r] = position - start + 1 < count ? position - start + 1 : count;
        rescales[r] = softmax_step(scores[r], visible[r], work.maxima + row + r,
                                   work.sums + row + r, weights[r]);
      }

      // Weighted sums of values, two rows at a time where they see the same keys.
      for (int64_t r = 0; r < chunk;) {
        const int64_t pair = r + 1 < chunk && visible[r + 1] == visible[r] ? 2 : 1;
        float* accumulators[2] = {work.accumulators + (row + r) * work.padded,
                                  work.accumulators + (row + r + pair - 1) * work.padded};
        const float* row_weights[2] = {weights[r], weights[r + pair - 1]};
        for (int64_t column = 0; column < work.padded; column += 16 * 8) {
          const int64_t vectors = (work.padded - column) / 16 < 8 ? (work.padded - column) / 16 : 8;
          kAccumulate[pair - 1][vectors - 1](accumulators, row_weights, rescales + r, work, column,
                                             visible[r]);
        }
        r += pair;
      }
    }
  }

  for (int64_t row = 0; row < rows; ++row) {
    const __m512 inverse = _mm512_set1_ps(1.0f / work.sums[row]);
    const float* accumulator = work.accumulators + row * work.padded;
    float* out = tile.out + (row / tile.group) * tile.out_stride + (row % tile.group) * head_dim;
    for (int64_t column = 0; column < head_dim; column += 16) {
      const __m512 value = _mm512_mul_ps(_mm512_loadu_ps(accumulator + column), inverse);
      _mm512_mask_storeu_ps(out + column, lanes16(head_dim - column), value);
    }
  }
}

}  // namespace

void attention_avx512(const AttentionTile& tile) {
  if (tile.bf16) {
    attend<bf16>(tile);
  } else {
    attend<float>(tile);
  }
}

}  // namespace glyph::cpu::internal
