#include "server/model_files.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "core/error.h"

namespace glyph::server {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_error(ErrorKind::kNotFound, "cannot open {}", path.string());
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

nlohmann::json read_json_file(const fs::path& path) {
  nlohmann::json value = nlohmann::json::parse(read_file(path), nullptr, false);
  if (value.is_discarded()) {
    throw_error(ErrorKind::kBadModel, "{} is not valid JSON", path.string());
  }
  return value;
}

// A special token in tokenizer_config.json is a string or an AddedToken
// object {"content": ...}.
std::optional<std::string> special_token_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

ChatTemplateSource find_chat_template(const fs::path& tokenizer_dir,
                                      const std::string& override_file) {
  if (!override_file.empty()) {
    if (!fs::is_regular_file(override_file)) {
      throw_error(ErrorKind::kNotFound,
                  "--chat-template {} does not exist; pass the path of a Jinja template file",
                  override_file);
    }
    return {read_file(override_file), override_file};
  }

  const fs::path jinja_file = tokenizer_dir / "chat_template.jinja";
  if (fs::is_regular_file(jinja_file)) return {read_file(jinja_file), jinja_file.string()};

  const fs::path config_file = tokenizer_dir / "tokenizer_config.json";
  if (fs::is_regular_file(config_file)) {
    const nlohmann::json config = read_json_file(config_file);
    const auto it = config.find("chat_template");
    if (it != config.end() && it->is_string()) {
      return {it->get<std::string>(), config_file.string() + " (chat_template)"};
    }
    if (it != config.end() && it->is_array()) {
      for (const nlohmann::json& entry : *it) {
        if (entry.value("name", "") == "default" && entry.contains("template") &&
            entry["template"].is_string()) {
          return {entry["template"].get<std::string>(),
                  config_file.string() + " (chat_template \"default\")"};
        }
      }
    }
  }
  throw_error(ErrorKind::kBadModel,
              "no chat template found: neither {} nor a chat_template entry in {} exists; pass "
              "one with --chat-template FILE",
              jinja_file.string(), config_file.string());
}

TokenizerSettings read_tokenizer_settings(const fs::path& dir) {
  TokenizerSettings settings;
  const fs::path config_file = dir / "tokenizer_config.json";
  if (!fs::is_regular_file(config_file)) return settings;

  const nlohmann::json config = read_json_file(config_file);
  for (const char* key : {"bos_token", "eos_token", "pad_token", "unk_token"}) {
    if (!config.contains(key)) continue;
    if (std::optional<std::string> text = special_token_text(config[key])) {
      settings.special_tokens[key] = *text;
    }
  }
  if (config.contains("model_max_length") && config["model_max_length"].is_number()) {
    // transformers writes a huge float here when the length is unknown.
    const double length = config["model_max_length"].get<double>();
    if (length > 0 && length < 1e12) settings.model_max_length = static_cast<int64_t>(length);
  }
  return settings;
}

}  // namespace glyph::server
