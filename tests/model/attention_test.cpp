// Paged attention on every kernel table: against a double-precision reference at Glyph's
// head layout and at odd sizes, and bit-identical however the batch, the KV pages and the
// prefill chunks are laid out.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "backend/cpu/kernels.h"
#include "ops/attention.h"

namespace glyph::ops {
namespace {

std::vector<const cpu::Kernels*> attention_tables() {
  std::vector<const cpu::Kernels*> tables = {&cpu::scalar_kernels()};
  if (best_simd_level() >= SimdLevel::kAvx2) tables.push_back(&cpu::avx2_kernels());
  if (best_simd_level() >= SimdLevel::kAvx512) tables.push_back(&cpu::avx512_kernels());
  return tables;
}

std::vector<float> random_values(size_t count, std::mt19937& generator, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return values;
}

struct Shape {
  int64_t heads, kv_heads, head_dim;
};

// A KV pool and, per sequence, every position's K and V ([positions, kv_heads, head_dim]) and
// its page list. Page ids are shuffled so that sequences interleave in the pool.
class Cache {
 public:
  Cache(const Shape& shape, DType dtype, int64_t page_size, const std::vector<int64_t>& lengths,
        uint32_t seed)
      : shape_(shape) {
    std::mt19937 generator(seed);
    int64_t pages = 0;
    for (int64_t length : lengths) pages += (length + page_size - 1) / page_size;
    std::vector<int32_t> ids(static_cast<size_t>(pages));
    std::iota(ids.begin(), ids.end(), 0);
    std::shuffle(ids.begin(), ids.end(), generator);
    size_t next = 0;
    for (int64_t length : lengths) {
      const int64_t count = (length + page_size - 1) / page_size;
      pages_.emplace_back(ids.begin() + static_cast<int64_t>(next), ids.begin() + static_cast<int64_t>(next) + count);
      next += static_cast<size_t>(count);
    }

    const size_t elements = static_cast<size_t>(pages * shape.kv_heads * page_size * shape.head_dim);
    const size_t bytes = elements * dtype_size(dtype);
    k_.assign(bytes, 0);
    v_.assign(bytes, 0);
    cache_ = {k_.data(), v_.data(), dtype, pages, page_size, shape.kv_heads, shape.head_dim};
  }

  const PagedKv& paged() const { return cache_; }
  std::span<const int32_t> pages(size_t sequence) const { return pages_[sequence]; }

