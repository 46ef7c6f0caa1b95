// --load-format dummy: random weights from config.json alone.
#include <gtest/gtest.h>

#include <cmath>

#include "model/text_model.h"
#include "model/text_weights.h"
#include "model_test_support.h"

namespace glyph::model {
namespace {

using testing::TemporaryDirectory;

// Glyph's text widths (GLM-4.1V-9B) with one layer.
const char* kGlyphOneLayer = R"({
  "architectures": ["Glm4vForConditionalGeneration"],
  "text_config": {"hidden_size": 4096, "num_hidden_layers": 1, "num_attention_heads": 32,
    "num_key_value_heads": 2, "intermediate_size": 13696, "vocab_size": 151552,
    "partial_rotary_factor": 0.5, "rope_theta": 500000, "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}},
  "image_token_id": 151363})";

// Shapes only: the weights are reserved but never written, so this takes no RAM.
TEST(DummyWeights, GlyphWidthShapes) {
  TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", kGlyphOneLayer);
  ModelConfig config = ModelConfig::load(dir.path());
  ThreadPool pool(1);
  TextWeights weights = dummy_text_weights(config, ComputeType::kBF16, 0, pool, /*fill=*/false);

  EXPECT_TRUE(weights.embed_tokens.same_shape({151552, 4096}));
  ASSERT_EQ(weights.layers.size(), 1u);
  const LayerWeights& layer = weights.layers[0];
  EXPECT_TRUE(layer.qkv_proj.same_shape({(32 + 2 * 2) * 128, 4096}));
  EXPECT_EQ(layer.qkv_proj.dtype, DType::kBF16);
  EXPECT_TRUE(layer.qkv_bias.same_shape({4608}));
  EXPECT_EQ(layer.qkv_bias.dtype, DType::kF32);
  EXPECT_TRUE(layer.o_proj.same_shape({4096, 4096}));
  EXPECT_TRUE(layer.gate_up_proj.same_shape({2 * 13696, 4096}));
  EXPECT_TRUE(layer.down_proj.same_shape({4096, 13696}));
  for (const Tensor* norm : {&layer.input_layernorm, &layer.post_self_attn_layernorm,
                             &layer.post_attention_layernorm, &layer.post_mlp_layernorm}) {
    EXPECT_TRUE(norm->same_shape({4096}));
  }
  EXPECT_TRUE(weights.norm.same_shape({4096}));
  EXPECT_TRUE(weights.lm_head.same_shape({151552, 4096}));
  EXPECT_EQ(weights.lm_head.dtype, DType::kBF16);

  // Embedding + lm_head 2 x 620.8M, the layer 218.1M (qkv 18.9M + bias, o 16.8M, MLP 168.3M,
  // norms), final norm.
  const int64_t expected = 2 * 151552LL * 4096 + 4608LL * 4096 + 4608 + 4096LL * 4096 +
                           27392LL * 4096 + 4096LL * 13696 + 5 * 4096;
  EXPECT_EQ(weights.parameter_count, expected);
}

std::unique_ptr<TextModel> load_dummy(uint64_t seed, int threads, ComputeType compute_type) {
  LoadOptions options;
  options.model_dir = testing::tiny_model_dir();
  options.dummy_weights = true;
  options.dummy_seed = seed;
  options.threads = threads;
  options.compute_type = compute_type;
  return TextModel::load(options);
}

std::vector<float> first_logits(TextModel& model) {
  testing::GreedyRequest request;
  request.prompt = {151331, 151333, 151336, 198, 9703, 151337, 198};
  for (int32_t i = 0; i < 7; ++i) request.positions.insert(request.positions.end(), {i, i, i});
  request.steps = 1;
  return testing::run_greedy(model, {request}, {})[0].prompt_logits;
}

TEST(DummyWeights, RunsWithoutCheckpoint) {
  TemporaryDirectory dir;
  testing::copy_model_json(dir.path());  // config.json only; no model.safetensors.
  LoadOptions options;
  options.model_dir = dir.path();
  options.dummy_weights = true;
  options.threads = 2;
  auto model = TextModel::load(options);
  std::vector<float> logits = first_logits(*model);
  ASSERT_EQ(logits.size(), 151552u);
  float largest = 0.0f;
  for (float value : logits) {
    ASSERT_TRUE(std::isfinite(value));
    largest = std::max(largest, std::abs(value));
  }
  EXPECT_GT(largest, 0.0f);
}

TEST(DummyWeights, SeedDecidesValuesNotThreads) {
  for (ComputeType compute_type : {ComputeType::kF32, ComputeType::kBF16}) {
    auto one_thread = load_dummy(7, 1, compute_type);
    auto two_threads = load_dummy(7, 2, compute_type);
    auto other_seed = load_dummy(8, 2, compute_type);
    // Same weights; summation order differs only in how columns split, which leaves each
    // output's arithmetic unchanged.
    EXPECT_EQ(first_logits(*one_thread), first_logits(*two_threads));
    EXPECT_NE(first_logits(*one_thread), first_logits(*other_seed));
  }
}

}  // namespace
}  // namespace glyph::model
