#include "text/tokenizer.h"

#include <chrono>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/pre_tokenizer.h"
#include "text/utf8.h"

namespace glyph::text {

namespace {

// Normalizers change the text before anything else; glyph supports none, and
// the GLM family sets none. NFC would need a Unicode library.
void check_normalizer(const nlohmann::json& config, const std::string& source) {
  const auto normalizer = config.find("normalizer");
  if (normalizer == config.end() || normalizer->is_null()) return;
  const std::string type = normalizer->is_object() && normalizer->contains("type")
                               ? (*normalizer)["type"].dump()
                               : normalizer->dump();
  throw_error(ErrorKind::kBadModel,
              "{}: normalizer {} is not supported; glyph reads tokenizers whose normalizer is null",
              source, type);
}

void check_decoder(const nlohmann::json& config, const std::string& source) {
  const auto decoder = config.find("decoder");
  if (decoder == config.end() || decoder->is_null()) {
    throw_error(
        ErrorKind::kBadModel,
        "{}: decoder is null or missing; glyph needs the ByteLevel decoder of byte-level BPE",
        source);
  }
  const auto type = decoder->find("type");
  if (!decoder->is_object() || type == decoder->end() || *type != "ByteLevel") {
    throw_error(ErrorKind::kBadModel,
                "{}: decoder {} is not supported; glyph reads only the ByteLevel decoder", source,
                type != decoder->end() ? type->dump() : decoder->dump());
  }
}

class BpeTokenizer final : public Tokenizer {
 public:
  BpeTokenizer(const nlohmann::json& config, const std::string& source)
      : model_(require_model(config, source), source),
        added_(config.contains("added_tokens") ? config["added_tokens"] : nlohmann::json(), model_,
               source),
        pre_tokenizer_(
            config.contains("pre_tokenizer") ? config["pre_tokenizer"] : nlohmann::json(), source) {
    check_normalizer(config, source);
    check_decoder(config, source);
    // post_processor, truncation and padding are ignored on purpose. encode
    // never adds special tokens, and transformers' fast tokenizers switch
    // truncation and padding off unless a call requests them.
    build_id_tables();
  }

  std::vector<int32_t> encode(std::string_view text) const override {
    if (const auto invalid = find_invalid_utf8(text)) {
      throw_error(
          ErrorKind::kInvalidRequest,
          "the text to tokenize is not valid UTF-8: invalid byte 0x{:02X} at offset {} of {}",
          static_cast<uint8_t>(text[*invalid]), *invalid, text.size());
    }
    std::vector<int32_t> ids;
    ids.reserve(text.size() / 3 + 1);
    const std::function<void(std::string_view)> encode_word = [&](std::string_view word) {
      model_.tokenize(word, ids);
    };
    for (const Segment& segment : added_.split(text)) {
      if (segment.id >= 0) {
        ids.push_back(segment.id);
      } else {
        pre_tokenizer_.split(text.substr(segment.begin, segment.end - segment.begin), encode_word);
      }
    }
    return ids;
  }

  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override {
    std::string bytes;
    for (const int32_t id : ids) {
      if (!has_token(id)) continue;
      if (skip_special_tokens && special_[id]) continue;
      bytes.append(token_bytes_[id]);
    }
    std::string text;
    text.reserve(bytes.size());
    append_utf8_lossy(bytes, text);
    return text;
  }

  std::string token_bytes(int32_t id) const override {
    return has_token(id) ? token_bytes_[id] : std::string();
  }

  bool is_special(int32_t id) const override { return has_token(id) && special_[id]; }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    if (const auto id = added_.token_to_id(token)) return id;
    return model_.token_to_id(token);
  }

  int32_t vocab_size() const override { return static_cast<int32_t>(token_bytes_.size()); }

  size_t added_count() const { return added_.size(); }
  size_t vocabulary_entries() const { return model_.entry_count(); }

 private:
  static const nlohmann::json& require_model(const nlohmann::json& config,
                                             const std::string& source) {
    if (!config.is_object()) {
      throw_error(ErrorKind::kBadModel, "{}: the top level must be a JSON object, not {}", source,
                  config.type_name());
    }
    const auto version = config.find("version");
    if (version != config.end() && *version != "1.0") {
      throw_error(ErrorKind::kBadModel, "{}: version {} is not supported; expected \"1.0\"", source,
                  version->dump());
    }
    const auto model = config.find("model");
    if (model == config.end() || !model->is_object()) {
      throw_error(ErrorKind::kBadModel, "{}: \"model\" is missing or not an object", source);
    }
    return *model;
  }

  // Precomputes, for every id, the bytes that the ByteLevel decoder gives and
  // whether decode may skip it. Added tokens take precedence over vocabulary
  // entries with the same id, as in tokenizers' decode.
  void build_id_tables() {
    const int32_t limit = std::max(model_.id_limit(), added_.id_limit());
    token_bytes_.resize(limit);
    present_.assign(limit, false);
    special_.assign(limit, false);
    for (int32_t id = 0; id < limit; ++id) {
      const std::string* token = nullptr;
      if (const AddedToken* added = added_.find(id)) {
        token = &added->content;
      } else {
        token = model_.id_to_token(id);
      }
      if (token == nullptr) continue;
      present_[id] = true;
      special_[id] = added_.is_special_content(*token);
      token_bytes_[id] = byte_level_token_bytes(*token);
    }
  }

  bool has_token(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < present_.size() && present_[id];
  }

  BpeModel model_;
  AddedVocabulary added_;
  PreTokenizer pre_tokenizer_;
  std::vector<std::string> token_bytes_;  // Indexed by id.
  std::vector<bool> present_;
  std::vector<bool> special_;
};

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_json(const nlohmann::json& config,
                                                const std::string& source) {
  try {
    return std::make_unique<BpeTokenizer>(config, source);
  } catch (const nlohmann::json::exception& error) {
    // A value of the wrong JSON type that no check above caught.
    throw_error(ErrorKind::kBadModel, "{}: unexpected content: {}", source, error.what());
  }
}

std::unique_ptr<Tokenizer> Tokenizer::load(const std::filesystem::path& tokenizer_json) {
  const auto start = std::chrono::steady_clock::now();
  const std::string source = tokenizer_json.string();

  std::ifstream file(tokenizer_json, std::ios::binary);
  if (!file) {
    throw_error(ErrorKind::kBadModel,
                "{}: cannot open the tokenizer file; check that the model "
                "directory contains tokenizer.json",
                source);
  }
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) throw_error(ErrorKind::kBadModel, "{}: reading the file failed", source);

  nlohmann::json config;
  try {
    config = nlohmann::json::parse(content.str());
  } catch (const nlohmann::json::parse_error& error) {
    throw_error(ErrorKind::kBadModel, "{}: invalid JSON: {}", source, error.what());
  }

  std::unique_ptr<Tokenizer> tokenizer = from_json(config, source);
  const auto* bpe = static_cast<const BpeTokenizer*>(tokenizer.get());
  const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  log::info("loaded tokenizer {}: {} vocabulary entries, {} added tokens, vocab size {} ({:.2f} s)",
            source, bpe->vocabulary_entries(), bpe->added_count(), bpe->vocab_size(),
            elapsed.count());
  return tokenizer;
}

}  // namespace glyph::text