 private:
  Shape shape_;
  std::vector<uint8_t> k_, v_;
  PagedKv cache_;
  std::vector<std::vector<int32_t>> pages_;
};

// One sequence's data: q for every position ([positions, heads, head_dim]) and K, V
// ([positions, kv_heads, head_dim]), BF16-exact when the cache is BF16.
struct SequenceData {
  std::vector<float> q, k, v;
};

SequenceData make_sequence(const Shape& shape, int64_t length, DType dtype, std::mt19937& generator) {
  SequenceData data;
  data.q = random_values(static_cast<size_t>(length * shape.heads * shape.head_dim), generator);
  data.k = random_values(static_cast<size_t>(length * shape.kv_heads * shape.head_dim), generator);
  data.v = random_values(static_cast<size_t>(length * shape.kv_heads * shape.head_dim), generator);
  if (dtype == DType::kBF16) {
    for (float& value : data.k) value = to_float(to_bf16(value));
    for (float& value : data.v) value = to_float(to_bf16(value));
  }
  return data;
}

// One piece of a step: new tokens [first, first + count) of a sequence.
struct Piece {
  size_t sequence;
  int64_t first;
  int64_t count;
};

// Runs one step over pieces as the model does: one qkv row per token, write_kv, then
// paged_attention. Returns the output rows [count, heads, head_dim] of each piece, in order.
std::vector<std::vector<float>> run_step(Context& context, const Shape& shape, const Cache& cache,
                                         const std::vector<SequenceData>& data,
                                         const std::vector<Piece>& pieces, float scale) {
  const int64_t q_width = shape.heads * shape.head_dim;
  const int64_t kv_width = shape.kv_heads * shape.head_dim;
  const int64_t stride = q_width + 2 * kv_width;
  std::vector<AttentionSequence> step;
  std::vector<float> qkv;
  int64_t rows = 0;
  for (const Piece& piece : pieces) {
    const SequenceData& sequence = data[piece.sequence];
    for (int64_t t = piece.first; t < piece.first + piece.count; ++t) {
      qkv.insert(qkv.end(), sequence.q.begin() + t * q_width, sequence.q.begin() + (t + 1) * q_width);
      qkv.insert(qkv.end(), sequence.k.begin() + t * kv_width, sequence.k.begin() + (t + 1) * kv_width);
      qkv.insert(qkv.end(), sequence.v.begin() + t * kv_width, sequence.v.begin() + (t + 1) * kv_width);
    }
    step.push_back({rows, piece.count, piece.first, cache.pages(piece.sequence)});
    rows += piece.count;
  }
  write_kv(context, cache.paged(), qkv.data() + q_width, qkv.data() + q_width + kv_width, stride,
           step);
  std::vector<float> out(static_cast<size_t>(rows * q_width));
  paged_attention(context, qkv.data(), stride, shape.heads, cache.paged(), step, scale, out.data());

  std::vector<std::vector<float>> result;
  for (const AttentionSequence& sequence : step) {
    result.emplace_back(out.begin() + sequence.first_token * q_width,
                        out.begin() + (sequence.first_token + sequence.num_tokens) * q_width);
  }
  return result;
}

// Causal attention in double for positions [first, first + count) of one sequence.
std::vector<double> reference(const Shape& shape, const SequenceData& data, int64_t first,
                              int64_t count, float scale) {
  const int64_t group = shape.heads / shape.kv_heads;
  const int64_t hd = shape.head_dim;
  std::vector<double> out(static_cast<size_t>(count * shape.heads * hd));
  for (int64_t t = first; t < first + count; ++t) {
    for (int64_t h = 0; h < shape.heads; ++h) {
      const int64_t kv = h / group;
      std::vector<double> scores(static_cast<size_t>(t + 1));
      double maximum = -1e300;
      for (int64_t j = 0; j <= t; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < hd; ++d) {
          dot += double{data.q[static_cast<size_t>((t * shape.heads + h) * hd + d)]} *
                 data.k[static_cast<size_t>((j * shape.kv_heads + kv) * hd + d)];
        }
        scores[static_cast<size_t>(j)] = dot * scale;
        maximum = std::max(maximum, dot * scale);
      }
      double total = 0.0;
      for (double& score : scores) total += (score = std::exp(score - maximum));
      for (int64_t d = 0; d < hd; ++d) {
        double sum = 0.0;
        for (int64_t j = 0; j <= t; ++j) {
          sum += scores[static_cast<size_t>(j)] * data.v[static_cast<size_t>((j * shape.kv_heads + kv) * hd + d)];
        }
        out[static_cast<size_t>(((t - first) * shape.heads + h) * hd + d)] = sum / total;
      }
    }
  }
  return out;
}

class Attention : public ::testing::TestWithParam<const cpu::Kernels*> {
 protected:
  ThreadPool pool_{3};
  Context context() { return Context(pool_, *GetParam()); }
};

// Glyph's layout (32 query heads on 2 KV heads of 128) and odd ones: 2 heads per KV head of
// 8 dims (the tiny model), 3 KV heads of 40 dims (not a multiple of 16). Each step mixes a
// prefill longer than several key blocks, a decode behind a long cache and a short chunk.
TEST_P(Attention, MatchesReference) {
  const Shape shapes[] = {{32, 2, 128}, {4, 2, 8}, {6, 3, 40}};
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    for (const Shape& shape : shapes) {
      std::mt19937 generator(static_cast<uint32_t>(shape.head_dim));
      const std::vector<int64_t> lengths = {45, 71, 38};
      Cache cache(shape, dtype, 5, lengths, 1);
      std::vector<SequenceData> data;
      for (int64_t length : lengths) data.push_back(make_sequence(shape, length, dtype, generator));
      Context ctx = context();
      const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim));

