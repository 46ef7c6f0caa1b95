// Operations only the glm4v vision tower needs: LayerNorm with bias, exact GELU, rotate-half
// 2D RoPE, bidirectional attention over one image, and the bicubic resampling of the learned
// position table. Same conventions as ops.h: FP32 activations, token-major rows.
#pragma once

#include <cstdint>
#include <span>

#include "ops/ops.h"

namespace glyph::ops {

// y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias per row, with the biased variance, as
// torch.nn.LayerNorm. x, y: [rows, width]; weight, bias: F32 [width]. y may equal x.
void layer_norm(Context& context, const float* x, int64_t rows, const Tensor& weight,
                const Tensor& bias, float eps, float* y);

// x = 0.5 x (1 + erf(x / sqrt(2))) elementwise, torch.nn.GELU() without the tanh approximation.
void gelu_erf(Context& context, float* x, int64_t count);

// Rotates x in place, NeoX style: for every token t and head h, dim i < head_dim / 2 pairs with
// dim i + head_dim / 2 and both turn by angle i of token t (x1 cos - x2 sin, x2 cos + x1 sin).
// x: [tokens, heads, head_dim] with row stride row_stride; cos, sin: [tokens, head_dim / 2].
void apply_rope_rotate_half(Context& context, float* x, int64_t tokens, int64_t row_stride,
                            int64_t heads, int64_t head_dim, const float* cos, const float* sin);

// out = softmax(q K^T * scale) V per head, every token attending to every token (no causal
// mask), as one image's patches do in the vision tower. q, k, v: [tokens, heads, head_dim] with
// row stride qkv_stride (rows of a fused qkv projection); out: [tokens, heads * head_dim].
void bidirectional_attention(Context& context, const float* q, const float* k, const float* v,
                             int64_t qkv_stride, int64_t tokens, int64_t heads, int64_t head_dim,
                             float scale, float* out);

// Samples table, a square [side * side, width] grid of learned embeddings (row y * side + x),
// at the centres of a grid_h x grid_w patch grid, as torch.nn.functional.grid_sample does with
// mode "bicubic" (A = -0.75), align_corners false and padding_mode "border". Patch i sits at
// row h[i] and column w[i]; out[i, :] is its sample. h, w: [patches]; out: [patches, width].
void resample_bicubic(Context& context, const Tensor& table, int64_t grid_h, int64_t grid_w,
                      std::span<const int32_t> h, std::span<const int32_t> w, float* out);

}  // namespace glyph::ops
