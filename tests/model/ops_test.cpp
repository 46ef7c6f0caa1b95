#include "ops/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "model_test_support.h"
#include "ops/attention.h"
#include "ops/rope.h"

namespace glyph::ops {
namespace {

std::vector<float> random_values(size_t count, std::mt19937& generator, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return values;
}

class OpsTest : public ::testing::Test {
 protected:
  ThreadPool pool_{3};
  Context context_{pool_, cpu::kernels_for(best_simd_level())};
};

TEST_F(OpsTest, RmsNormMatchesFormula) {
  std::mt19937 generator(1);
  const int64_t rows = 37;
  const int64_t width = 1000;
  std::vector<float> x = random_values(static_cast<size_t>(rows * width), generator, 3.0f);
  std::vector<float> gain = random_values(static_cast<size_t>(width), generator);
  std::vector<float> y(x.size());
  rms_norm(context_, x.data(), rows, Tensor(gain.data(), DType::kF32, {width}), 1e-5f, y.data());
  for (int64_t r = 0; r < rows; ++r) {
    double sum_squares = 0.0;
    for (int64_t i = 0; i < width; ++i) sum_squares += std::pow(x[static_cast<size_t>(r * width + i)], 2);
    const double inverse = 1.0 / std::sqrt(sum_squares / width + 1e-5);
    for (int64_t i = 0; i < width; ++i) {
      const size_t index = static_cast<size_t>(r * width + i);
      ASSERT_NEAR(y[index], x[index] * inverse * gain[static_cast<size_t>(i)], 1e-5 * std::abs(gain[static_cast<size_t>(i)]) * 10);
    }
  }
}

TEST_F(OpsTest, SiluMulTakesGateFirst) {
  const float gate_up[] = {1.0f, -2.0f, 3.0f, 0.5f, 4.0f, -1.0f};  // One row: gate 1,-2,3; up .5,4,-1.
  float out[3];
  silu_mul(context_, gate_up, 1, 3, out);
  auto silu = [](double v) { return v / (1.0 + std::exp(-v)); };
  EXPECT_NEAR(out[0], silu(1.0) * 0.5, 1e-6);
  EXPECT_NEAR(out[1], silu(-2.0) * 4.0, 1e-6);
  EXPECT_NEAR(out[2], silu(3.0) * -1.0, 1e-6);
}

TEST_F(OpsTest, EmbeddingGathersAndChecksIds) {
  std::vector<bf16> table;
  for (int i = 0; i < 12; ++i) table.push_back(to_bf16(static_cast<float>(i) * 0.5f));
  Tensor view(table.data(), DType::kBF16, {4, 3});
  const int32_t ids[] = {2, 0, 3};
  float out[9];
  embedding(context_, view, ids, out);
  const float expected[] = {3.0f, 3.5f, 4.0f, 0.0f, 0.5f, 1.0f, 4.5f, 5.0f, 5.5f};
  for (int i = 0; i < 9; ++i) EXPECT_EQ(out[i], expected[i]);

  const int32_t bad[] = {4};
  try {
    embedding(context_, view, bad, out);
    FAIL() << "accepted id 4 for a vocabulary of 4";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("token id 4"), std::string::npos) << error.what();
  }
}

TEST_F(OpsTest, LinearSplitsColumnsAcrossThreads) {
  std::mt19937 generator(2);
  const int64_t rows = 6, in = 200, out = 300;  // Large enough to use every thread.
  std::vector<float> x = random_values(static_cast<size_t>(rows * in), generator);
  std::vector<float> w = random_values(static_cast<size_t>(out * in), generator);
  std::vector<float> bias = random_values(static_cast<size_t>(out), generator);
  std::vector<float> y(static_cast<size_t>(rows * out));
  linear(context_, x.data(), rows, in, Tensor(w.data(), DType::kF32, {out, in}),
         Tensor(bias.data(), DType::kF32, {out}), y.data(), out);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < out; ++c) {
      double sum = bias[static_cast<size_t>(c)];
      for (int64_t i = 0; i < in; ++i) {
        sum += double{x[static_cast<size_t>(r * in + i)]} * w[static_cast<size_t>(c * in + i)];
      }
      ASSERT_NEAR(y[static_cast<size_t>(r * out + c)], sum, 1e-3) << r << "," << c;
    }
  }
}

