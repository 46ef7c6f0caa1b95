// The BPE model of a Hugging Face tokenizer.json: vocabulary, ranked merges,
// and the per-word merge loop.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace glyph::text {

// Hash for maps keyed by std::string that accept std::string_view look-ups
// without building a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

template <typename Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

// Token ids of words that needed merging, shared by all threads that encode
// with one tokenizer. Results never depend on it: it only skips repeated work.
class WordCache {
 public:
  // Appends the cached ids of `word` to `ids` and returns true, or returns false.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) const;
  void store(std::string_view word, const int32_t* ids, size_t count);

 private:
  // Sharding keeps threads from waiting on one lock; a full shard is cleared,
  // which bounds memory at about kShards * kShardEntries words.
  static constexpr size_t kShards = 16;
  static constexpr size_t kShardEntries = 8192;
  struct Shard {
    mutable std::mutex mutex;
    StringMap<std::vector<int32_t>> words;
  };
  std::array<Shard, kShards> shards_;
};

class BpeModel {
 public:
  // Reads the "model" object of tokenizer.json; throws glyph::Error(kBadModel)
  // naming `source` and the field that is missing or unsupported.
  BpeModel(const nlohmann::json& model, const std::string& source);

  // Appends the ids of one pre-tokenized word, as Hugging Face's BPE::tokenize.
  void tokenize(std::string_view word, std::vector<int32_t>& ids) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Returns the vocabulary entry of `id`, or nullptr when no entry has that id.
  const std::string* id_to_token(int32_t id) const;
  // Number of vocabulary entries (Hugging Face's get_vocab_size of the model).
  size_t entry_count() const { return vocab_.size(); }
  // One past the largest vocabulary id.
  int32_t id_limit() const { return static_cast<int32_t>(tokens_.size()); }

 private:
  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };

  void read_vocab(const nlohmann::json& vocab, const std::string& source);
  void read_merges(const nlohmann::json& merges, const std::string& source);
  // Splits `word` into one symbol per character (byte fallback and unknown
  // token applied), then merges, and appends the resulting ids.
  void merge_word(std::string_view word, std::vector<int32_t>& ids) const;
  // Appends the symbols of one character that is not in the vocabulary.
  void add_unknown_char(std::string_view character, std::vector<int32_t>& symbols,
                        std::optional<int32_t>& pending_unknown) const;
  const Merge* find_merge(int32_t left, int32_t right) const;

  StringMap<int32_t> vocab_;
  std::vector<std::string> tokens_;  // Indexed by id; empty where no entry has the id.
  std::vector<bool> has_token_;
  std::unordered_map<uint64_t, Merge> merges_;  // Key: left id << 32 | right id.

  bool ignore_merges_ = false;
  bool byte_fallback_ = false;
  bool fuse_unknown_ = false;
  std::optional<int32_t> unknown_id_;
  std::string unknown_token_;
  // The byte-fallback tokens <0x00>..<0xFF>, -1 where the vocabulary lacks one.
  std::array<int32_t, 256> byte_fallback_ids_{};

  mutable WordCache cache_;
};

}  // namespace glyph::text
