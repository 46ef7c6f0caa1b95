#include "model/config.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "model_test_support.h"

namespace glyph::model {
namespace {

using testing::TemporaryDirectory;
using testing::data_dir;
using testing::tiny_model_dir;
using testing::write_text;

// Writes config.json (and generation_config.json when given) and loads the directory.
ModelConfig load_json(const std::string& config, const std::string& generation = "") {
  TemporaryDirectory dir;
  write_text(dir.path() / "config.json", config);
  if (!generation.empty()) write_text(dir.path() / "generation_config.json", generation);
  return ModelConfig::load(dir.path());
}

// The message of the glyph::Error(kBadModel) that loading config raises.
std::string load_error(const std::string& config, const std::string& generation = "") {
  try {
    load_json(config, generation);
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadModel) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "config loaded without error";
  return "";
}

const char* kMinimalText = R"("hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "intermediate_size": 512, "vocab_size": 1000)";

std::string text_config(const std::string& extra) {
  return std::string(R"({"architectures": ["Glm4vForConditionalGeneration"], "text_config": {)") +
         kMinimalText + (extra.empty() ? "" : ", " + extra) + "}}";
}

TEST(ModelConfig, ReadsTinyGlyph) {
  ModelConfig config = ModelConfig::load(tiny_model_dir());
  EXPECT_EQ(config.architecture, "Glm4vForConditionalGeneration");
  const TextConfig& text = config.text;
  EXPECT_EQ(text.hidden_size, 32);
  EXPECT_EQ(text.num_hidden_layers, 2);
  EXPECT_EQ(text.num_attention_heads, 4);
  EXPECT_EQ(text.num_key_value_heads, 2);
  EXPECT_EQ(text.head_dim, 8);
  EXPECT_EQ(text.intermediate_size, 96);
  EXPECT_EQ(text.vocab_size, 151552);
  EXPECT_EQ(text.rope_theta, 500000.0);
  EXPECT_EQ(text.partial_rotary_factor, 0.5f);
  EXPECT_EQ(text.rotary_dim(), 4);
  EXPECT_EQ(text.mrope_section, (std::array<int32_t, 3>{1, 1, 0}));
  EXPECT_EQ(text.max_position_embeddings, 131072);
  EXPECT_FLOAT_EQ(text.rms_norm_eps, 1e-5f);
  EXPECT_TRUE(text.attention_bias);
  EXPECT_FALSE(text.tie_word_embeddings);

  EXPECT_EQ(config.image_token_id, 151363);
  EXPECT_EQ(config.video_token_id, 151364);
  EXPECT_EQ(config.image_start_token_id, 151339);
  EXPECT_EQ(config.image_end_token_id, 151340);
  EXPECT_EQ(config.generation.eos_token_ids, (std::vector<int32_t>{151329, 151336, 151338}));

  const VisionConfig& vision = config.vision;
  EXPECT_EQ(vision.depth, 2);
  EXPECT_EQ(vision.hidden_size, 32);
  EXPECT_EQ(vision.num_heads, 2);
  EXPECT_EQ(vision.out_hidden_size, 32);
  EXPECT_EQ(vision.intermediate_size, 64);
  EXPECT_EQ(vision.patch_size, 14);
  EXPECT_EQ(vision.temporal_patch_size, 2);
  EXPECT_EQ(vision.spatial_merge_size, 2);
  EXPECT_EQ(vision.image_size, 336);
}

TEST(ModelConfig, TransformersV5LayoutMatchesV4) {
  TemporaryDirectory dir;
  std::filesystem::copy_file(data_dir() / "fixtures" / "model_config_v5.json",
                             dir.path() / "config.json");
  const std::string v5_text = testing::read_text(dir.path() / "config.json");
  ASSERT_NE(v5_text.find("rope_parameters"), std::string::npos);
  ASSERT_EQ(v5_text.find("rope_scaling"), std::string::npos);

  ModelConfig v4 = ModelConfig::load(tiny_model_dir());
  ModelConfig v5 = ModelConfig::load(dir.path());
  EXPECT_EQ(v5.text.hidden_size, v4.text.hidden_size);
  EXPECT_EQ(v5.text.num_hidden_layers, v4.text.num_hidden_layers);
  EXPECT_EQ(v5.text.num_attention_heads, v4.text.num_attention_heads);
  EXPECT_EQ(v5.text.num_key_value_heads, v4.text.num_key_value_heads);
  EXPECT_EQ(v5.text.head_dim, v4.text.head_dim);
  EXPECT_EQ(v5.text.intermediate_size, v4.text.intermediate_size);
  EXPECT_EQ(v5.text.vocab_size, v4.text.vocab_size);
  EXPECT_EQ(v5.text.rms_norm_eps, v4.text.rms_norm_eps);
  EXPECT_EQ(v5.text.rope_theta, v4.text.rope_theta);
  EXPECT_EQ(v5.text.partial_rotary_factor, v4.text.partial_rotary_factor);
  EXPECT_EQ(v5.text.mrope_section, v4.text.mrope_section);
  EXPECT_EQ(v5.text.max_position_embeddings, v4.text.max_position_embeddings);
  EXPECT_EQ(v5.text.attention_bias, v4.text.attention_bias);
  EXPECT_EQ(v5.text.tie_word_embeddings, v4.text.tie_word_embeddings);
  EXPECT_EQ(v5.image_token_id, v4.image_token_id);
  // No generation_config.json beside it: eos comes from text_config.
  EXPECT_EQ(v5.generation.eos_token_ids, v4.generation.eos_token_ids);
}

TEST(ModelConfig, GlyphWidthsGiveGlyphRotary) {
  ModelConfig config = load_json(R"({"text_config": {"hidden_size": 4096, "num_hidden_layers": 40,
      "num_attention_heads": 32, "num_key_value_heads": 2, "intermediate_size": 13696,
      "vocab_size": 151552, "partial_rotary_factor": 0.5, "rope_theta": 500000,
      "rope_scaling": {"rope_type": "default", "mrope_section": [8, 12, 12]}}})");
  EXPECT_EQ(config.text.head_dim, 128);
  EXPECT_EQ(config.text.rotary_dim(), 64);
  EXPECT_EQ(config.text.mrope_section, (std::array<int32_t, 3>{8, 12, 12}));
  EXPECT_EQ(config.vision.depth, 0);  // No vision_config.
}

