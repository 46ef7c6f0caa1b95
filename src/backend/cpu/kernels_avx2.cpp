// AVX2 + FMA kernels. BF16 weights are widened to FP32 (a 16-bit shift) and multiplied in FP32.
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "backend/cpu/kernels.h"

namespace glyph::cpu {

namespace {

#include "backend/cpu/linear_tiles.h"

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }

inline __m256 load8(const bf16* p) {
  __m128i halves = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(halves), 16));
}

// Local copies of the bf16 conversions: an inline function from a shared header compiled here
// could be picked by the linker for files built without AVX2 when it is not inlined.
inline float scalar(float value) { return value; }
inline float scalar(bf16 value) {
  uint32_t bits = uint32_t{value.bits} << 16;
  float result;
  __builtin_memcpy(&result, &bits, sizeof(result));
  return result;
}

inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// A tile of up to 4 x rows by 2 W rows: 8 accumulators, 2 weight vectors and one x vector fit
// the 16 YMM registers.
template <typename Weight>
struct Tile {
  static constexpr int kRows = 4;
  static constexpr int kCols = 2;

  template <int Rows, int Cols>
  static void run(const TileArgs& args) {
    const auto* weight = static_cast<const Weight*>(args.weight);
    const int64_t k = args.k;
    __m256 acc[Rows][Cols];
    for (int r = 0; r < Rows; ++r) {
      for (int c = 0; c < Cols; ++c) acc[r][c] = _mm256_setzero_ps();
    }

    int64_t i = 0;
    for (; i + 8 <= k; i += 8) {
      __m256 w[Cols];
      for (int c = 0; c < Cols; ++c) w[c] = load8(weight + c * k + i);
      for (int r = 0; r < Rows; ++r) {
        __m256 x = _mm256_loadu_ps(args.x + r * args.x_stride + i);
        for (int c = 0; c < Cols; ++c) acc[r][c] = _mm256_fmadd_ps(x, w[c], acc[r][c]);
      }
    }

    for (int r = 0; r < Rows; ++r) {
      const float* x = args.x + r * args.x_stride;
      for (int c = 0; c < Cols; ++c) {
        float sum = horizontal_sum(acc[r][c]);
        for (int64_t j = i; j < k; ++j) sum += x[j] * scalar(weight[c * k + j]);
        if (args.bias != nullptr) sum += args.bias[c];
        args.y[r * args.y_stride + c] = sum;
      }
    }
  }
};

void linear_f32(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  linear_blocked<Tile<float>>(args, sizeof(float), n_begin, n_end);
}

void linear_bf16(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  linear_blocked<Tile<bf16>>(args, sizeof(bf16), n_begin, n_end);
}

template <typename T>
float dot(const float* a, const T* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load8(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load8(b + i), acc0);
  float sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) sum += a[i] * scalar(b[i]);
  return sum;
}

template <typename T>
void axpy(float alpha, const T* x, float* y, int64_t n) {
  __m256 a = _mm256_set1_ps(alpha);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(a, load8(x + i), _mm256_loadu_ps(y + i)));
  }
  for (; i < n; ++i) y[i] += alpha * scalar(x[i]);
}

// The inner loops of attention_portable.h. Scores: the 16 keys in two vectors, with separate
// sums for even and odd d (added at the end) so that four FMA chains overlap.
void score_keys(const float* query, const float* key_columns, int64_t head_dim, float* scores) {
  __m256 even_low = _mm256_setzero_ps();
  __m256 even_high = _mm256_setzero_ps();
  __m256 odd_low = _mm256_setzero_ps();
  __m256 odd_high = _mm256_setzero_ps();
  int64_t d = 0;
  for (; d + 2 <= head_dim; d += 2) {
    const __m256 q_even = _mm256_set1_ps(query[d]);
    const __m256 q_odd = _mm256_set1_ps(query[d + 1]);
    even_low = _mm256_fmadd_ps(q_even, _mm256_loadu_ps(key_columns + d * 16), even_low);
    even_high = _mm256_fmadd_ps(q_even, _mm256_loadu_ps(key_columns + d * 16 + 8), even_high);
    odd_low = _mm256_fmadd_ps(q_odd, _mm256_loadu_ps(key_columns + d * 16 + 16), odd_low);
    odd_high = _mm256_fmadd_ps(q_odd, _mm256_loadu_ps(key_columns + d * 16 + 24), odd_high);
  }
  if (d < head_dim) {
    const __m256 q_even = _mm256_set1_ps(query[d]);
    even_low = _mm256_fmadd_ps(q_even, _mm256_loadu_ps(key_columns + d * 16), even_low);
    even_high = _mm256_fmadd_ps(q_even, _mm256_loadu_ps(key_columns + d * 16 + 8), even_high);
  }
  _mm256_storeu_ps(scores, _mm256_add_ps(even_low, odd_low));
  _mm256_storeu_ps(scores + 8, _mm256_add_ps(even_high, odd_high));
}

