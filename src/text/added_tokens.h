// Added tokens of tokenizer.json: strings such as "<|user|>" that are matched
// in the raw text before pre-tokenization and encode to one id each.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "text/bpe.h"
#include "text/regex.h"

namespace glyph::text {

struct AddedToken {
  std::string content;
  bool single_word = false;  // Match only where no word character touches either end.
  bool lstrip = false;       // Also take the whitespace before the match.
  bool rstrip = false;       // Also take the whitespace after the match.
  bool normalized = true;    // Match against normalized text (the same text without a normalizer).
  bool special = false;      // Dropped by decode with skip_special_tokens.

  bool operator==(const AddedToken&) const = default;
};

// A piece of the input: an added token, or text for the pre-tokenizer.
struct Segment {
  size_t begin;
  size_t end;
  int32_t id;  // The added token's id, or -1 for plain text.
};

class AddedVocabulary {
 public:
  // Reads the "added_tokens" array and gives each token its id the way
  // tokenizers' AddedVocabulary::add_tokens does; throws glyph::Error(kBadModel)
  // naming `source` when an entry is malformed.
  AddedVocabulary(const nlohmann::json& tokens, const BpeModel& model, const std::string& source);
  ~AddedVocabulary();

  // Splits `text` (valid UTF-8) into added tokens and the text between them,
  // as tokenizers' extract_and_normalize does without a normalizer: first the
  // tokens with normalized=false, then those with normalized=true inside the
  // remaining text. Leftmost match first, the longest of those that start there.
  std::vector<Segment> split(std::string_view text) const;

  std::optional<int32_t> token_to_id(std::string_view content) const;
  // Returns the token with `id`, or nullptr when `id` is not an added token.
  const AddedToken* find(int32_t id) const;
  // Whether `content` is the text of a special added token.
  bool is_special_content(std::string_view content) const;
  // One past the largest added id, or 0 without added tokens.
  int32_t id_limit() const { return id_limit_; }
  size_t size() const { return tokens_by_id_.size(); }

 private:
  // A byte trie over token texts for leftmost-longest matching.
  class Matcher {
   public:
    void add(std::string_view content, int32_t id);
    bool empty() const { return nodes_.size() <= 1; }
    // Finds the leftmost-longest match at or after `from`; returns false if none.
    bool find(std::string_view text, size_t from, size_t& begin, size_t& end, int32_t& id) const;

   private:
    struct Node {
      std::vector<std::pair<uint8_t, int32_t>> children;  // Byte and node index.
      int32_t id = -1;                                    // The token that ends here, or -1.
    };
    int32_t child(int32_t node, uint8_t byte) const;
    std::vector<Node> nodes_{1};
    std::array<bool, 256> first_bytes_{};
  };

  // Appends the segments of `sentence` (text[offset, offset + size)) for one matcher.
  void find_matches(std::string_view sentence, size_t offset, const Matcher& matcher,
                    std::vector<Segment>& segments) const;
  bool ends_with_word_char(std::string_view text) const;
  bool starts_with_word_char(std::string_view text) const;

  std::unordered_map<int32_t, AddedToken> tokens_by_id_;
  StringMap<int32_t> ids_by_content_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> special_contents_;
  Matcher raw_matcher_;               // Tokens with normalized=false.
  Matcher normalized_matcher_;        // Tokens with normalized=true.
  std::unique_ptr<Regex> word_char_;  // Rust regex's Unicode \w, for single_word.
  int32_t id_limit_ = 0;
};

}  // namespace glyph::text