TEST(ModelConfig, DefaultsFollowTransformers) {
  ModelConfig config = load_json(text_config(R"("rope_scaling": {"type": "default",
      "mrope_section": [16, 8, 8]})"));
  EXPECT_EQ(config.text.num_key_value_heads, 2);
  EXPECT_EQ(config.text.head_dim, 64);
  EXPECT_EQ(config.text.rope_theta, 10000.0);        // Glm4vTextConfig's default.
  EXPECT_EQ(config.text.partial_rotary_factor, 1.0f);  // The default RoPE init's default.
  EXPECT_EQ(config.text.max_position_embeddings, 32768);
  EXPECT_TRUE(config.generation.eos_token_ids.empty());
}

TEST(ModelConfig, ExplicitHeadDimWins) {
  ModelConfig config = load_json(text_config(R"("head_dim": 32, "partial_rotary_factor": 0.5,
      "rope_scaling": {"mrope_section": [2, 3, 3]})"));
  EXPECT_EQ(config.text.head_dim, 32);
  EXPECT_EQ(config.text.rotary_dim(), 16);
}

TEST(GenerationConfig, EosAsIntegerOrList) {
  const std::string config = text_config(R"("rope_scaling": {"mrope_section": [16, 8, 8]})");
  EXPECT_EQ(load_json(config, R"({"eos_token_id": 151329})").generation.eos_token_ids,
            (std::vector<int32_t>{151329}));
  EXPECT_EQ(load_json(config, R"({"eos_token_id": [1, 2, 3]})").generation.eos_token_ids,
            (std::vector<int32_t>{1, 2, 3}));
}

TEST(GenerationConfig, ReadsSamplingDefaults) {
  const std::string config = text_config(R"("rope_scaling": {"mrope_section": [16, 8, 8]})");
  GenerationConfig generation =
      load_json(config, R"({"eos_token_id": [7], "do_sample": true, "temperature": 0.6,
          "top_p": 0.95, "top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1})")
          .generation;
  EXPECT_EQ(generation.do_sample, true);
  EXPECT_FLOAT_EQ(generation.temperature.value(), 0.6f);
  EXPECT_FLOAT_EQ(generation.top_p.value(), 0.95f);
  EXPECT_EQ(generation.top_k.value(), 20);
  EXPECT_FLOAT_EQ(generation.min_p.value(), 0.05f);
  EXPECT_FLOAT_EQ(generation.repetition_penalty.value(), 1.1f);

  GenerationConfig empty = load_json(config, R"({"eos_token_id": 7})").generation;
  EXPECT_FALSE(empty.temperature.has_value());
  EXPECT_FALSE(empty.top_k.has_value());
}

TEST(ModelConfig, MissingDirectoryNamesFile) {
  try {
    ModelConfig::load("/nonexistent/glyph-model");
    FAIL() << "loaded a missing directory";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadModel);
    EXPECT_NE(std::string(error.what()).find("config.json"), std::string::npos) << error.what();
  }
}

