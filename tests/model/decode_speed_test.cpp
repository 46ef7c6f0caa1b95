// Decode and prefill speed, printed rather than asserted (timed assertions do not belong in
// unit tests). Disabled by default; run with
//   model_tests --gtest_also_run_disabled_tests --gtest_filter='*DecodeSpeed*'
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>

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

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Prints the best and the median of a list of values; best is the largest when
// higher_is_better, else the smallest.
void print_best_median(const char* what, std::vector<double> values, const char* unit,
                       bool higher_is_better) {
  std::sort(values.begin(), values.end());
  const double best = higher_is_better ? values.back() : values.front();
  std::printf("  %s: best %.3f %s, median %.3f %s (%zu runs)\n", what, best, unit,
              values[values.size() / 2], unit, values.size());
}

// Prefills a prompt of `tokens` tokens in one forward pass, `runs` times, and prints the time
// and the FLOP rate of the linear layers, counting 2 FLOPs per multiply-add. Attention is not
// counted.
void measure_prefill(TextModel& model, int32_t tokens, int runs) {
  const TextConfig& text = model.config().text;
  const int32_t page_size = 16;
  model.allocate_kv_cache(tokens / page_size + 1, page_size);
  std::vector<int32_t> pages(static_cast<size_t>(model.kv_num_pages()));
  std::iota(pages.begin(), pages.end(), 0);
  std::vector<int32_t> prompt(static_cast<size_t>(tokens));
  std::vector<int32_t> positions;
  for (int32_t i = 0; i < tokens; ++i) {
    prompt[static_cast<size_t>(i)] = (i * 7919) % text.vocab_size;
    positions.insert(positions.end(), {i, i, i});
  }
  const double hidden = text.hidden_size;
  const double per_layer = hidden * (text.num_attention_heads + 2.0 * text.num_key_value_heads) *
                               text.head_dim +
                           static_cast<double>(text.num_attention_heads) * text.head_dim * hidden +
                           3.0 * text.intermediate_size * hidden;
  const double flops = 2.0 * (tokens * per_layer * text.num_hidden_layers +
                              hidden * static_cast<double>(text.vocab_size));

  std::vector<float> logits;
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    SequenceSlice slice{0, tokens, 0, pages, true};
    const auto start = std::chrono::steady_clock::now();
    model.forward({prompt, positions, {&slice, 1}}, logits);
    times.push_back(seconds_since(start));
  }
  std::printf("%s\n  prefill of %d tokens:\n", model.describe().c_str(), tokens);
  print_best_median("time", times, "s", false);
  std::vector<double> rates;
  for (double time : times) rates.push_back(flops / time / 1e9);
  print_best_median("linear layers", rates, "GFLOP/s", true);
}

// Decodes `streams` sequences together, one token each per forward pass, after a short
// prompt each, and prints output tokens per second.
void measure_streams(TextModel& model, int32_t streams, int32_t steps) {
  const int32_t page_size = 16;
  const int32_t prompt = 16;
  const int32_t pages_per_stream = (prompt + steps) / page_size + 1;
  model.allocate_kv_cache(streams * pages_per_stream, page_size);
  std::vector<std::vector<int32_t>> pages(static_cast<size_t>(streams));
  for (int32_t s = 0; s < streams; ++s) {
    for (int32_t p = 0; p < pages_per_stream; ++p) pages[static_cast<size_t>(s)].push_back(p * streams + s);
  }

  std::vector<float> logits;
  std::vector<int32_t> tokens;
  std::vector<int32_t> positions;
  std::vector<SequenceSlice> slices;
  for (int32_t s = 0; s < streams; ++s) {
    for (int32_t i = 0; i < prompt; ++i) {
      tokens.push_back(9703 + s);
      positions.insert(positions.end(), {i, i, i});
    }
    slices.push_back({s * prompt, prompt, 0, pages[static_cast<size_t>(s)], true});
  }
  model.forward({tokens, positions, slices}, logits);

  std::vector<double> rates;
  const int64_t vocab = model.config().text.vocab_size;
  for (int32_t step = 0; step < steps; ++step) {
    const int32_t position = prompt + step;
    tokens.clear();
    positions.clear();
    slices.clear();
    for (int32_t s = 0; s < streams; ++s) {
      tokens.push_back(testing::argmax(logits.data() + s * vocab, vocab));
      positions.insert(positions.end(), {position, position, position});
      slices.push_back({s, 1, position, pages[static_cast<size_t>(s)], true});
    }
    const auto start = std::chrono::steady_clock::now();
    model.forward({tokens, positions, slices}, logits);
    rates.push_back(streams / seconds_since(start));
  }
  std::printf("  decode, %d streams, %d steps:\n", streams, steps);
  print_best_median("output tokens/s", rates, "tokens/s", true);
}

// Glyph's widths (hidden 4096, 32 heads / 2 KV heads, MLP 13696, vocab 151552) with 2 layers
// and dummy BF16 weights: about 3.3 GB, most of it the embedding and lm_head.
const char* kGlyphTwoLayers = R"({
    "architectures": ["Glm4vForConditionalGeneration"],
    "text_config": {"hidden_size": 4096, "num_hidden_layers": 2, "num_attention_heads": 32,
      "num_key_value_heads": 2, "intermediate_size": 13696, "vocab_size": 151552,
      "partial_rotary_factor": 0.5, "rope_theta": 500000, "max_position_embeddings": 131072,
      "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}}})";

TEST(DecodeSpeed, DISABLED_GlyphWidthsTwoLayers) {
  testing::TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", kGlyphTwoLayers);
  LoadOptions options;
  options.model_dir = dir.path();
  options.dummy_weights = true;
  options.compute_type = ComputeType::kBF16;
  // Twice, because the first load also pays for the operating system's first touch of fresh
  // memory, which can dominate (0.2-2 GB/s inside a Firecracker VM). The second reuses pages.
  measure_decode(options, 20);
  measure_decode(options, 20);
}

// The same model: a 512-token prefill, then decode at 1 and 16 streams.
TEST(DecodeSpeed, DISABLED_GlyphWidthsPrefillAndStreams) {
  testing::TemporaryDirectory dir;
  testing::write_text(dir.path() / "config.json", kGlyphTwoLayers);
  LoadOptions options;
  options.model_dir = dir.path();
  options.dummy_weights = true;
  options.compute_type = ComputeType::kBF16;
  auto model = TextModel::load(options);
  measure_prefill(*model, 512, 5);
  measure_streams(*model, 1, 10);
  measure_streams(*model, 16, 10);
}

}  // namespace
}  // namespace glyph::model
