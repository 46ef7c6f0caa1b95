// AVX-512 kernels, in three tables. avx512 (F, BW, VL, DQ) widens BF16 weights to FP32 like the
// AVX2 kernels. avx512_bf16 multiplies BF16 weights by activations rounded to BF16 with
// VDPBF16PS, which accumulates the products in FP32. amx_bf16 is avx512_bf16 with the AMX
// linear kernel of linear_amx_avx512.cpp for BF16 weights. All three share the attention of
// attention_avx512.cpp.
// GCC 12's AVX-512 headers build placeholder vectors as `__m512 __Y = __Y;`
// (_mm512_undefined_ps and friends), which -Wuninitialized reports at every inlined use.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <utility>

#include "backend/cpu/kernels.h"
#include "backend/cpu/kernels_internal.h"

namespace glyph::cpu {

namespace {

#include "backend/cpu/linear_tiles.h"

// Lanes [0, count) set, count in [0, 16] or [0, 32].
inline __mmask16 mask16(int64_t count) {
  return static_cast<__mmask16>(count >= 16 ? 0xffffu : (1u << count) - 1u);
}
inline __mmask32 mask32(int64_t count) {
  return static_cast<__mmask32>(count >= 32 ? 0xffffffffu : (1u << count) - 1u);
}

// Loads count (<= 16) values as FP32, zero-filling the rest.
inline __m512 load16(const float* p, int64_t count) {
  return _mm512_maskz_loadu_ps(mask16(count), p);
}
inline __m512 load16(const bf16* p, int64_t count) {
  __m256i halves = _mm256_maskz_loadu_epi16(mask16(count), p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(halves), 16));
}

// A tile of up to 4 x rows by 4 W rows in FP32: 16 accumulators, 4 weight vectors and one x
// vector, 21 of the 32 ZMM registers.
template <typename Weight>
struct WideningTile {
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;

  template <int Rows, int Cols>
  static void run(const TileArgs& args) {
    const auto* weight = static_cast<const Weight*>(args.weight);
    const int64_t k = args.k;
    __m512 acc[Rows][Cols];
    for (int r = 0; r < Rows; ++r) {
      for (int c = 0; c < Cols; ++c) acc[r][c] = _mm512_setzero_ps();
    }

    for (int64_t i = 0; i < k; i += 16) {
      int64_t count = k - i;
      __m512 w[Cols];
      for (int c = 0; c < Cols; ++c) w[c] = load16(weight + c * k + i, count);
      for (int r = 0; r < Rows; ++r) {
        __m512 x = load16(args.x + r * args.x_stride + i, count);
        for (int c = 0; c < Cols; ++c) acc[r][c] = _mm512_fmadd_ps(x, w[c], acc[r][c]);
      }
    }

    for (int r = 0; r < Rows; ++r) {
      for (int c = 0; c < Cols; ++c) {
        float sum = _mm512_reduce_add_ps(acc[r][c]);
        if (args.bias != nullptr) sum += args.bias[c];
        args.y[r * args.y_stride + c] = sum;
      }
    }
  }
};

// The same tile shape with VDPBF16PS: each instruction takes 32 BF16 values of x and W and
// adds the products of adjacent pairs into 16 FP32 lanes.
struct DotBf16Tile {
  static constexpr int kRows = 4;
  static constexpr int kCols = 4;

