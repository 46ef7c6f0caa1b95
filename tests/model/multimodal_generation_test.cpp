// Text decoder plus vision tower against transformers on prompts with 1 and 3 images
// (tools/make_vision_fixtures.py): image embeddings enter through Batch::input_embeddings,
// positions come from multimodal_positions, and decoding continues at index + rope_delta.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "model/multimodal_positions.h"
#include "model/text_model.h"
#include "model/vision_model.h"
#include "model_test_support.h"
#include "vision_fixtures.h"

namespace glyph::model {
namespace {

using testing::MultimodalPrompt;

struct Models {
  std::unique_ptr<TextModel> text;
  std::unique_ptr<VisionModel> vision;
};

Models load_tiny(ComputeType compute_type) {
  LoadOptions options;
  options.model_dir = testing::tiny_model_dir();
  options.compute_type = compute_type;
  options.threads = 2;
  return {TextModel::load(options), VisionModel::load(options)};
}

struct RunResult {
  std::vector<std::vector<float>> chunk_logits;  // Logits after each prefill chunk.
  std::vector<int32_t> tokens;                   // Greedy tokens, the first from the prompt.
};

// Prefills the prompt through a paged KV cache in chunks ending at chunk_ends (exclusive token
// indices, the last equal to the prompt length). Then decodes greedily one token per step at
// position index + rope_delta on all three components, as transformers' generate() does.
RunResult run_prompt(Models& models, const MultimodalPrompt& prompt,
                     const std::vector<int32_t>& chunk_ends, int32_t steps,
                     int32_t page_size = 16) {
  const auto num_tokens = static_cast<int32_t>(prompt.prompt_ids.size());
  const int32_t hidden = models.text->config().text.hidden_size;
  const int32_t merge = models.text->config().vision.spatial_merge_size;
  const MultimodalPositions positions = multimodal_positions(num_tokens, prompt.images, merge);

  // Each image encoded once; its rows replace the embeddings of its <|image|> run.
  std::vector<std::vector<float>> image_embeddings;
  std::vector<const float*> rows(static_cast<size_t>(num_tokens), nullptr);
  for (size_t i = 0; i < prompt.images.size(); ++i) {
    const auto& image =
        testing::vision_fixtures().images[static_cast<size_t>(prompt.image_indices[i])];
    image_embeddings.push_back(models.vision->encode(image.pixel_values, image.grid_thw));
    const auto count = static_cast<int32_t>(image_embeddings.back().size()) / hidden;
    for (int32_t t = 0; t < count; ++t) {
      rows[static_cast<size_t>(prompt.images[i].offset + t)] =
          image_embeddings.back().data() + static_cast<int64_t>(t) * hidden;
    }
  }

  const int32_t num_pages = (num_tokens + steps) / page_size + 1;
  models.text->allocate_kv_cache(num_pages, page_size);
  std::vector<int32_t> pages(static_cast<size_t>(num_pages));
  for (int32_t i = 0; i < num_pages; ++i) pages[static_cast<size_t>(i)] = num_pages - 1 - i;

  RunResult result;
  std::vector<float> logits;
  const int64_t vocab = models.text->config().text.vocab_size;
  int32_t cached = 0;
  for (int32_t end : chunk_ends) {
    SequenceSlice slice;
    slice.num_tokens = end - cached;
    slice.num_cached = cached;
    slice.kv_pages = pages;
    Batch batch;
    batch.tokens = std::span(prompt.prompt_ids)
                       .subspan(static_cast<size_t>(cached), static_cast<size_t>(slice.num_tokens));
    batch.positions =
        std::span(positions.positions)
            .subspan(static_cast<size_t>(cached) * 3, static_cast<size_t>(slice.num_tokens) * 3);
    batch.input_embeddings = std::span<const float* const>(rows).subspan(
        static_cast<size_t>(cached), static_cast<size_t>(slice.num_tokens));
    batch.sequences = std::span(&slice, 1);
    models.text->forward(batch, logits);
    result.chunk_logits.push_back(logits);
    cached = end;
  }
  result.tokens.push_back(testing::argmax(logits.data(), vocab));

  for (int32_t step = 1; step < steps; ++step) {
    const int32_t token = result.tokens.back();
    const int32_t position = cached + positions.rope_delta;
    const std::vector<int32_t> decode_positions = {position, position, position};
    SequenceSlice slice;
    slice.num_tokens = 1;
    slice.num_cached = cached;
    slice.kv_pages = pages;
    Batch batch;
    batch.tokens = std::span(&token, 1);
    batch.positions = decode_positions;
    batch.sequences = std::span(&slice, 1);
    models.text->forward(batch, logits);
    result.tokens.push_back(testing::argmax(logits.data(), vocab));
    ++cached;
  }
  return result;
}

// max |a[subset] - b| over the fixture's vocabulary subset.
float subset_error(const std::vector<float>& logits, const std::vector<float>& reference) {
  const auto& subset = testing::vision_fixtures().vocab_subset;
  float error = 0.0f;
  for (size_t i = 0; i < subset.size(); ++i) {
    error = std::max(error, std::abs(logits[static_cast<size_t>(subset[i])] - reference[i]));
  }
  return error;
}

int32_t steps_of(const MultimodalPrompt& prompt) {
  return static_cast<int32_t>(prompt.greedy_ids.size());
}

TEST(MultimodalFixtures, HaveOneAndThreeImages) {
  const auto& prompts = testing::vision_fixtures().prompts;
  ASSERT_EQ(prompts.size(), 2u);
  EXPECT_EQ(prompts[0].images.size(), 1u);
  EXPECT_EQ(prompts[1].images.size(), 3u);
}

// The FP32 tolerance of the text model's tests: FP32 repeats transformers' float32 arithmetic in
// another order, so logits agree to float32 rounding, well inside 1e-4 of max |logit|.
TEST(MultimodalFp32, LastLogitsAndGreedyMatchTransformers) {
  Models models = load_tiny(ComputeType::kF32);
  for (const MultimodalPrompt& prompt : testing::vision_fixtures().prompts) {
    const auto length = static_cast<int32_t>(prompt.prompt_ids.size());
    const RunResult result = run_prompt(models, prompt, {length}, steps_of(prompt));
    const float error = subset_error(result.chunk_logits.back(), prompt.logits.back());
    EXPECT_LE(error, 1e-4f * prompt.max_abs_logits.back()) << prompt.name;
    EXPECT_EQ(result.tokens, prompt.greedy_ids) << prompt.name;
    RecordProperty("relative_error_" + prompt.name,
                   fmt::format("{:.2e}", error / prompt.max_abs_logits.back()));
  }
}

// Prefill chunks that end at the fixture's rows: inside the first image run (its first, middle
// and last token), just after it, and at the prompt's end. Each chunk's last logits must match
// transformers' logits at that row, and the final ones must equal an unchunked prefill's bit
// for bit, because the kernels reduce in an order that chunking does not change.
TEST(MultimodalFp32, ChunkedPrefillInsideImageRuns) {
  Models models = load_tiny(ComputeType::kF32);
  for (const MultimodalPrompt& prompt : testing::vision_fixtures().prompts) {
    std::vector<int32_t> chunk_ends;
    for (int32_t row : prompt.logit_rows) chunk_ends.push_back(row + 1);
    ASSERT_EQ(chunk_ends.back(), static_cast<int32_t>(prompt.prompt_ids.size())) << prompt.name;
    ASSERT_GT(chunk_ends.front(), prompt.images[0].offset) << prompt.name;

    const RunResult chunked = run_prompt(models, prompt, chunk_ends, steps_of(prompt), 4);
    for (size_t row = 0; row < prompt.logit_rows.size(); ++row) {
      const float error = subset_error(chunked.chunk_logits[row], prompt.logits[row]);
      EXPECT_LE(error, 1e-4f * prompt.max_abs_logits[row])
          << prompt.name << " row " << prompt.logit_rows[row];
    }
    EXPECT_EQ(chunked.tokens, prompt.greedy_ids) << prompt.name;

    const auto length = static_cast<int32_t>(prompt.prompt_ids.size());
    const RunResult whole = run_prompt(models, prompt, {length}, 1);
    EXPECT_EQ(chunked.chunk_logits.back(), whole.chunk_logits.back()) << prompt.name;
  }
}

// Without the image rows the image tokens read their own (shared) embedding, so the logits
// must move: input_embeddings is really used.
TEST(MultimodalFp32, ImageEmbeddingsChangeLogits) {
  Models models = load_tiny(ComputeType::kF32);
  const MultimodalPrompt& prompt = testing::vision_fixtures().prompts[0];
  const auto length = static_cast<int32_t>(prompt.prompt_ids.size());
  const RunResult with_images = run_prompt(models, prompt, {length}, 1);

  const MultimodalPositions positions =
      multimodal_positions(length, prompt.images, models.text->config().vision.spatial_merge_size);
  testing::GreedyRequest request;
  request.prompt = prompt.prompt_ids;
  request.positions = positions.positions;
  request.steps = 1;
  const auto without = testing::run_greedy(*models.text, {request}, {})[0];
  EXPECT_GT(testing::max_abs_difference(with_images.chunk_logits.back(), without.prompt_logits),
            0.01f * prompt.max_abs_logits.back());
}

TEST(MultimodalFp32, RejectsEmbeddingCountMismatch) {
  Models models = load_tiny(ComputeType::kF32);
  models.text->allocate_kv_cache(4, 16);
  const std::vector<int32_t> tokens = {151331, 151333};
  const std::vector<int32_t> positions = {0, 0, 0, 1, 1, 1};
  const std::vector<const float*> one_row = {nullptr};
  const std::vector<int32_t> pages = {0};
  SequenceSlice slice;
  slice.num_tokens = 2;
  slice.kv_pages = pages;
  Batch batch;
  batch.tokens = tokens;
  batch.positions = positions;
  batch.sequences = std::span(&slice, 1);
  batch.input_embeddings = one_row;
  std::vector<float> logits;
  EXPECT_THROW(models.text->forward(batch, logits), Error);
}

}  // namespace
}  // namespace glyph::model
