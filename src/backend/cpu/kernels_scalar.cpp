// Portable kernels: the fallback for CPUs without AVX2 and the reference the SIMD kernels are
// tested against.
#include <type_traits>

#include "backend/cpu/kernels.h"
#include "backend/cpu/kernels_internal.h"
#include "core/error.h"

namespace glyph::cpu {

namespace {

template <typename Weight>
float weight_at(const Weight* row, int64_t i) {
  if constexpr (std::is_same_v<Weight, float>) {
    return row[i];
  } else {
    return to_float(row[i]);
  }
}

template <typename Weight>
void linear(const LinearArgs& args, int64_t n_begin, int64_t n_end) {
  const auto* weight = static_cast<const Weight*>(args.weight);
  for (int64_t row = 0; row < args.rows; ++row) {
    const float* x = args.x + row * args.x_stride;
    float* y = args.y + row * args.y_stride;
    for (int64_t n = n_begin; n < n_end; ++n) {
      const Weight* w = weight + n * args.k;
      float sum = 0.0f;
      for (int64_t i = 0; i < args.k; ++i) sum += x[i] * weight_at(w, i);
      y[n] = args.bias != nullptr ? sum + args.bias[n] : sum;
    }
  }
}

float dot_f32(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float dot_bf16(const float* a, const bf16* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * to_float(b[i]);
  return sum;
}

void axpy_f32(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void axpy_bf16(float alpha, const bf16* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * to_float(x[i]);
}

void round_to_bf16(const float* x, bf16* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = to_bf16(x[i]);
}

}  // namespace

const Kernels& scalar_kernels() {
  static const Kernels table = [] {
    Kernels kernels;
    kernels.level = SimdLevel::kScalar;
    kernels.name = "scalar";
    kernels.linear_f32 = linear<float>;
    kernels.linear_bf16 = linear<bf16>;
    kernels.linear_bf16_input = Bf16Activations::kFloat;
    kernels.dot_f32 = dot_f32;
    kernels.dot_bf16 = dot_bf16;
    kernels.axpy_f32 = axpy_f32;
    kernels.axpy_bf16 = axpy_bf16;
    kernels.round_to_bf16 = round_to_bf16;
    kernels.attention = internal::attention_scalar;
    return kernels;
  }();
  return table;
}

const Kernels& kernels_for(SimdLevel level) {
  if (level > best_simd_level()) {
    throw_error(ErrorKind::kInvalidRequest,
                "SIMD level {} is not supported by this CPU; the best it supports is {}",
                simd_level_name(level), simd_level_name(best_simd_level()));
  }
  switch (level) {
    case SimdLevel::kScalar: return scalar_kernels();
    case SimdLevel::kAvx2: return avx2_kernels();
    case SimdLevel::kAvx512: return avx512_kernels();
    case SimdLevel::kAvx512Bf16: return amx_usable() ? amx_bf16_kernels() : avx512_bf16_kernels();
  }
  return scalar_kernels();
}

bool amx_usable() {
  const CpuFeatures& cpu = cpu_features();
  return best_simd_level() >= SimdLevel::kAvx512Bf16 && cpu.amx_tile && cpu.amx_bf16;
}

}  // namespace glyph::cpu
