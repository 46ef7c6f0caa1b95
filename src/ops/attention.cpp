#include "ops/attention.h"

#include <algorithm>
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

// Query rows per attention work item: enough to reuse each loaded block of keys and values
// many times (16 tokens x 16 heads for Glyph), few enough that a long prefill splits into many
// items to balance across threads.
constexpr int64_t kRowsPerItem = 256;

// Checks that a sequence's pages cover the positions this step reads and are in the pool.
void check_pages(const PagedKv& cache, const AttentionSequence& sequence) {
  const int64_t positions = sequence.num_cached + sequence.num_tokens;
  const int64_t needed = (positions + cache.page_size - 1) / cache.page_size;
  GLYPH_CHECK(static_cast<int64_t>(sequence.pages.size()) >= needed,
              "cache positions [0, {}) need {} pages but only {} given", positions, needed,
              sequence.pages.size());
  for (int64_t i = 0; i < needed; ++i) {
    const int32_t page = sequence.pages[static_cast<size_t>(i)];
    GLYPH_CHECK(page >= 0 && page < cache.num_pages, "page id {} outside the pool of {}", page,
                cache.num_pages);
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
  const int64_t head_dim = cache.head_dim;
  for (const AttentionSequence& sequence : sequences) check_pages(cache, sequence);

  // One item per sequence, KV head and run of tokens. The item covers every query head of the
  // KV head's group, so each key and value is loaded once for all of them.
  // NOTE: one decoding sequence gives only kv_heads items (2 for Glyph), so a lone decode uses
  // at most 2 threads here. Splitting its positions across threads would keep results
  // batch-invariant only with split points fixed by position, not by thread count.
  struct Item {
    const AttentionSequence* sequence;
    int64_t kv_head;
    int64_t first_token;
    int64_t tokens;
    int64_t cost;  // Query rows times visible positions, to start the largest items first.
  };
  const int64_t tokens_per_item = std::max<int64_t>(1, kRowsPerItem / group);
  std::vector<Item> items;
  for (const AttentionSequence& sequence : sequences) {
    for (int64_t first = 0; first < sequence.num_tokens; first += tokens_per_item) {
      const int64_t tokens = std::min(tokens_per_item, sequence.num_tokens - first);
      const int64_t cost = tokens * (sequence.num_cached + first + tokens);
      for (int64_t kv_head = 0; kv_head < cache.kv_heads; ++kv_head) {
        items.push_back({&sequence, kv_head, first, tokens, cost});
      }
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.cost > b.cost; });

  const cpu::Kernels& kernels = context.kernels();
  context.pool().run(static_cast<int64_t>(items.size()), [&](int64_t index) {
    const Item& item = items[static_cast<size_t>(index)];
    const AttentionSequence& sequence = *item.sequence;
    const int64_t row = sequence.first_token + item.first_token;

    // Per-thread scratch, reused across items and steps.
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(cpu::attention_scratch_size(item.tokens * group, head_dim)));

    cpu::AttentionTile tile;
    tile.q = q + row * q_stride + item.kv_head * group * head_dim;
    tile.q_stride = q_stride;
    tile.out = out + (row * heads + item.kv_head * group) * head_dim;
    tile.out_stride = heads * head_dim;
    tile.tokens = item.tokens;
    tile.group = group;
    tile.head_dim = head_dim;
    tile.first_position = sequence.num_cached + item.first_token;
    tile.scale = scale;
    tile.k = cache.k;
    tile.v = cache.v;
    tile.bf16 = cache.dtype == DType::kBF16;
    tile.pages = sequence.pages.data();
    tile.page_size = cache.page_size;
    tile.page_stride = cache.kv_heads * cache.page_size * head_dim;
    tile.head_offset = item.kv_head * cache.page_size * head_dim;
    tile.scratch = scratch.data();
    kernels.attention(tile);
  });
}

}  // namespace glyph::ops