// transformers' M-RoPE at Glyph's head size (head_dim 128, rotary 64, sections [8, 12, 12],
// theta 500000) on random q and k at positions near 70000, from tools/make_tiny_model.py.
// Both sides compute the angles in float32 the same way, so only cos/sin rounding differs.
TEST_F(OpsTest, MropeMatchesTransformersAtGlyphSize) {
  auto fixture = nlohmann::json::parse(
      model::testing::read_text(model::testing::data_dir() / "fixtures" / "model_mrope.json"));
  const int64_t heads = fixture["num_heads"].get<int64_t>();
  const int64_t head_dim = fixture["head_dim"].get<int64_t>();
  const auto rotary_dim = static_cast<int32_t>(head_dim * fixture["partial_rotary_factor"].get<double>());
  const auto sections = fixture["mrope_section"].get<std::array<int32_t, 3>>();
  MropeTable table(rotary_dim, fixture["rope_theta"].get<double>(), sections);

  std::vector<int32_t> positions;
  for (const auto& position : fixture["positions"]) {
    for (const auto& component : position) positions.push_back(component.get<int32_t>());
  }
  const auto tokens = static_cast<int64_t>(positions.size() / 3);
  std::vector<float> cos, sin;
  table.compute(positions, cos, sin);

  for (const char* name : {"q", "k"}) {
    std::vector<float> x;
    std::vector<float> expected;
    for (const auto& row : fixture[name]) for (const auto& v : row) x.push_back(v.get<float>());
    for (const auto& row : fixture[std::string(name) + "_rotated"]) {
      for (const auto& v : row) expected.push_back(v.get<float>());
    }
    const std::vector<float> original = x;
    apply_rope_interleaved(context_, x.data(), tokens, heads * head_dim, heads, head_dim,
                           rotary_dim, cos.data(), sin.data());
    float error = 0.0f;
    for (size_t i = 0; i < x.size(); ++i) error = std::max(error, std::abs(x[i] - expected[i]));
    EXPECT_LE(error, 2e-6f) << name;
    // Dims past rotary_dim pass through untouched.
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t d = rotary_dim; d < head_dim; ++d) {
        const size_t index = static_cast<size_t>(t * heads * head_dim + d);
        ASSERT_EQ(x[index], original[index]);
      }
    }
  }
}

// Naive causal attention in double over plain arrays: the reference for paged_attention.
std::vector<float> reference_attention(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, int64_t cached,
                                       int64_t tokens, int64_t heads, int64_t kv_heads,
                                       int64_t head_dim, float scale) {
  std::vector<float> out(static_cast<size_t>(tokens * heads * head_dim));
  const int64_t group = heads / kv_heads;
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t visible = cached + t + 1;
    for (int64_t h = 0; h < heads; ++h) {
      const int64_t g = h / group;
      std::vector<double> scores(static_cast<size_t>(visible));
      double maximum = -1e300;
      for (int64_t j = 0; j < visible; ++j) {
        double dot = 0.0;
        for (int64_t d = 0; d < head_dim; ++d) {
          dot += double{q[static_cast<size_t>((t * heads + h) * head_dim + d)]} *
                 k[static_cast<size_t>((j * kv_heads + g) * head_dim + d)];
        }
        scores[static_cast<size_t>(j)] = dot * scale;
        maximum = std::max(maximum, dot * scale);
      }
      double total = 0.0;
      for (double& score : scores) total += (score = std::exp(score - maximum));
      for (int64_t d = 0; d < head_dim; ++d) {
        double sum = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          sum += scores[static_cast<size_t>(j)] * v[static_cast<size_t>((j * kv_heads + g) * head_dim + d)];
        }
        out[static_cast<size_t>((t * heads + h) * head_dim + d)] = static_cast<float>(sum / total);
      }
    }
  }
  return out;
}