  template <int Rows, int Cols>
  static void run(const TileArgs& args) {
    const auto* weight = static_cast<const bf16*>(args.weight);
    const auto* x = static_cast<const bf16*>(args.x_bf16);
    const int64_t k = args.k;
    __m512 acc[Rows][Cols];
    for (int r = 0; r < Rows; ++r) {
      for (int c = 0; c < Cols; ++c) acc[r][c] = _mm512_setzero_ps();
    }

    for (int64_t i = 0; i < k; i += 32) {
      __mmask32 mask = mask32(k - i);
      __m512i w[Cols];
      for (int c = 0; c < Cols; ++c) w[c] = _mm512_maskz_loadu_epi16(mask, weight + c * k + i);
      for (int r = 0; r < Rows; ++r) {
        __m512i xv = _mm512_maskz_loadu_epi16(mask, x + r * k + i);
        for (int c = 0; c < Cols; ++c) {
          acc[r][c] = _mm512_dpbf16_ps(acc[r][c], (__m512bh)xv, (__m512bh)w[c]);
        }
      }
    }

    for (int r = 0; r < Rows; ++r) {
      for (int c = 0; c < Cols; ++c) {
        float sum = _mm512_reduce_add_ps(acc[r][c]);
        if (args.bias != nullptr) sum += args.bias[c];
        args.y[r * args.y_stride + c] = sum;
      }
    }
  }
};

void linear_f32(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  linear_blocked<WideningTile<float>>(args, sizeof(float), n_begin, n_end);
}

void linear_bf16_widening(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  linear_blocked<WideningTile<bf16>>(args, sizeof(bf16), n_begin, n_end);
}

void linear_bf16_dot(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  linear_blocked<DotBf16Tile>(args, sizeof(bf16), n_begin, n_end);
}

template <typename T>
float dot(const float* a, const T* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(b + i, 16), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load16(b + i + 16, 16), acc1);
  }
  for (; i < n; i += 16) acc0 = _mm512_fmadd_ps(load16(a + i, n - i), load16(b + i, n - i), acc0);
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <typename T>
void axpy(float alpha, const T* x, float* y, int64_t n) {
  __m512 a = _mm512_set1_ps(alpha);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 mask = mask16(n - i);
    __m512 sum = _mm512_fmadd_ps(a, load16(x + i, n - i), _mm512_maskz_loadu_ps(mask, y + i));
    _mm512_mask_storeu_ps(y + i, mask, sum);
  }
}

// Round to nearest even on the integer bits, as glyph::to_bf16; NaN inputs keep a quiet NaN.
// VCVTNEPS2BF16 would be shorter but flushes subnormal inputs to zero.
void round_to_bf16(const float* x, bf16* y, int64_t n) {
  const __m512i lowest_bit_mask = _mm512_set1_epi32(1);
  const __m512i bias = _mm512_set1_epi32(0x7fff);
  const __m512i quiet_bit = _mm512_set1_epi32(0x40);
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 mask = mask16(n - i);
    __m512 value = _mm512_maskz_loadu_ps(mask, x + i);
    __m512i bits = _mm512_castps_si512(value);
    __m512i high = _mm512_srli_epi32(bits, 16);
    __m512i lsb = _mm512_and_si512(high, lowest_bit_mask);
    __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(bias, lsb)), 16);
    __mmask16 nan = _mm512_cmp_ps_mask(value, value, _CMP_UNORD_Q);
    rounded = _mm512_mask_or_epi32(rounded, nan, high, quiet_bit);
    _mm256_mask_storeu_epi16(y + i, mask, _mm512_cvtepi32_epi16(rounded));
  }
}

}  // namespace

// Aggregate initialisation, so no constructor is compiled with AVX-512 instructions.
const Kernels& avx512_kernels() {
  static const Kernels table{
      .level = SimdLevel::kAvx512,
      .name = "avx512",
      .linear_f32 = linear_f32,
      .linear_bf16 = linear_bf16_widening,
      .linear_bf16_input = Bf16Activations::kFloat,
      .dot_f32 = dot<float>,
      .dot_bf16 = dot<bf16>,
      .axpy_f32 = axpy<float>,
      .axpy_bf16 = axpy<bf16>,
      .round_to_bf16 = round_to_bf16,
      .attention = internal::attention_avx512,
  };
  return table;
}

const Kernels& avx512_bf16_kernels() {
  static const Kernels table{
      .level = SimdLevel::kAvx512Bf16,
      .name = "avx512_bf16",
      .linear_f32 = linear_f32,
      .linear_bf16 = linear_bf16_dot,
      .linear_bf16_input = Bf16Activations::kRows,
      .dot_f32 = dot<float>,
      .dot_bf16 = dot<bf16>,
      .axpy_f32 = axpy<float>,
      .axpy_bf16 = axpy<bf16>,
      .round_to_bf16 = round_to_bf16,
      .attention = internal::attention_avx512,
  };
  return table;
}

const Kernels& amx_bf16_kernels() {
  static const Kernels table{
      .level = SimdLevel::kAvx512Bf16,
      .name = "amx_bf16",
      .linear_f32 = linear_f32,
      .linear_bf16 = internal::linear_bf16_amx,
      .linear_bf16_input = Bf16Activations::kTokenTiles,
      .pack_token_tiles = internal::pack_token_tiles_avx512,
      .dot_f32 = dot<float>,
      .dot_bf16 = dot<bf16>,
      .axpy_f32 = axpy<float>,
      .axpy_bf16 = axpy<bf16>,
      .round_to_bf16 = round_to_bf16,
      .attention = internal::attention_avx512,
  };
  return table;
}

}  // namespace glyph::cpu
