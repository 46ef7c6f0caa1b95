// Hugging Face tokenizer.json byte-level BPE, as the GLM-4 family uses it.
//
// Supported: a BPE model (merges as pairs or "a b" strings, ignore_merges,
// unk_token, byte_fallback), pre-tokenizers Split (Regex or String pattern,
// every behaviour, invert), ByteLevel and Sequence, no normalizer, the
// ByteLevel decoder and added tokens with all their flags. Loading rejects
// anything else with an error that names the component. The reference is
// Hugging Face tokenizers 0.22: tests compare ids and decoded text with
// fixtures it produced.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace glyph::text {

class Tokenizer {
 public:
  // Loads tokenizer.json; throws glyph::Error(kBadModel) naming the file and the problem.
  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& tokenizer_json);
  // Builds a tokenizer from parsed tokenizer.json content; `source` names it in errors.
  static std::unique_ptr<Tokenizer> from_json(const nlohmann::json& config,
                                              const std::string& source);
  virtual ~Tokenizer() = default;

  // Encodes text as Hugging Face tokenizers does with add_special_tokens=False:
  // added tokens written in the text are matched first, the rest goes through
  // the pre-tokenizer regex and BPE. Safe to call from several threads.
  // Throws glyph::Error(kInvalidRequest) when `text` is not valid UTF-8.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;

  // Decodes ids as tokenizers' decode: the bytes of each token joined, then
  // invalid UTF-8 replaced by U+FFFD. Ids that no token has are skipped, and
  // so are special tokens when `skip_special_tokens` is set.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const = 0;

  // Bytes that one token contributes to decode (the added token's text for
  // added tokens); empty for an id that no token has.
  virtual std::string token_bytes(int32_t id) const = 0;
  // Whether `id` is an added token marked special, which decode can skip.
  virtual bool is_special(int32_t id) const = 0;
  // Looks up an added token's text or a vocabulary entry as tokenizer.json
  // writes it (byte-level characters, so " the" is "Ġthe").
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  // One past the largest id (ranks and added tokens).
  virtual int32_t vocab_size() const = 0;
};

// Turns a stream of ids into text without ever emitting half a UTF-8 character.
// The concatenation of every push() result and the final flush() equals
// tokenizer.decode() of the whole id sequence.
class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Adds one id; returns the text that became complete (possibly empty).
  std::string push(int32_t id);
  // Returns what is still held back, with invalid bytes replaced by U+FFFD,
  // and starts over empty.
  std::string flush();

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::string pending_;  // Bytes of an unfinished UTF-8 character (at most 3).
};

}  // namespace glyph::text