// Two sequences in one step: one with 9 cached positions and 3 new tokens, one prefilling 6,
// with shuffled page ids, 8 query heads over 2 KV heads, page size 4.
void check_paged_attention(Context& context, DType kv_dtype) {
  std::mt19937 generator(kv_dtype == DType::kF32 ? 5 : 6);
  const int64_t heads = 8, kv_heads = 2, head_dim = 16, page_size = 4, num_pages = 12;
  const float scale = 0.25f;
  struct Sequence {
    int64_t cached, tokens;
    std::vector<int32_t> pages;
  };
  std::vector<Sequence> sequences = {{9, 3, {7, 2, 10}}, {0, 6, {4, 0}}};

  const size_t pool_elements = static_cast<size_t>(num_pages * kv_heads * page_size * head_dim);
  std::vector<float> k_f32(pool_elements), v_f32(pool_elements);
  std::vector<bf16> k_bf16(pool_elements), v_bf16(pool_elements);
  PagedKv cache;
  cache.k = kv_dtype == DType::kF32 ? static_cast<void*>(k_f32.data()) : k_bf16.data();
  cache.v = kv_dtype == DType::kF32 ? static_cast<void*>(v_f32.data()) : v_bf16.data();
  cache.dtype = kv_dtype;
  cache.num_pages = num_pages;
  cache.page_size = page_size;
  cache.kv_heads = kv_heads;
  cache.head_dim = head_dim;

  // Per sequence: every position's K and V (cached ones written in an earlier "step").
  std::vector<std::vector<float>> all_k, all_v;
  std::vector<AttentionSequence> step;
  int64_t batch_tokens = 0;
  for (const Sequence& sequence : sequences) {
    const int64_t length = sequence.cached + sequence.tokens;
    all_k.push_back(random_values(static_cast<size_t>(length * kv_heads * head_dim), generator));
    all_v.push_back(random_values(static_cast<size_t>(length * kv_heads * head_dim), generator));
    if (kv_dtype == DType::kBF16) {
      for (float& value : all_k.back()) value = to_float(to_bf16(value));
      for (float& value : all_v.back()) value = to_float(to_bf16(value));
    }
    if (sequence.cached > 0) {
      AttentionSequence earlier{0, sequence.cached, 0, sequence.pages};
      write_kv(context, cache, all_k.back().data(), all_v.back().data(), kv_heads * head_dim,
               {&earlier, 1});
    }
    step.push_back({batch_tokens, sequence.tokens, sequence.cached, sequence.pages});
    batch_tokens += sequence.tokens;
  }

  // This step's q, k, v rows interleaved as one qkv buffer, as the model lays them out.
  const int64_t stride = (heads + 2 * kv_heads) * head_dim;
  std::vector<float> qkv = random_values(static_cast<size_t>(batch_tokens * stride), generator);
  for (size_t s = 0; s < sequences.size(); ++s) {
    for (int64_t t = 0; t < sequences[s].tokens; ++t) {
      const int64_t row = step[s].first_token + t;
      const int64_t position = sequences[s].cached + t;
      std::copy_n(all_k[s].data() + position * kv_heads * head_dim, kv_heads * head_dim,
                  qkv.data() + row * stride + heads * head_dim);
      std::copy_n(all_v[s].data() + position * kv_heads * head_dim, kv_heads * head_dim,
                  qkv.data() + row * stride + (heads + kv_heads) * head_dim);
    }
  }
  write_kv(context, cache, qkv.data() + heads * head_dim, qkv.data() + (heads + kv_heads) * head_dim,
           stride, step);
  std::vector<float> out(static_cast<size_t>(batch_tokens * heads * head_dim));
  paged_attention(context, qkv.data(), stride, heads, cache, step, scale, out.data());

  for (size_t s = 0; s < sequences.size(); ++s) {
    std::vector<float> q;
    for (int64_t t = 0; t < sequences[s].tokens; ++t) {
      const float* row = qkv.data() + (step[s].first_token + t) * stride;
      q.insert(q.end(), row, row + heads * head_dim);
    }
    std::vector<float> expected = reference_attention(q, all_k[s], all_v[s], sequences[s].cached,
                                                      sequences[s].tokens, heads, kv_heads,
                                                      head_dim, scale);
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_NEAR(out[static_cast<size_t>(step[s].first_token * heads * head_dim) + i], expected[i], 1e-5)
          << "sequence " << s << " element " << i;
    }
  }
}

TEST_F(OpsTest, PagedAttentionF32MatchesReference) { check_paged_attention(context_, DType::kF32); }

TEST_F(OpsTest, PagedAttentionBf16MatchesReference) { check_paged_attention(context_, DType::kBF16); }

}  // namespace
}  // namespace glyph::ops
