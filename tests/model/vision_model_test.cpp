// The vision tower against transformers (tools/make_vision_fixtures.py), and dummy weights at
// Glyph's full widths.
#include "model/vision_model.h"

#include <gtest/gtest.h>

#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "model/vision_weights.h"
#include "model_test_support.h"
#include "vision_fixtures.h"

namespace glyph::model {
namespace {

using testing::VisionFixtureImage;

std::unique_ptr<VisionModel> load_tiny_vision(ComputeType compute_type,
                                              std::optional<SimdLevel> level = std::nullopt) {
  LoadOptions options;
  options.model_dir = testing::tiny_model_dir();
  options.compute_type = compute_type;
  options.threads = 2;
  options.simd_level = level;
  return VisionModel::load(options);
}

std::vector<SimdLevel> supported_levels() {
  std::vector<SimdLevel> levels;
  for (SimdLevel level :
       {SimdLevel::kScalar, SimdLevel::kAvx2, SimdLevel::kAvx512, SimdLevel::kAvx512Bf16}) {
    if (level <= best_simd_level()) levels.push_back(level);
  }
  return levels;
}

std::string level_name(const ::testing::TestParamInfo<SimdLevel>& info) {
  return std::string(simd_level_name(info.param));
}

TEST(VisionFixtures, CoverResamplingAndBorders) {
  const auto& images = testing::vision_fixtures().images;
  ASSERT_GE(images.size(), 3u);
  bool smaller_than_table = false;
  bool wider_than_table = false;
  for (const VisionFixtureImage& image : images) {
    smaller_than_table |= image.grid_thw[1] < 24 && image.grid_thw[2] < 24;
    wider_than_table |= image.grid_thw[2] > 24;
  }
  EXPECT_TRUE(smaller_than_table);
  EXPECT_TRUE(wider_than_table);
}

class VisionFp32 : public ::testing::TestWithParam<SimdLevel> {};

// FP32 runs transformers' float32 arithmetic in another summation order (and the attention
// kernel's own exp), so the embeddings agree to a few float32 roundings per layer: measured at
// most 1.4e-6 of max |embedding| on this model (scalar kernels; 9e-7 with SIMD). 1e-5 leaves
// room for other summation orders.
TEST_P(VisionFp32, EmbeddingsMatchTransformers) {
  auto model = load_tiny_vision(ComputeType::kF32, GetParam());
  const auto& images = testing::vision_fixtures().images;
  for (size_t i = 0; i < images.size(); ++i) {
    const VisionFixtureImage& image = images[i];
    const std::vector<float> embeddings = model->encode(image.pixel_values, image.grid_thw);
    ASSERT_EQ(embeddings.size(), image.embeddings.size()) << "image " << i;
    const float error = testing::max_abs_difference(embeddings, image.embeddings);
    EXPECT_LE(error, 1e-5f * image.max_abs_embedding) << "image " << i;
    RecordProperty("relative_error_image_" + std::to_string(i),
                   fmt::format("{:.2e}", error / image.max_abs_embedding));
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, VisionFp32, ::testing::ValuesIn(supported_levels()), level_name);

class VisionBf16 : public ::testing::TestWithParam<SimdLevel> {};

// BF16 keeps the linear weights exactly as stored (the checkpoint is BF16), so the error comes
// from rounding activations to BF16, each rounding off by at most u = 2^-8 of the value. The
// widening kernels (avx2, avx512) round nothing in the vision tower: it has no KV cache, so
// they match FP32 to float32 rounding. VDPBF16PS and AMX round the input of every linear layer:
// patch_embed, 4 per block (qkv, proj, gate_up, down) in each of the 2 blocks, downsample and 3
// in the merger, 13 roundings. Norms keep the rounded values at the scale of the output, so to
// first order the output moves by up to 13 u of max |embedding|. Measured with VDPBF16PS on an
// AVX-512 BF16 CPU without AMX: 1.35u to 1.52u. The widening levels matched FP32 to 9e-7.
float bf16_tolerance(SimdLevel level, float max_abs_embedding) {
  const float roundings = level == SimdLevel::kAvx512Bf16 ? 13.0f : 0.01f;
  return roundings * std::ldexp(1.0f, -8) * max_abs_embedding;
}

TEST_P(VisionBf16, EmbeddingsWithinRoundingBound) {
  auto model = load_tiny_vision(ComputeType::kBF16, GetParam());
  const auto& images = testing::vision_fixtures().images;
  for (size_t i = 0; i < images.size(); ++i) {
    const VisionFixtureImage& image = images[i];
    const std::vector<float> embeddings = model->encode(image.pixel_values, image.grid_thw);
    const float error = testing::max_abs_difference(embeddings, image.embeddings);
    EXPECT_LE(error, bf16_tolerance(GetParam(), image.max_abs_embedding)) << "image " << i;
    RecordProperty("relative_error_image_" + std::to_string(i),
                   fmt::format("{:.2e}", error / image.max_abs_embedding));
  }
}

std::vector<SimdLevel> bf16_levels() {
  std::vector<SimdLevel> levels = supported_levels();
  std::erase(levels, SimdLevel::kScalar);  // Same widening arithmetic as avx2, only slower.
  return levels;
}

INSTANTIATE_TEST_SUITE_P(Levels, VisionBf16, ::testing::ValuesIn(bf16_levels()), level_name);

// Encoding one image must not depend on what was encoded before (scratch reuse).
TEST(VisionModel, EncodeRepeatsExactly) {
  auto model = load_tiny_vision(ComputeType::kF32);
  const auto& images = testing::vision_fixtures().images;
  const std::vector<float> first = model->encode(images[0].pixel_values, images[0].grid_thw);
  model->encode(images[2].pixel_values, images[2].grid_thw);
  EXPECT_EQ(model->encode(images[0].pixel_values, images[0].grid_thw), first);
}

TEST(VisionModel, OutputTokenCount) {
  auto model = load_tiny_vision(ComputeType::kF32);
  EXPECT_EQ(model->num_output_tokens({1, 6, 6}), 9);
  EXPECT_EQ(model->num_output_tokens({1, 4, 34}), 34);
}

TEST(VisionModel, RejectsInvalidInput) {
  auto model = load_tiny_vision(ComputeType::kF32);
  const VisionFixtureImage& image = testing::vision_fixtures().images[0];
  std::vector<float> short_pixels(image.pixel_values.begin(), image.pixel_values.end() - 1);
  EXPECT_THROW(model->encode(short_pixels, image.grid_thw), Error);
  EXPECT_THROW(model->encode(image.pixel_values, {2, 6, 3}), Error);   // grid_t 2
  EXPECT_THROW(model->encode(image.pixel_values, {1, 9, 4}), Error);   // 9 rows: odd
  EXPECT_THROW(model->encode(image.pixel_values, {1, 0, 36}), Error);  // empty
}

// Glyph's vision_config (GLM-4.1V-9B) with the text hidden size its merger writes.
const char* kGlyphVision = R"({
  "architectures": ["Glm4vForConditionalGeneration"],
  "text_config": {"hidden_size": 4096, "num_hidden_layers": 1, "num_attention_heads": 32,
    "num_key_value_heads": 2, "intermediate_size": 13696, "vocab_size": 151552,
    "partial_rotary_factor": 0.5, "rope_theta": 500000, "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}},
  "vision_config": {"depth": DEPTH, "hidden_size": 1536, "num_heads": 12,
    "intermediate_size": 13696, "out_hidden_size": 4096, "patch_size": 14,
    "temporal_patch_size": 2, "spatial_merge_size": 2, "image_size": 336, "in_channels": 3,
    "rms_norm_eps": 1e-05, "attention_bias": false, "hidden_act": "silu"},
  "image_token_id": 151363})";

std::string glyph_vision_config(int depth) {
  std::string text = kGlyphVision;
  text.replace(text.find("DEPTH"), 5, std::to_string(depth));
  return text;
}

// Shapes only: the weights are reserved but never written, so this takes no RAM.
TEST(VisionDummyWeights, GlyphWidthShapes) {
  testing::TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", glyph_vision_config(24));
  const ModelConfig config = ModelConfig::load(dir.path());
  ThreadPool pool(1);
  const VisionWeights weights =
      dummy_vision_weights(config, ComputeType::kBF16, 0, pool, /*fill=*/false);

  EXPECT_TRUE(weights.patch_embed.same_shape({1536, 1176}));
  EXPECT_EQ(weights.patch_embed.dtype, DType::kBF16);
  EXPECT_TRUE(weights.position_embedding.same_shape({576, 1536}));
  EXPECT_EQ(weights.position_embedding.dtype, DType::kF32);
  ASSERT_EQ(weights.blocks.size(), 24u);
  const VisionBlockWeights& block = weights.blocks[0];
  EXPECT_TRUE(block.qkv.same_shape({3 * 1536, 1536}));
  EXPECT_TRUE(block.qkv_bias.empty());
  EXPECT_TRUE(block.proj.same_shape({1536, 1536}));
  EXPECT_TRUE(block.gate_up_proj.same_shape({2 * 4096, 1536}));
  EXPECT_TRUE(block.down_proj.same_shape({1536, 4096}));
  EXPECT_TRUE(weights.downsample.same_shape({4096, 4 * 1536}));
  EXPECT_TRUE(weights.merger_proj.same_shape({4096, 4096}));
  EXPECT_TRUE(weights.merger_gate_up_proj.same_shape({2 * 13696, 4096}));
  EXPECT_TRUE(weights.merger_down_proj.same_shape({4096, 13696}));

  // Per block: 2 norms, qkv, proj, MLP 3 x 1536 x 4096. Then patch embed with bias, position
  // table, 2 norms, downsample with bias, merger proj, LayerNorm, MLP 3 x 4096 x 13696.
  const int64_t per_block = 2 * 1536LL + 3 * 1536LL * 1536 + 1536LL * 1536 + 3 * 1536LL * 4096;
  const int64_t expected = 24 * per_block + 1536LL * 1176 + 1536 + 576LL * 1536 + 2 * 1536 +
                           4096LL * 6144 + 4096 + 4096LL * 4096 + 2 * 4096 + 3 * 4096LL * 13696;
  EXPECT_EQ(weights.parameter_count, expected);
}

std::unique_ptr<VisionModel> load_dummy(const std::filesystem::path& dir, uint64_t seed,
                                        int threads) {
  LoadOptions options;
  options.model_dir = dir;
  options.dummy_weights = true;
  options.dummy_seed = seed;
  options.threads = threads;
  options.compute_type = ComputeType::kBF16;
  return VisionModel::load(options);
}

// One block at Glyph's widths (12 heads of 128, MLP 4096, merger 13696) on a 4x6-patch image.
TEST(VisionDummyWeights, GlyphWidthsRun) {
  testing::TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", glyph_vision_config(1));
  auto model = load_dummy(dir.path(), 3, 2);
  std::vector<float> pixels(24 * 1176);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = std::sin(0.01f * static_cast<float>(i));
  const std::vector<float> embeddings = model->encode(pixels, {1, 4, 6});
  ASSERT_EQ(embeddings.size(), 6u * 4096u);
  float largest = 0.0f;
  for (float value : embeddings) {
    ASSERT_TRUE(std::isfinite(value));
    largest = std::max(largest, std::abs(value));
  }
  EXPECT_GT(largest, 0.0f);
}

TEST(VisionDummyWeights, SeedDecidesValuesNotThreads) {
  const auto& image = testing::vision_fixtures().images[0];
  auto encode = [&](uint64_t seed, int threads) {
    return load_dummy(testing::tiny_model_dir(), seed, threads)
        ->encode(image.pixel_values, image.grid_thw);
  };
  const std::vector<float> one_thread = encode(7, 1);
  EXPECT_EQ(one_thread, encode(7, 2));
  EXPECT_NE(one_thread, encode(8, 2));
}

}  // namespace
}  // namespace glyph::model
