#include "model/config.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace glyph::model {

namespace {

using nlohmann::json;

// A JSON object and where it sits, for messages: "config.json: text_config.hidden_size ...".
struct Section {
  const json& object;
  std::string file;
  std::string prefix;  // "" or "text_config."

  std::string where(std::string_view key) const {
    return fmt::format("{}: {}{}", file, prefix, key);
  }

  const json* find(std::string_view key) const {
    auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<int64_t> integer(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_integer()) {
      throw_error(ErrorKind::kBadModel, "{} must be an integer, not {}", where(key), value->dump());
    }
    return value->get<int64_t>();
  }

  int32_t positive(std::string_view key, std::optional<int32_t> fallback = std::nullopt) const {
    std::optional<int64_t> value = integer(key);
    if (!value) {
      if (fallback) return *fallback;
      throw_error(ErrorKind::kBadModel, "{} is missing", where(key));
    }
    if (*value <= 0 || *value > INT32_MAX) {
      throw_error(ErrorKind::kBadModel, "{} is {}; it must be a positive 32-bit integer",
                  where(key), *value);
    }
    return static_cast<int32_t>(*value);
  }

  std::optional<double> number(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number()) {
      throw_error(ErrorKind::kBadModel, "{} must be a number, not {}", where(key), value->dump());
    }
    return value->get<double>();
  }

  std::optional<bool> boolean(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) {
      throw_error(ErrorKind::kBadModel, "{} must be true or false, not {}", where(key),
                  value->dump());
    }
    return value->get<bool>();
  }

  // An object-valued key as a Section, or nullopt when absent.
  std::optional<Section> child(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) return std::nullopt;
    if (!value->is_object()) {
      throw_error(ErrorKind::kBadModel, "{} must be an object, not {}", where(key), value->dump());
    }
    return Section{*value, file, prefix + std::string(key) + "."};
  }

  // An integer or a list of integers (eos_token_id).
  std::vector<int32_t> integers(std::string_view key) const {
    const json* value = find(key);
    std::vector<int32_t> result;
    if (value == nullptr) return result;
    auto take = [&](const json& item) {
      if (!item.is_number_integer() || item.get<int64_t>() < 0 || item.get<int64_t>() > INT32_MAX) {
        throw_error(ErrorKind::kBadModel, "{} must hold non-negative integer token ids, not {}",
                    where(key), value->dump());
      }
      result.push_back(static_cast<int32_t>(item.get<int64_t>()));
    };
    if (value->is_array()) {
      for (const json& item : *value) take(item);
    } else {
      take(*value);
    }
    return result;
  }
};

json read_json(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw_error(ErrorKind::kBadModel, "{} is missing or unreadable", path.string());
  }
  std::stringstream text;
  text << stream.rdbuf();
  try {
    json document = json::parse(text.str());
    if (!document.is_object()) {
      throw_error(ErrorKind::kBadModel, "{} must hold a JSON object", path.string());
    }
    return document;
  } catch (const json::parse_error& error) {
    throw_error(ErrorKind::kBadModel, "{} is not valid JSON: {}", path.string(), error.what());
  }
}

