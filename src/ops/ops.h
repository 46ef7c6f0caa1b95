// The coarse operations the model is written against. Activations are FP32, token-major
// ([tokens, width] row-major); weights are core Tensor views in FP32 or BF16. Each op spreads
// its work over the context's thread pool and runs the kernels of the context's SIMD level.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "backend/cpu/kernels.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace glyph::ops {

class Context {
 public:
  Context(ThreadPool& pool, const cpu::Kernels& kernels) : pool_(&pool), kernels_(&kernels) {}

  ThreadPool& pool() const { return *pool_; }
  const cpu::Kernels& kernels() const { return *kernels_; }

  // Scratch for linear's BF16 copy of x, reused across calls. Ops run one at a time on the
  // thread that owns the context, so one buffer suffices.
  std::vector<bf16>& bf16_scratch() { return bf16_scratch_; }

 private:
  ThreadPool* pool_;
  const cpu::Kernels* kernels_;
  std::vector<bf16> bf16_scratch_;
};

// out[t, :] = table[ids[t], :] converted to FP32. table: [vocab, width], F32, F16 or BF16.
// Throws glyph::Error(kInvalidRequest) for an id outside [0, vocab).
void embedding(Context& context, const Tensor& table, std::span<const int32_t> ids, float* out);

// y = x / sqrt(mean(x^2) + eps) * weight, per row, in FP32. x, y: [rows, width]; weight: F32
// [width]. y may equal x.
void rms_norm(Context& context, const float* x, int64_t rows, const Tensor& weight, float eps,
              float* y);

// y = x W^T + bias. x: [rows, in] with row stride x_stride; weight: F32 or BF16 [out, in];
// bias: F32 [out] or empty; y: [rows, out] with row stride y_stride.
void linear(Context& context, const float* x, int64_t rows, int64_t x_stride,
            const Tensor& weight, const Tensor& bias, float* y, int64_t y_stride);

// out[t, i] = silu(gate_up[t, i]) * gate_up[t, width + i]: the gate is the first half of each
// row, as in transformers' Glm4vTextMLP. gate_up: [rows, 2 * width]; out: [rows, width].
void silu_mul(Context& context, const float* gate_up, int64_t rows, int64_t width, float* out);

// y += x, elementwise over count values.
void add(Context& context, float* y, const float* x, int64_t count);

}  // namespace glyph::ops
