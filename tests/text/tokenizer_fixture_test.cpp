// Compares glyph's tokenizer with Hugging Face tokenizers on the recorded
// fixture cases: same ids, same decoded text with and without special tokens.

#include <gtest/gtest.h>

#include "text/utf8.h"
#include "tokenizer_fixtures.h"

namespace glyph::text {
namespace {

using testing::FixtureCase;
using testing::fixtures;
using testing::preview;
using testing::variant_tokenizer;

// Failures past this many are counted but not printed one by one.
constexpr int kPrintedFailures = 10;

std::string ids_text(const std::vector<int32_t>& ids) {
  std::string text = "[";
  for (size_t i = 0; i < ids.size(); ++i) text += (i ? ", " : "") + std::to_string(ids[i]);
  return text + "]";
}

TEST(TokenizerFixture, HasEnoughCases) {
  size_t encode_cases = 0;
  size_t decode_cases = 0;
  for (const FixtureCase& item : fixtures().cases) (item.has_text ? encode_cases : decode_cases)++;
  EXPECT_GE(encode_cases, 2000u);
  EXPECT_GE(decode_cases, 500u);
  EXPECT_GE(fixtures().variants.size(), 10u);
}

// Every variant's encode cases: ids and both decodes equal the reference.
TEST(TokenizerFixture, EncodeMatchesReference) {
  int failures = 0;
  size_t checked = 0;
  for (const FixtureCase& item : fixtures().cases) {
    if (!item.has_text) continue;
    const Tokenizer& tokenizer = variant_tokenizer(item.variant);
    ++checked;
    const std::vector<int32_t> ids = tokenizer.encode(item.text);
    if (ids != item.ids && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " (" << item.variant << ") " << preview(item.text)
                    << "\n  ids      " << ids_text(ids) << "\n  expected " << ids_text(item.ids);
    }
    const std::string decoded = tokenizer.decode(item.ids, false);
    if (decoded != item.decode && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " decode " << preview(decoded) << " expected "
                    << preview(item.decode);
    }
    const std::string decoded_skip = tokenizer.decode(item.ids, true);
    if (decoded_skip != item.decode_skip && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " decode_skip " << preview(decoded_skip)
                    << " expected " << preview(item.decode_skip);
    }
  }
  EXPECT_GT(checked, 0u);
  EXPECT_EQ(failures, 0);
}

// Decode-only cases: id sequences that cut characters, random ids, ids that no
// token has.
TEST(TokenizerFixture, DecodeMatchesReference) {
  int failures = 0;
  for (const FixtureCase& item : fixtures().cases) {
    if (item.has_text) continue;
    const Tokenizer& tokenizer = variant_tokenizer(item.variant);
    const std::string decoded = tokenizer.decode(item.ids, false);
    if (decoded != item.decode && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " ids " << ids_text(item.ids) << " decode "
                    << preview(decoded) << " expected " << preview(item.decode);
    }
    const std::string decoded_skip = tokenizer.decode(item.ids, true);
    if (decoded_skip != item.decode_skip && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " ids " << ids_text(item.ids) << " decode_skip "
                    << preview(decoded_skip) << " expected " << preview(item.decode_skip);
    }
  }
  EXPECT_EQ(failures, 0);
}

// With the real tokenizer, decoding the encoding gives the text back.
TEST(TokenizerFixture, DecodeOfEncodeIsIdentity) {
  const Tokenizer& tokenizer = testing::base_tokenizer();
  int failures = 0;
  for (const FixtureCase& item : fixtures().cases) {
    if (!item.has_text || item.variant != "base") continue;
    const std::string round_trip = tokenizer.decode(tokenizer.encode(item.text), false);
    if (round_trip != item.text && ++failures <= kPrintedFailures) {
      ADD_FAILURE() << "line " << item.line << " " << preview(item.text) << " came back as "
                    << preview(round_trip);
    }
  }
  EXPECT_EQ(failures, 0);
}

// Fed one id at a time, the detokenizer emits only whole UTF-8 characters,
// and its pieces add up to the reference decode, in both skip modes.
TEST(TokenizerFixture, IncrementalDetokenizerMatchesDecode) {
  int failures = 0;
  for (const FixtureCase& item : fixtures().cases) {
    const Tokenizer& tokenizer = variant_tokenizer(item.variant);
    for (const bool skip : {false, true}) {
      IncrementalDetokenizer detokenizer(tokenizer, skip);
      std::string joined;
      bool pieces_valid = true;
      for (const int32_t id : item.ids) {
        const std::string piece = detokenizer.push(id);
        pieces_valid = pieces_valid && !find_invalid_utf8(piece).has_value();
        joined += piece;
      }
      const std::string tail = detokenizer.flush();
      pieces_valid = pieces_valid && !find_invalid_utf8(tail).has_value();
      joined += tail;
      const std::string& expected = skip ? item.decode_skip : item.decode;
      if ((!pieces_valid || joined != expected) && ++failures <= kPrintedFailures) {
        ADD_FAILURE() << "line " << item.line << " skip=" << skip << " ids " << ids_text(item.ids)
                      << (pieces_valid ? "" : " emitted invalid UTF-8") << "\n  joined   "
                      << preview(joined) << "\n  expected " << preview(expected);
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace glyph::text
