// Hugging Face tokenizer.json byte-level BPE, as the GLM-4 family uses it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace glyph::text {

class Tokenizer {
 public:
  // Loads tokenizer.json; throws glyph::Error(kBadModel) naming the file and the problem.
  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& tokenizer_json);
  virtual ~Tokenizer() = default;

  // Encodes text as Hugging Face tokenizers does with add_special_tokens=False:
  // added tokens written in the text are matched first, the rest goes through
  // the pre-tokenizer regex and BPE.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;

  // Decodes ids; invalid UTF-8 becomes U+FFFD as in tokenizers' decode.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const = 0;

  // Raw bytes of one token (the added token's text for added tokens).
  virtual std::string token_bytes(int32_t id) const = 0;
  virtual bool is_special(int32_t id) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  // One past the largest id (ranks and added tokens).
  virtual int32_t vocab_size() const = 0;
};

// Turns a stream of ids into text without ever emitting half a UTF-8 character.
class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Adds one id; returns the text that became complete (possibly empty).
  std::string push(int32_t id);
  // Returns what is still held back, with invalid bytes replaced by U+FFFD.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::string pending_;  // Bytes of an unfinished UTF-8 character.
};

}  // namespace glyph::text
