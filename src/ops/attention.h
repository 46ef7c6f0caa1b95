// Causal attention over a paged KV cache, with grouped-query heads.
#pragma once

#include <cstdint>
#include <span>

#include "ops/ops.h"

namespace glyph::ops {

// One layer's K and V pages. Layout of each: [num_pages, kv_heads, page_size, head_dim], so the
// keys of one head within a page are contiguous. F32 or BF16.
struct PagedKv {
  void* k = nullptr;
  void* v = nullptr;
  DType dtype = DType::kF32;
  int64_t num_pages = 0;
  int64_t page_size = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
};

// One sequence's new tokens in a batch.
struct AttentionSequence {
  int64_t first_token = 0;               // Row of its first new token in q, k, v and out.
  int64_t num_tokens = 0;
  int64_t num_cached = 0;                // Positions already in its pages.
  std::span<const int32_t> pages;        // Page ids for cache positions 0, page_size, ...
};

// Stores the new tokens' K and V at cache positions [num_cached, num_cached + num_tokens) of
// each sequence. k, v: [tokens, kv_heads, head_dim] with row stride row_stride.
void write_kv(Context& context, const PagedKv& cache, const float* k, const float* v,
              int64_t row_stride, std::span<const AttentionSequence> sequences);

// out = softmax(q K^T * scale) V per query head. New token i of a sequence attends to its cache
// positions [0, num_cached + i] (causal), and query head h reads KV head h / (heads / kv_heads).
// q: [tokens, heads, head_dim] with row stride q_stride; out: [tokens, heads, head_dim]
// contiguous. write_kv must have stored this step's K and V first.
void paged_attention(Context& context, const float* q, int64_t q_stride, int64_t heads,
                     const PagedKv& cache, std::span<const AttentionSequence> sequences,
                     float scale, float* out);

}  // namespace glyph::ops