// Reads rope_theta, partial_rotary_factor and mrope_section. The transformers 5.x layout puts
// all three inside rope_parameters. The 4.x layout keeps the first two in text_config and
// mrope_section inside rope_scaling.
void read_rope(const Section& text, TextConfig& config) {
  std::optional<Section> rope = text.child("rope_parameters");
  std::optional<Section> scaling = text.child("rope_scaling");
  if (!rope && scaling) rope.emplace(*scaling);

  std::optional<double> theta = text.number("rope_theta");
  std::optional<double> factor = text.number("partial_rotary_factor");
  if (rope) {
    if (auto value = rope->number("rope_theta")) theta = value;
    if (auto value = rope->number("partial_rotary_factor")) factor = value;

    const json* type = rope->find("rope_type");
    if (type == nullptr) type = rope->find("type");
    if (type != nullptr && *type != "default") {
      throw_error(ErrorKind::kBadModel,
                  "{} is {}; only the default rotary embedding (no scaling) is supported",
                  rope->where("rope_type"), type->dump());
    }

    if (const json* sections = rope->find("mrope_section")) {
      if (!sections->is_array() || sections->size() != 3) {
        throw_error(ErrorKind::kBadModel, "{} must list three integers (t, h, w), not {}",
                    rope->where("mrope_section"), sections->dump());
      }
      for (size_t i = 0; i < 3; ++i) {
        const json& item = (*sections)[i];
        if (!item.is_number_integer() || item.get<int64_t>() < 0) {
          throw_error(ErrorKind::kBadModel, "{} must list non-negative integers, not {}",
                      rope->where("mrope_section"), sections->dump());
        }
        config.mrope_section[i] = item.get<int32_t>();
      }
    }
  }

  // transformers' defaults when the keys are absent.
  config.rope_theta = theta.value_or(10000.0);
  config.partial_rotary_factor = static_cast<float>(factor.value_or(1.0));
  if (config.rope_theta <= 0 || config.partial_rotary_factor <= 0 ||
      config.partial_rotary_factor > 1) {
    throw_error(ErrorKind::kBadModel,
                "{}: rope_theta {} must be positive and partial_rotary_factor {} in (0, 1]",
                text.file, config.rope_theta, config.partial_rotary_factor);
  }
}

TextConfig read_text(const Section& top) {
  // Multimodal configs nest the decoder under text_config; text-only ones keep it at the top.
  std::optional<Section> nested = top.child("text_config");
  const Section& text = nested ? *nested : top;

  TextConfig config;
  config.hidden_size = text.positive("hidden_size");
  config.num_hidden_layers = text.positive("num_hidden_layers");
  config.num_attention_heads = text.positive("num_attention_heads");
  config.num_key_value_heads = text.positive("num_key_value_heads", config.num_attention_heads);
  config.intermediate_size = text.positive("intermediate_size");
  config.vocab_size = text.positive("vocab_size");
  config.max_position_embeddings = text.positive("max_position_embeddings", 32768);
  config.rms_norm_eps = static_cast<float>(text.number("rms_norm_eps").value_or(1e-5));
  // transformers' Glm4vTextAttention gives q/k/v a bias whatever the value of this key.
  config.attention_bias = text.boolean("attention_bias").value_or(true);
  config.tie_word_embeddings =
      text.boolean("tie_word_embeddings").value_or(top.boolean("tie_word_embeddings").value_or(false));

  if (text.find("head_dim") != nullptr) {
    config.head_dim = text.positive("head_dim");
  } else {
    if (config.hidden_size % config.num_attention_heads != 0) {
      throw_error(ErrorKind::kBadModel,
                  "{}: hidden_size {} is not a multiple of num_attention_heads {}; set head_dim",
                  text.file, config.hidden_size, config.num_attention_heads);
    }
    config.head_dim = config.hidden_size / config.num_attention_heads;
  }
  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    throw_error(ErrorKind::kBadModel,
                "{}: num_attention_heads {} is not a multiple of num_key_value_heads {}",
                text.file, config.num_attention_heads, config.num_key_value_heads);
  }

  read_rope(text, config);
  const int32_t rotary = config.rotary_dim();
  const int32_t sections = config.mrope_section[0] + config.mrope_section[1] +
                           config.mrope_section[2];
  if (rotary % 2 != 0 || sections != rotary / 2) {
    throw_error(ErrorKind::kBadModel,
                "{}: mrope_section [{}, {}, {}] sums to {}, but head_dim {} x partial_rotary_factor "
                "{} rotates {} dims, which needs sections summing to {}",
                text.file, config.mrope_section[0], config.mrope_section[1],
                config.mrope_section[2], sections, config.head_dim, config.partial_rotary_factor,
                rotary, rotary / 2);
  }
  return config;
}

