// CPU kernels, one table per instruction-set level (core/cpu_features.h).
//
// Each *_avx2.cpp / *_avx512.cpp file is compiled with that instruction set only, so nothing in
// it may run before the CPU has been checked. Callers go through kernels_for(), which returns a
// table only for a level the CPU supports. Debian 12's Highway (1.0.3) would give portable
// SIMD, but it never emits the BF16 dot-product instruction (VDPBF16PS) that the BF16 path is
// built on, so the kernels use intrinsics.
#pragma once

#include <cstdint>

#include "core/bf16.h"
#include "core/cpu_features.h"

namespace glyph::cpu {

// y = x W^T + bias, the layout of torch.nn.Linear: x [rows, k] (row stride x_stride), W [n, k]
// row-major, bias [n] or null, y [rows, n] (row stride y_stride). All FP32 except W.
struct LinearArgs {
  const float* x = nullptr;
  int64_t x_stride = 0;
  // x rounded to BF16, [rows, k] with row stride k, for kernels that multiply in BF16
  // (Kernels::linear_bf16_takes_bf16_x); null otherwise.
  const bf16* x_bf16 = nullptr;
  const void* weight = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
  int64_t y_stride = 0;
  int64_t rows = 0;
  int64_t k = 0;
};

struct Kernels {
  SimdLevel level = SimdLevel::kScalar;

  // Compute the output columns [n_begin, n_end) of a linear layer for all rows; callers split
  // the columns across threads. n_begin must be a multiple of kLinearColumnBlock.
  void (*linear_f32)(const LinearArgs& args, int64_t n_begin, int64_t n_end) = nullptr;
  void (*linear_bf16)(const LinearArgs& args, int64_t n_begin, int64_t n_end) = nullptr;
  // True when linear_bf16 reads x_bf16 (BF16 x BF16 products with FP32 accumulation); false
  // when it widens the weights to FP32 and reads x.
  bool linear_bf16_takes_bf16_x = false;

  float (*dot_f32)(const float* a, const float* b, int64_t n) = nullptr;
  float (*dot_bf16)(const float* a, const bf16* b, int64_t n) = nullptr;
  // y += alpha * x
  void (*axpy_f32)(float alpha, const float* x, float* y, int64_t n) = nullptr;
  void (*axpy_bf16)(float alpha, const bf16* x, float* y, int64_t n) = nullptr;
  // Round to nearest even, as glyph::to_bf16.
  void (*round_to_bf16)(const float* x, bf16* y, int64_t n) = nullptr;
};

// Column blocks handed to one linear call start at multiples of this.
constexpr int64_t kLinearColumnBlock = 16;

// Throws glyph::Error(kInvalidRequest) when the CPU lacks the level.
const Kernels& kernels_for(SimdLevel level);

// Per-level tables; call only through kernels_for.
const Kernels& scalar_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();
const Kernels& avx512_bf16_kernels();

}  // namespace glyph::cpu