TEST(ModelConfig, InvalidJsonNamesFile) {
  std::string message = load_error(R"({"text_config": {"hidden_size": 32,)");
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
}

TEST(ModelConfig, InvalidGenerationConfigNamesFile) {
  std::string message = load_error(text_config(R"("rope_scaling": {"mrope_section": [16, 8, 8]})"),
                                   R"({"eos_token_id": "end"})");
  EXPECT_NE(message.find("generation_config.json"), std::string::npos) << message;
  EXPECT_NE(message.find("eos_token_id"), std::string::npos) << message;
}

TEST(ModelConfig, MissingKeyNamesKey) {
  std::string message = load_error(R"({"text_config": {"hidden_size": 32}})");
  EXPECT_NE(message.find("text_config.num_hidden_layers is missing"), std::string::npos) << message;
}

TEST(ModelConfig, WrongTypeNamesKey) {
  std::string message = load_error(text_config(R"("rms_norm_eps": "small")"));
  EXPECT_NE(message.find("text_config.rms_norm_eps must be a number"), std::string::npos)
      << message;
}

TEST(ModelConfig, RejectsMropeSectionsThatDoNotFit) {
  std::string message = load_error(text_config(R"("partial_rotary_factor": 0.5,
      "rope_scaling": {"mrope_section": [8, 12, 12]})"));
  EXPECT_NE(message.find("mrope_section [8, 12, 12] sums to 32"), std::string::npos) << message;
  EXPECT_NE(message.find("summing to 16"), std::string::npos) << message;
}

TEST(ModelConfig, RejectsScaledRope) {
  std::string message = load_error(text_config(R"("rope_parameters": {"rope_type": "yarn",
      "rope_theta": 10000, "factor": 4.0, "mrope_section": [16, 8, 8]})"));
  EXPECT_NE(message.find("rope_type"), std::string::npos) << message;
  EXPECT_NE(message.find("yarn"), std::string::npos) << message;
}

TEST(ModelConfig, RejectsHeadsThatDoNotGroup) {
  std::string message = load_error(
      R"({"text_config": {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
          "num_key_value_heads": 3, "intermediate_size": 512, "vocab_size": 1000}})");
  EXPECT_NE(message.find("num_key_value_heads 3"), std::string::npos) << message;
}

}  // namespace
}  // namespace glyph::model
