// Pre-tokenizers of tokenizer.json: Split, ByteLevel and Sequence of them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "text/regex.h"

namespace glyph::text {

// Treatment of the parts that a Split pattern matches, named as in tokenizers'
// SplitDelimiterBehavior.
enum class SplitBehavior {
  kRemoved,             // Drop each match.
  kIsolated,            // Keep each match as its own piece.
  kMergedWithPrevious,  // Append each match to the piece before it.
  kMergedWithNext,      // Prepend each match to the piece after it.
  kContiguous,          // Join adjacent matches into one piece.
};

// Splits text into the words that the BPE model encodes one at a time.
class PreTokenizer {
 public:
  // Reads the "pre_tokenizer" value of tokenizer.json (null for none); throws
  // glyph::Error(kBadModel) naming `source` and the unsupported component.
  PreTokenizer(const nlohmann::json& config, const std::string& source);
  ~PreTokenizer();

  // Calls `emit` with each non-empty word of `text` (valid UTF-8), in order.
  // The words live only for the duration of the call.
  void split(std::string_view text, const std::function<void(std::string_view)>& emit) const;

 private:
  struct Step {
    enum class Kind { kSplit, kByteLevel } kind;
    std::unique_ptr<Regex> regex;  // The Split pattern, or GPT-2's for ByteLevel use_regex.
    SplitBehavior behavior = SplitBehavior::kIsolated;
    bool invert = false;
    bool add_prefix_space = false;
  };

  void add_step(const nlohmann::json& config, const std::string& where, const std::string& source);
  void run(size_t step, std::string_view piece,
           const std::function<void(std::string_view)>& emit) const;
  void run_split(const Step& step, size_t next, std::string_view piece,
                 const std::function<void(std::string_view)>& emit) const;
  void run_byte_level(const Step& step, size_t next, std::string_view piece,
                      const std::function<void(std::string_view)>& emit) const;

  std::vector<Step> steps_;
};

}  // namespace glyph::text