VisionConfig read_vision(const Section& top) {
  VisionConfig config;
  std::optional<Section> vision = top.child("vision_config");
  if (!vision) return config;  // depth 0: no vision tower.

  config.depth = vision->positive("depth");
  config.hidden_size = vision->positive("hidden_size");
  config.num_heads = vision->positive("num_heads");
  config.intermediate_size = vision->positive("intermediate_size");
  config.out_hidden_size = vision->positive("out_hidden_size");
  config.patch_size = vision->positive("patch_size", config.patch_size);
  config.temporal_patch_size = vision->positive("temporal_patch_size", config.temporal_patch_size);
  config.spatial_merge_size = vision->positive("spatial_merge_size", config.spatial_merge_size);
  config.in_channels = vision->positive("in_channels", config.in_channels);
  config.rms_norm_eps = static_cast<float>(vision->number("rms_norm_eps").value_or(1e-5));

  // image_size is an integer or [height, width]; the position table is square.
  if (const json* size = vision->find("image_size"); size != nullptr && size->is_array()) {
    if (size->size() != 2 || (*size)[0] != (*size)[1] || !(*size)[0].is_number_integer()) {
      throw_error(ErrorKind::kBadModel, "{} must be one integer or two equal integers, not {}",
                  vision->where("image_size"), size->dump());
    }
    config.image_size = (*size)[0].get<int32_t>();
  } else {
    config.image_size = vision->positive("image_size", config.image_size);
  }

  if (config.hidden_size % config.num_heads != 0) {
    throw_error(ErrorKind::kBadModel,
                "{}: vision_config.hidden_size {} is not a multiple of vision_config.num_heads {}",
                top.file, config.hidden_size, config.num_heads);
  }
  if (config.image_size % config.patch_size != 0) {
    throw_error(ErrorKind::kBadModel,
                "{}: vision_config.image_size {} is not a multiple of patch_size {}", top.file,
                config.image_size, config.patch_size);
  }
  return config;
}

int32_t token_id(const Section& top, std::string_view key) {
  std::optional<int64_t> value = top.integer(key);
  return value ? static_cast<int32_t>(*value) : -1;
}

GenerationConfig read_generation(const std::filesystem::path& path) {
  json document = read_json(path);
  Section section{document, path.filename().string(), ""};
  GenerationConfig config;
  config.eos_token_ids = section.integers("eos_token_id");
  if (auto value = section.number("temperature")) config.temperature = static_cast<float>(*value);
  if (auto value = section.number("top_p")) config.top_p = static_cast<float>(*value);
  if (auto value = section.integer("top_k")) config.top_k = static_cast<int32_t>(*value);
  if (auto value = section.number("min_p")) config.min_p = static_cast<float>(*value);
  if (auto value = section.number("repetition_penalty")) {
    config.repetition_penalty = static_cast<float>(*value);
  }
  config.do_sample = section.boolean("do_sample");
  return config;
}

}  // namespace

int32_t TextConfig::rotary_dim() const {
  return static_cast<int32_t>(static_cast<float>(head_dim) * partial_rotary_factor);
}

ModelConfig ModelConfig::load(const std::filesystem::path& dir) {
  const std::filesystem::path config_path = dir / "config.json";
  if (!std::filesystem::exists(config_path)) {
    throw_error(ErrorKind::kBadModel, "{} is missing; is {} a Hugging Face model directory?",
                config_path.string(), dir.string());
  }
  json document = read_json(config_path);
  Section top{document, "config.json", ""};

  ModelConfig config;
  if (const json* architectures = top.find("architectures");
      architectures != nullptr && architectures->is_array() && !architectures->empty() &&
      (*architectures)[0].is_string()) {
    config.architecture = (*architectures)[0].get<std::string>();
  }
  config.text = read_text(top);
  config.vision = read_vision(top);
  config.image_token_id = token_id(top, "image_token_id");
  config.video_token_id = token_id(top, "video_token_id");
  config.image_start_token_id = token_id(top, "image_start_token_id");
  config.image_end_token_id = token_id(top, "image_end_token_id");

  const std::filesystem::path generation_path = dir / "generation_config.json";
  if (std::filesystem::exists(generation_path)) {
    config.generation = read_generation(generation_path);
  }
  if (config.generation.eos_token_ids.empty()) {
    // No generation_config.json, or one without eos: fall back to config.json.
    std::optional<Section> text = top.child("text_config");
    config.generation.eos_token_ids = text ? text->integers("eos_token_id") : std::vector<int32_t>{};
    if (config.generation.eos_token_ids.empty()) {
      config.generation.eos_token_ids = top.integers("eos_token_id");
    }
  }
  return config;
}

}  // namespace glyph::model
