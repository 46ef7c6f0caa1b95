// Files next to the model that configure the API: the chat template and
// tokenizer_config.json's special tokens and length.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace glyph::server {

struct ChatTemplateSource {
  std::string text;
  std::string origin;  // The file it came from, for the start-up log.
};

// Finds the chat template as SGLang does: the --chat-template file when
// given, else chat_template.jinja in the tokenizer directory, else
// tokenizer_config.json's "chat_template" (a string, or a list of named
// templates of which "default" is used). Throws glyph::Error naming the files
// looked at when there is none.
ChatTemplateSource find_chat_template(const std::filesystem::path& tokenizer_dir,
                                      const std::string& override_file);

// Settings from tokenizer_config.json that reach the API.
struct TokenizerSettings {
  // bos_token, eos_token, pad_token, unk_token as strings, for the template context.
  nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object();
  // model_max_length, which /v1/tokenize reports as max_model_len; 0 when absent.
  int64_t model_max_length = 0;
};

// Reads tokenizer_config.json in dir; a missing file gives empty settings.
TokenizerSettings read_tokenizer_settings(const std::filesystem::path& dir);

}  // namespace glyph::server
