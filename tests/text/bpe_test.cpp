// BPE merge order and tokenizer.json options on a vocabulary small enough to
// work out the expected ids by hand (each also checked with Hugging Face
// tokenizers 0.22.2).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"
#include "tiny_tokenizer.h"

namespace glyph::text {
namespace {

using testing::merge_list;
using testing::tiny_config;
using Ids = std::vector<int32_t>;

Ids encode(const nlohmann::json& config, std::string_view text) {
  return Tokenizer::from_json(config, "tiny")->encode(text);
}

TEST(Bpe, LowestRankMergesFirst) {
  // "b c" (rank 0) goes before "a b" (rank 1), then "a bc" (rank 2) applies.
  EXPECT_EQ(encode(tiny_config(), "abc"), Ids{5});
}

TEST(Bpe, MissingMergeStopsEarly) {
  nlohmann::json config = tiny_config();
  config["model"]["merges"] = merge_list({{"b", "c"}, {"a", "b"}});
  EXPECT_EQ(encode(config, "abc"), (Ids{0, 4}));
}

TEST(Bpe, MergeOrderFollowsRank) {
  nlohmann::json config = tiny_config();
  config["model"]["merges"] = merge_list({{"a", "b"}, {"b", "c"}, {"a", "bc"}});
  // "a b" wins, and no merge joins "ab" with "c".
  EXPECT_EQ(encode(config, "abc"), (Ids{3, 2}));
}

TEST(Bpe, LeftmostPairWinsATie) {
  nlohmann::json config = tiny_config();
  config["model"]["vocab"]["aa"] = 8;
  config["model"]["merges"] = merge_list({{"a", "a"}});
  EXPECT_EQ(encode(config, "aaa"), (Ids{8, 0}));
  EXPECT_EQ(encode(config, "aaaa"), (Ids{8, 8}));
}

TEST(Bpe, IgnoreMergesTakesWholeWord) {
  nlohmann::json config = tiny_config();
  config["model"]["merges"] = nlohmann::json::array();
  EXPECT_EQ(encode(config, "abc"), (Ids{0, 1, 2}));
  config["model"]["ignore_merges"] = true;
  EXPECT_EQ(encode(config, "abc"), Ids{5});
}

TEST(Bpe, LegacyMergeStrings) {
  nlohmann::json config = tiny_config();
  config["model"]["merges"] = nlohmann::json::array({"#version: 0.2", "b c", "a b", "a bc"});
  EXPECT_EQ(encode(config, "abc"), Ids{5});
  EXPECT_EQ(encode(config, "ab abc"), (Ids{3, 6, 5}));
}

TEST(Bpe, UnknownCharactersDroppedWithoutUnkToken) {
  // Dropping "x" makes "a" and "b" neighbours, and they merge.
  EXPECT_EQ(encode(tiny_config(), "axb"), Ids{3});
  EXPECT_EQ(encode(tiny_config(), "axc"), (Ids{0, 2}));
}

TEST(Bpe, UnknownTokenFusedOrNot) {
  nlohmann::json config = tiny_config();
  config["model"]["unk_token"] = "!";
  EXPECT_EQ(encode(config, "axyb"), (Ids{0, 7, 7, 1}));
  config["model"]["fuse_unk"] = true;
  EXPECT_EQ(encode(config, "axyb"), (Ids{0, 7, 1}));
}

TEST(Bpe, ByteFallback) {
  nlohmann::json config = tiny_config();
  config["model"]["byte_fallback"] = true;
  config["model"]["vocab"]["<0x78>"] = 20;
  // "x" is byte 0x78; "y" has no byte token and is dropped.
  EXPECT_EQ(encode(config, "axyb"), (Ids{0, 20, 1}));
}

TEST(Bpe, ByteLevelPrefixSpace) {
  nlohmann::json config = tiny_config();
  config["pre_tokenizer"]["add_prefix_space"] = true;
  EXPECT_EQ(encode(config, "abc"), (Ids{6, 5}));
  EXPECT_EQ(encode(config, " abc"), (Ids{6, 5}));
}

TEST(Bpe, DecodeUsesByteLevelAlphabet) {
  nlohmann::json config = tiny_config();
  // "é" is the byte-level character of byte 0xE9, so it decodes to that byte,
  // which alone is invalid UTF-8; " x" is outside the alphabet and stays text.
  config["added_tokens"] = nlohmann::json::array({
      {{"id", 8}, {"content", "é"}, {"special", false}, {"normalized", false}},
      {{"id", 9}, {"content", " x"}, {"special", true}, {"normalized", false}},
  });
  const auto tokenizer = Tokenizer::from_json(config, "tiny");
  EXPECT_EQ(tokenizer->encode("aé x"), (Ids{0, 8, 9}));
  EXPECT_EQ(tokenizer->decode(Ids{0, 8, 9}, false), "a\xEF\xBF\xBD x");
  EXPECT_EQ(tokenizer->decode(Ids{0, 8, 9}, true), "a\xEF\xBF\xBD");
  EXPECT_EQ(tokenizer->token_bytes(8), "\xE9");
  EXPECT_EQ(tokenizer->token_bytes(6), " ");
}

TEST(Bpe, AddedTokensLongestMatch) {
  nlohmann::json config = tiny_config();
  config["added_tokens"] = nlohmann::json::array({
      {{"id", 8}, {"content", "<a>"}, {"normalized", false}},
      {{"id", 9}, {"content", "<a>b"}, {"normalized", false}},
  });
  EXPECT_EQ(encode(config, "<a>bc<a>"), (Ids{9, 2, 8}));
}

}  // namespace
}  // namespace glyph::text
