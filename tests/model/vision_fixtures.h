// The vision and M-RoPE reference fixtures written by tools/make_vision_fixtures.py from
// transformers 4.57.6 (float32, eager attention) running the tiny model in tests/data/tiny-glyph:
// tests/data/fixtures/vision_fixtures.json indexes arrays in vision_fixtures.bin.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/bf16.h"
#include "model/multimodal_positions.h"
#include "model_test_support.h"

namespace glyph::model::testing {

struct VisionFixtureImage {
  std::array<int32_t, 3> grid_thw{};
  std::vector<float> pixel_values;  // [patches, 1176], BF16 values widened to FP32.
  std::vector<float> embeddings;    // [merged tokens, out_hidden_size]
  float max_abs_embedding = 0.0f;
};

struct PositionCase {
  std::string name;
  int32_t num_tokens = 0;
  std::vector<ImagePlacement> images;
  std::vector<int32_t> positions;  // [tokens, 3]
  int32_t rope_delta = 0;
};

struct MultimodalPrompt {
  std::string name;
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> image_indices;  // Into VisionFixtures::images, in prompt order.
  std::vector<ImagePlacement> images;  // The same images' runs in the prompt.
  std::vector<int32_t> positions;      // [tokens, 3]
  int32_t rope_delta = 0;
  std::vector<int32_t> logit_rows;         // Prompt rows whose logits the fixture holds.
  std::vector<float> max_abs_logits;       // Per row, over the whole vocabulary.
  std::vector<std::vector<float>> logits;  // Per row, at VisionFixtures::vocab_subset.
  std::vector<int32_t> greedy_ids;
  std::vector<float> greedy_top2_gaps;
};

struct VisionFixtures {
  std::vector<int32_t> vocab_subset;
  std::vector<VisionFixtureImage> images;
  std::vector<PositionCase> position_cases;
  std::vector<MultimodalPrompt> prompts;
};

namespace detail {

template <typename T>
std::vector<T> read_array(const std::string& blob, const nlohmann::json& entry) {
  size_t count = 1;
  for (const auto& dim : entry["shape"]) count *= dim.get<size_t>();
  const auto offset = entry["offset"].get<size_t>();
  if (offset + count * sizeof(T) > blob.size()) {
    throw std::runtime_error(
        "vision_fixtures.bin is truncated: an array ends past the file; rerun "
        "tools/make_vision_fixtures.py");
  }
  std::vector<T> values(count);
  std::memcpy(values.data(), blob.data() + offset, count * sizeof(T));
  return values;
}

inline std::vector<int32_t> flatten_positions(const nlohmann::json& rows) {
  std::vector<int32_t> positions;
  for (const auto& row : rows) {
    for (const auto& component : row) positions.push_back(component.get<int32_t>());
  }
  return positions;
}

inline std::array<int32_t, 3> grid(const nlohmann::json& value) {
  return {value[0].get<int32_t>(), value[1].get<int32_t>(), value[2].get<int32_t>()};
}

inline VisionFixtures load_vision_fixtures() {
  const auto dir = data_dir() / "fixtures";
  const auto index = nlohmann::json::parse(read_text(dir / "vision_fixtures.json"));
  const std::string blob = read_text(dir / "vision_fixtures.bin");

  VisionFixtures fixtures;
  fixtures.vocab_subset = index["vocab_subset"].get<std::vector<int32_t>>();
  for (const auto& entry : index["images"]) {
    VisionFixtureImage image;
    image.grid_thw = grid(entry["grid_thw"]);
    for (uint16_t bits : read_array<uint16_t>(blob, entry["pixel_values"])) {
      image.pixel_values.push_back(to_float(bf16{bits}));
    }
    image.embeddings = read_array<float>(blob, entry["embeddings"]);
    image.max_abs_embedding = entry["max_abs_embedding"].get<float>();
    fixtures.images.push_back(std::move(image));
  }
  for (const auto& entry : index["position_cases"]) {
    PositionCase position_case;
    position_case.name = entry["name"].get<std::string>();
    position_case.num_tokens = entry["num_tokens"].get<int32_t>();
    for (const auto& image : entry["images"]) {
      position_case.images.push_back({image["offset"].get<int32_t>(), grid(image["grid_thw"])});
    }
    position_case.positions = flatten_positions(entry["positions"]);
    position_case.rope_delta = entry["rope_delta"].get<int32_t>();
    fixtures.position_cases.push_back(std::move(position_case));
  }
  const size_t subset = fixtures.vocab_subset.size();
  for (const auto& entry : index["prompts"]) {
    MultimodalPrompt prompt;
    prompt.name = entry["name"].get<std::string>();
    prompt.prompt_ids = entry["prompt_ids"].get<std::vector<int32_t>>();
    for (const auto& image : entry["images"]) {
      const auto image_index = image["image"].get<int32_t>();
      prompt.image_indices.push_back(image_index);
      prompt.images.push_back({image["offset"].get<int32_t>(),
                               fixtures.images[static_cast<size_t>(image_index)].grid_thw});
    }
    prompt.positions = flatten_positions(entry["positions"]);
    prompt.rope_delta = entry["rope_delta"].get<int32_t>();
    prompt.logit_rows = entry["logit_rows"].get<std::vector<int32_t>>();
    prompt.max_abs_logits = entry["max_abs_logits"].get<std::vector<float>>();
    const std::vector<float> logits = read_array<float>(blob, entry["logits"]);
    for (size_t row = 0; row < prompt.logit_rows.size(); ++row) {
      prompt.logits.emplace_back(logits.begin() + static_cast<std::ptrdiff_t>(row * subset),
                                 logits.begin() + static_cast<std::ptrdiff_t>((row + 1) * subset));
    }
    prompt.greedy_ids = entry["greedy_ids"].get<std::vector<int32_t>>();
    prompt.greedy_top2_gaps = entry["greedy_top2_gaps"].get<std::vector<float>>();
    fixtures.prompts.push_back(std::move(prompt));
  }
  return fixtures;
}

}  // namespace detail

inline const VisionFixtures& vision_fixtures() {
  static const VisionFixtures fixtures = detail::load_vision_fixtures();
  return fixtures;
}

}  // namespace glyph::model::testing
