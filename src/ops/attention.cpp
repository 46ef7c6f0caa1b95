#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"

namespace glyph::ops {

namespace {

// Offset, in elements, of (page slot, head, position in page) in a K or V pool.
int64_t slot_offset(const PagedKv& cache, int64_t page, int64_t head, int64_t position) {
  return ((page * cache.kv_heads + head) * cache.page_size + position) * cache.head_dim;
}

int32_t page_of(const PagedKv& cache, const AttentionSequence& sequence, int64_t position) {
  const auto index = static_cast<size_t>(position / cache.page_size);
  GLYPH_CHECK(index < sequence.pages.size(), "cache position {} needs page {} but only {} given",
              position, index, sequence.pages.size());
  const int32_t page = sequence.pages[index];
  GLYPH_CHECK(page >= 0 && page < cache.num_pages, "page id {} outside the pool of {}", page,
              cache.num_pages);
  return page;
}

// Attention of one new token for the query heads sharing one KV head, one page at a time with
// a running softmax (the maximum so far rescales the earlier sums), so scratch stays one page.
template <typename T>
void attend(const Context& context, const PagedKv& cache, const AttentionSequence& sequence,
            int64_t token, int64_t kv_head, const float* q, int64_t q_stride, int64_t group,
            float scale, float* out, int64_t heads) {
  const cpu::Kernels& kernels = context.kernels();
  const int64_t head_dim = cache.head_dim;
  const int64_t visible = sequence.num_cached + token + 1;
  const auto* keys = static_cast<const T*>(cache.k);
  const auto* values = static_cast<const T*>(cache.v);

  // Per-thread scratch, reused across tasks and steps.
  thread_local std::vector<float> running_max;
  thread_local std::vector<float> running_sum;
  thread_local std::vector<float> scores;
  running_max.assign(static_cast<size_t>(group), -std::numeric_limits<float>::infinity());
  running_sum.assign(static_cast<size_t>(group), 0.0f);
  scores.resize(static_cast<size_t>(group * cache.page_size));
  const float* query = q + (sequence.first_token + token) * q_stride + kv_head * group * head_dim;
  float* result = out + ((sequence.first_token + token) * heads + kv_head * group) * head_dim;
  std::fill_n(result, group * head_dim, 0.0f);

  for (int64_t start = 0; start < visible; start += cache.page_size) {
    const int32_t page = page_of(cache, sequence, start);
    const int64_t count = std::min(cache.page_size, visible - start);
    const T* page_keys = keys + slot_offset(cache, page, kv_head, 0);
    const T* page_values = values + slot_offset(cache, page, kv_head, 0);

    for (int64_t g = 0; g < group; ++g) {
      const float* query_head = query + g * head_dim;
      float* head_scores = scores.data() + g * cache.page_size;
      float page_max = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < count; ++i) {
        float score;
        if constexpr (std::is_same_v<T, float>) {
          score = kernels.dot_f32(query_head, page_keys + i * head_dim, head_dim) * scale;
        } else {
          score = kernels.dot_bf16(query_head, page_keys + i * head_dim, head_dim) * scale;
        }
        head_scores[i] = score;
        page_max = std::max(page_max, score);
      }

      float& maximum = running_max[static_cast<size_t>(g)];
      float& sum = running_sum[static_cast<size_t>(g)];
      float* accumulator = result + g * head_dim;
      const float new_max = std::max(maximum, page_max);
      const float rescale = std::exp(maximum - new_max);  // exp(-inf) = 0 on the first page.
      if (rescale != 1.0f) {
        sum *= rescale;
        for (int64_t d = 0; d < head_dim; ++d) accumulator[d] *= rescale;
      }
      maximum = new_max;
      for (int64_t i = 0; i < count; ++i) {
        const float weight = std::exp(head_scores[i] - new_max);
        sum += weight;
        if constexpr (std::is_same_v<T, float>) {
          kernels.axpy_f32(weight, page_values + i * head_dim, accumulator, head_dim);
        } else {
          kernels.axpy_bf16(weight, page_values + i * head_dim, accumulator, head_dim);
        }
      }
    }
  }

  for (int64_t g = 0; g < group; ++g) {
    const float inverse = 1.0f / running_sum[static_cast<size_t>(g)];
    float* accumulator = result + g * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) accumulator[d] *= inverse;
  }
}

}  // namespace

void write_kv(Context& context, const PagedKv& cache, const float* k, const float* v,
              int64_t row_stride, std::span<const AttentionSequence> sequences) {
  const int64_t head_dim = cache.head_dim;
  for (const AttentionSequence& sequence : sequences) {
    for (int64_t i = 0; i < sequence.num_tokens; ++i) {
      const int64_t position = sequence.num_cached + i;
      const int32_t page = page_of(cache, sequence, position);
      const int64_t row = sequence.first_token + i;
      for (int64_t head = 0; head < cache.kv_heads; ++head) {
        const int64_t offset = slot_offset(cache, page, head, position % cache.page_size);
        const float* k_head = k + row * row_stride + head * head_dim;
        const float* v_head = v + row * row_stride + head * head_dim;
        if (cache.dtype == DType::kF32) {
          std::copy_n(k_head, head_dim, static_cast<float*>(cache.k) + offset);
          std::copy_n(v_head, head_dim, static_cast<float*>(cache.v) + offset);
        } else {
          context.kernels().round_to_bf16(k_head, static_cast<bf16*>(cache.k) + offset, head_dim);
          context.kernels().round_to_bf16(v_head, static_cast<bf16*>(cache.v) + offset, head_dim);
        }
      }
    }
  }
}

void paged_attention(Context& context, const float* q, int64_t q_stride, int64_t heads,
                     const PagedKv& cache, std::span<const AttentionSequence> sequences,
                     float scale, float* out) {
  GLYPH_CHECK(heads % cache.kv_heads == 0, "{} query heads do not divide into {} KV heads", heads,
              cache.kv_heads);
  const int64_t group = heads / cache.kv_heads;

  // One task per (sequence, new token, KV head).
  struct Task {
    const AttentionSequence* sequence;
    int64_t token;
    int64_t kv_head;
  };
  std::vector<Task> tasks;
  for (const AttentionSequence& sequence : sequences) {
    for (int64_t token = 0; token < sequence.num_tokens; ++token) {
      for (int64_t kv_head = 0; kv_head < cache.kv_heads; ++kv_head) {
        tasks.push_back({&sequence, token, kv_head});
      }
    }
  }

  context.pool().run(static_cast<int64_t>(tasks.size()), [&](int64_t index) {
    const Task& task = tasks[static_cast<size_t>(index)];
    if (cache.dtype == DType::kF32) {
      attend<float>(context, cache, *task.sequence, task.token, task.kv_head, q, q_stride, group,
                    scale, out, heads);
    } else {
      attend<bf16>(context, cache, *task.sequence, task.token, task.kv_head, q, q_stride, group,
                   scale, out, heads);
    }
  });
}

}  // namespace glyph::ops
