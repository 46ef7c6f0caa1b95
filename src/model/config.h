// Model facts read from a Hugging Face model directory: config.json
// (transformers 4.x keys and 5.x rope_parameters) and generation_config.json.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace glyph::model {

struct TextConfig {
  int32_t hidden_size = 0;
  int32_t num_hidden_layers = 0;
  int32_t num_attention_heads = 0;
  int32_t num_key_value_heads = 0;
  int32_t head_dim = 0;  // hidden_size / num_attention_heads unless config.json says otherwise.
  int32_t intermediate_size = 0;
  int32_t vocab_size = 0;  // Embedding rows; can exceed the tokenizer's ids.
  float rms_norm_eps = 1e-5f;
  double rope_theta = 10000.0;
  float partial_rotary_factor = 0.5f;
  std::array<int32_t, 3> mrope_section{8, 12, 12};  // Frequencies per (t, h, w).
  int32_t max_position_embeddings = 0;
  bool attention_bias = true;
  bool tie_word_embeddings = false;

  // Dims of each head that rotate: head_dim * partial_rotary_factor.
  int32_t rotary_dim() const;
};

struct VisionConfig {
  int32_t depth = 0;
  int32_t hidden_size = 0;
  int32_t num_heads = 0;
  int32_t intermediate_size = 0;
  int32_t out_hidden_size = 0;
  int32_t patch_size = 14;
  int32_t temporal_patch_size = 2;
  int32_t spatial_merge_size = 2;
  int32_t image_size = 336;
  int32_t in_channels = 3;
  float rms_norm_eps = 1e-5f;
};

// generation_config.json: stop ids and the model's preferred sampling defaults.
struct GenerationConfig {
  std::vector<int32_t> eos_token_ids;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<bool> do_sample;
};

struct ModelConfig {
  std::string architecture;  // architectures[0], e.g. Glm4vForConditionalGeneration.
  TextConfig text;
  VisionConfig vision;
  GenerationConfig generation;
  int32_t image_token_id = -1;
  int32_t video_token_id = -1;
  int32_t image_start_token_id = -1;
  int32_t image_end_token_id = -1;

  // Reads config.json and, if present, generation_config.json from dir.
  // Throws glyph::Error(kBadModel) naming the file, the key and the problem.
  static ModelConfig load(const std::filesystem::path& dir);
};

}  // namespace glyph::model
