// A small hand-written byte-level BPE tokenizer.json for unit tests whose
// expected ids can be worked out by hand.
#pragma once

#include <nlohmann/json.hpp>

namespace glyph::text::testing {

// Builds a merges array; a braced list of string pairs alone would become a
// JSON object.
inline nlohmann::json merge_list(std::initializer_list<std::pair<const char*, const char*>> pairs) {
  nlohmann::json merges = nlohmann::json::array();
  for (const auto& [left, right] : pairs) merges.push_back(nlohmann::json::array({left, right}));
  return merges;
}

// Vocabulary a b c ab bc abc Ġ (space) and ! with merges "b c", "a b", "a bc",
// so "abc" becomes [b c] first, then [a bc]. No added tokens.
inline nlohmann::json tiny_config() {
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", nlohmann::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"},
        {"add_prefix_space", false},
        {"trim_offsets", false},
        {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"ignore_merges", false},
        {"vocab",
         {{"a", 0}, {"b", 1}, {"c", 2}, {"ab", 3}, {"bc", 4}, {"abc", 5}, {"Ġ", 6}, {"!", 7}}},
        {"merges", merge_list({{"b", "c"}, {"a", "b"}, {"a", "bc"}})}}},
  };
}

}  // namespace glyph::text::testing
