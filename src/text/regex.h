// PCRE2 regular expressions for the pre-tokenizer patterns of tokenizer.json.
//
// Hugging Face tokenizers compiles these patterns with Oniguruma. PCRE2 reads
// the same syntax for everything the Hugging Face pre-tokenizers use (\p{..}
// classes, (?i:..), look-ahead), and both treat `\s` as the Unicode
// White_Space set; RE2 is no option because it has no look-ahead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct pcre2_real_code_8;

namespace glyph::text {

class Regex {
 public:
  // Compiles `pattern` in UTF and Unicode-property mode and JIT-compiles it
  // when the platform allows. Throws glyph::Error(kBadModel) naming `source`
  // (the file and component the pattern came from) when it does not compile.
  Regex(const std::string& pattern, const std::string& source);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Returns the [begin, end) byte ranges of the successive non-overlapping
  // matches in `text`, which must be valid UTF-8. Empty matches follow Rust's
  // find_iter: the search then moves on by one character, and an empty match
  // right where the previous match ended is dropped.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  // Returns whether the pattern matches at the very start of `text`.
  bool matches_at_start(std::string_view text) const;

 private:
  // Runs one search from `start`; returns false when nothing matches.
  bool search(std::string_view text, size_t start, bool anchored, size_t& begin, size_t& end) const;

  pcre2_real_code_8* code_ = nullptr;
  std::string source_;
};

// Returns `literal` with every regex metacharacter escaped, for the String
// patterns of Split pre-tokenizers.
std::string escape_regex(std::string_view literal);

}  // namespace glyph::text