// Four vectors of 32 dimensions at a time, then single vectors, then single FMAs for a
// head_dim that is not a multiple of 8.
void scale_and_accumulate(float* accumulator, float rescale, const float* weights,
                          const float* values, int64_t visible, int64_t head_dim) {
  const __m256 factor = _mm256_set1_ps(rescale);
  int64_t d = 0;
  for (; d + 32 <= head_dim; d += 32) {
    __m256 sums[4];
    for (int c = 0; c < 4; ++c) sums[c] = _mm256_mul_ps(_mm256_loadu_ps(accumulator + d + 8 * c), factor);
    for (int64_t j = 0; j < visible; ++j) {
      const __m256 weight = _mm256_set1_ps(weights[j]);
      const float* value = values + j * head_dim + d;
      for (int c = 0; c < 4; ++c) sums[c] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(value + 8 * c), sums[c]);
    }
    for (int c = 0; c < 4; ++c) _mm256_storeu_ps(accumulator + d + 8 * c, sums[c]);
  }
  for (; d + 8 <= head_dim; d += 8) {
    __m256 sum = _mm256_mul_ps(_mm256_loadu_ps(accumulator + d), factor);
    for (int64_t j = 0; j < visible; ++j) {
      sum = _mm256_fmadd_ps(_mm256_set1_ps(weights[j]), _mm256_loadu_ps(values + j * head_dim + d), sum);
    }
    _mm256_storeu_ps(accumulator + d, sum);
  }
  for (; d < head_dim; ++d) {
    float sum = accumulator[d] * rescale;
    for (int64_t j = 0; j < visible; ++j) sum = __builtin_fmaf(weights[j], values[j * head_dim + d], sum);
    accumulator[d] = sum;
  }
}

#include "backend/cpu/attention_portable.h"

// Round to nearest even on the integer bits, as glyph::to_bf16; NaN inputs keep a quiet NaN.
void round_to_bf16(const float* x, bf16* y, int64_t n) {
  const __m256i lowest_bit_mask = _mm256_set1_epi32(1);
  const __m256i bias = _mm256_set1_epi32(0x7fff);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 value = _mm256_loadu_ps(x + i);
    __m256i bits = _mm256_castps_si256(value);
    __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), lowest_bit_mask);
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(bias, lsb)), 16);
    __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(value, value, _CMP_UNORD_Q));
    __m256i quiet = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
    rounded = _mm256_blendv_epi8(rounded, quiet, nan);
    // Pack the low 16 bits of each 32-bit lane: packus works per 128-bit half, then reorder.
    __m256i packed = _mm256_packus_epi32(rounded, rounded);
    packed = _mm256_permute4x64_epi64(packed, 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_castsi256_si128(packed));
  }
  for (; i < n; ++i) {
    uint32_t bits;
    __builtin_memcpy(&bits, &x[i], sizeof(bits));
    bool nan = (bits & 0x7fffffffu) > 0x7f800000u;
    bits = nan ? (bits | 0x00400000u) : bits + 0x7fffu + ((bits >> 16) & 1u);
    y[i].bits = static_cast<uint16_t>(bits >> 16);
  }
}

}  // namespace

const Kernels& avx2_kernels() {
  // Aggregate initialisation, so no constructor is compiled with AVX2 instructions.
  static const Kernels table{
      .level = SimdLevel::kAvx2,
      .name = "avx2",
      .linear_f32 = linear_f32,
      .linear_bf16 = linear_bf16,
      .linear_bf16_input = Bf16Activations::kFloat,
      .dot_f32 = dot<float>,
      .dot_bf16 = dot<bf16>,
      .axpy_f32 = axpy<float>,
      .axpy_bf16 = axpy<bf16>,
      .round_to_bf16 = round_to_bf16,
      .attention = attention_portable,
  };
  return table;
}

}  // namespace glyph::cpu
