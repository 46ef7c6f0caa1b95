// Decode speed at batch 1, printed rather than asserted (timed assertions do not belong in unit
// tests). Disabled by default; run with
//   model_tests --gtest_also_run_disabled_tests --gtest_filter='*DecodeSpeed*'
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "model/text_model.h"
#include "model_test_support.h"

namespace glyph::model {
namespace {

// Prefills 16 tokens, then decodes one token per forward pass and prints the rate.
void measure_decode(const LoadOptions& options, int32_t steps) {
  auto load_start = std::chrono::steady_clock::now();
  auto model = TextModel::load(options);
  std::printf("  load: %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count());
  model->allocate_kv_cache((16 + steps) / 16 + 2, 16);
  std::vector<int32_t> pages;
  for (int32_t i = 0; i < model->kv_num_pages(); ++i) pages.push_back(i);

  std::vector<int32_t> tokens(16, 9703);
  std::vector<int32_t> positions;
  for (int32_t i = 0; i < 16; ++i) positions.insert(positions.end(), {i, i, i});
  std::vector<float> logits;
  SequenceSlice slice{0, 16, 0, pages, true};
  model->forward({tokens, positions, {&slice, 1}}, logits);

  auto start = std::chrono::steady_clock::now();
  for (int32_t step = 0; step < steps; ++step) {
    const int32_t position = 16 + step;
    const int32_t token = testing::argmax(logits.data(), static_cast<int64_t>(logits.size()));
    const int32_t step_positions[] = {position, position, position};
    SequenceSlice decode{0, 1, position, pages, true};
    model->forward({{&token, 1}, step_positions, {&decode, 1}}, logits);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s\n  decode: %d tokens in %.3f s = %.1f tokens/s\n", model->describe().c_str(),
              steps, seconds, steps / seconds);
}

TEST(DecodeSpeed, DISABLED_TinyModel) {
  for (ComputeType compute_type : {ComputeType::kF32, ComputeType::kBF16}) {
    LoadOptions options;
    options.model_dir = testing::tiny_model_dir();
    options.compute_type = compute_type;
    measure_decode(options, 500);
  }
}

// Glyph's widths (hidden 4096, 32 heads / 2 KV heads, MLP 13696, vocab 151552) with 2 layers
// and dummy BF16 weights: about 3.3 GB, most of it the embedding and lm_head.
TEST(DecodeSpeed, DISABLED_GlyphWidthsTwoLayers) {
  testing::TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", R"({
    "architectures": ["Glm4vForConditionalGeneration"],
    "text_config": {"hidden_size": 4096, "num_hidden_layers": 2, "num_attention_heads": 32,
      "num_key_value_heads": 2, "intermediate_size": 13696, "vocab_size": 151552,
      "partial_rotary_factor": 0.5, "rope_theta": 500000, "max_position_embeddings": 131072,
      "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}}})");
  LoadOptions options;
  options.model_dir = dir.path();
  options.dummy_weights = true;
  options.compute_type = ComputeType::kBF16;
  // Twice, because the first load also pays for the operating system's first touch of fresh
  // memory, which can dominate (0.2-2 GB/s inside a Firecracker VM). The second reuses pages.
  measure_decode(options, 20);
  measure_decode(options, 20);
}

}  // namespace
}  // namespace glyph::model