      // Step 1 fills the caches. Step 2 is checked: a prefill of 45 from empty, one decode
      // after 70 cached, and 5 tokens after 33 cached.
      run_step(ctx, shape, cache, data, {{1, 0, 70}, {2, 0, 33}}, scale);
      const std::vector<Piece> pieces = {{0, 0, 45}, {1, 70, 1}, {2, 33, 5}};
      const auto outputs = run_step(ctx, shape, cache, data, pieces, scale);
      for (size_t p = 0; p < pieces.size(); ++p) {
        const auto expected = reference(shape, data[pieces[p].sequence], pieces[p].first,
                                        pieces[p].count, scale);
        for (size_t i = 0; i < expected.size(); ++i) {
          ASSERT_NEAR(outputs[p][i], expected[i], 2e-6 + 2e-6 * std::abs(expected[i]))
              << dtype_name(dtype) << " heads " << shape.heads << "/" << shape.kv_heads << "x"
              << shape.head_dim << ", piece " << p << ", element " << i;
        }
      }
    }
  }
}

// Compares the probe sequence's outputs bit for bit. The reference runs it alone, with pages of
// 16, in one step. The variants run it next to three other sequences with pages of 3, 4 and 64
// interleaved with theirs, and prefill it in chunks of 7 and of 1 token.
TEST_P(Attention, IndependentOfBatchPagesAndChunks) {
  const Shape shape{32, 2, 128};
  const float scale = 1.0f / std::sqrt(128.0f);
  for (DType dtype : {DType::kF32, DType::kBF16}) {
    std::mt19937 generator(9);
    const std::vector<int64_t> lengths = {83, 20, 50, 9};  // The probe is sequence 0.
    std::vector<SequenceData> data;
    for (int64_t length : lengths) data.push_back(make_sequence(shape, length, dtype, generator));
    Context ctx = context();

    Cache alone_cache(shape, dtype, 16, lengths, 2);
    const auto alone = run_step(ctx, shape, alone_cache, data, {{0, 0, 83}}, scale)[0];
    const size_t row_floats = static_cast<size_t>(shape.heads * shape.head_dim);

    for (int64_t page_size : {3, 4, 64}) {
      Cache cache(shape, dtype, page_size, lengths, 3);
      run_step(ctx, shape, cache, data, {{1, 0, 12}, {2, 0, 50}}, scale);
      // The probe's first 40 tokens with other work, then the rest with a decode.
      const auto first = run_step(ctx, shape, cache, data, {{1, 12, 8}, {0, 0, 40}, {3, 0, 9}}, scale)[1];
      const auto rest = run_step(ctx, shape, cache, data, {{0, 40, 43}, {2, 49, 1}}, scale)[0];
      ASSERT_EQ(std::memcmp(first.data(), alone.data(), first.size() * sizeof(float)), 0)
          << dtype_name(dtype) << ", pages of " << page_size << ", tokens 0-39";
      ASSERT_EQ(std::memcmp(rest.data(), alone.data() + 40 * row_floats, rest.size() * sizeof(float)), 0)
          << dtype_name(dtype) << ", pages of " << page_size << ", tokens 40-82";
    }

    for (int64_t chunk : {7, 1}) {
      Cache cache(shape, dtype, 8, lengths, 4);
      for (int64_t first = 0; first < 83; first += chunk) {
        const int64_t count = std::min<int64_t>(chunk, 83 - first);
        const auto out = run_step(ctx, shape, cache, data, {{0, first, count}}, scale)[0];
        ASSERT_EQ(std::memcmp(out.data(), alone.data() + first * static_cast<int64_t>(row_floats),
                              out.size() * sizeof(float)),
                  0)
            << dtype_name(dtype) << ", chunks of " << chunk << ", at token " << first;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, Attention, ::testing::ValuesIn(attention_tables()),
                         [](const ::testing::TestParamInfo<const cpu::Kernels*>& info) {
                           return std::string(info.param->name);
                         });

}  // namespace
}  // namespace glyph::ops
