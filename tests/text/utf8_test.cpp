// UTF-8 helpers, with the lossy conversion checked against the examples of
// the Unicode Standard (chapter 3, "U+FFFD Substitution of Maximal Subparts").

#include "text/utf8.h"

#include <gtest/gtest.h>

namespace glyph::text {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

std::string lossy(std::string_view bytes) {
  std::string out;
  append_utf8_lossy(bytes, out);
  return out;
}

TEST(Utf8Lossy, ValidTextUnchanged) {
  EXPECT_EQ(lossy(""), "");
  EXPECT_EQ(lossy("abc 中文 😀"), "abc 中文 😀");
  EXPECT_EQ(lossy(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(Utf8Lossy, UnicodeStandardExamples) {
  // Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64.
  EXPECT_EQ(lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + kFffd + kFffd + kFffd + "b" + kFffd + "c" + kFffd + kFffd + "d");
  // Overlong forms and surrogates: each byte is its own maximal subpart.
  EXPECT_EQ(lossy("\xC0\xAF"), kFffd + kFffd);
  EXPECT_EQ(lossy("\xE0\x80\xAF"), kFffd + kFffd + kFffd);
  EXPECT_EQ(lossy("\xED\xA0\x80"), kFffd + kFffd + kFffd);
  EXPECT_EQ(lossy("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);
  EXPECT_EQ(lossy("\xF5\x80"), kFffd + kFffd);
}

TEST(Utf8Lossy, TruncatedSequenceIsOneReplacement) {
  EXPECT_EQ(lossy("\xE4\xB8"), kFffd);
  EXPECT_EQ(lossy("x\xF0\x9F\x98"), "x" + kFffd);
  EXPECT_EQ(lossy("\xE4\xB8x"), kFffd + "x");
  EXPECT_EQ(lossy("\xE4\xE4\xB8\xAD"), kFffd + "中");
}

TEST(Utf8Validity, FindsFirstInvalidByte) {
  EXPECT_EQ(find_invalid_utf8("abc 中"), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);
  EXPECT_EQ(find_invalid_utf8("中\xE4\xB8"), 3u);
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);
}

TEST(Utf8IncompleteSuffix, HoldsOnlyCompletableBytes) {
  EXPECT_EQ(incomplete_utf8_suffix(""), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("abc"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("中"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("a\xE4"), 1u);
  EXPECT_EQ(incomplete_utf8_suffix("a\xE4\xB8"), 2u);
  EXPECT_EQ(incomplete_utf8_suffix("\xF0\x9F\x98"), 3u);
  // These can never become valid, so nothing is held back.
  EXPECT_EQ(incomplete_utf8_suffix("\xED\xA0"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("\xC0"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("\x80\x80"), 0u);
  EXPECT_EQ(incomplete_utf8_suffix("\xF0\x9F\x98\x80"), 0u);
}

TEST(Utf8CodePoints, DecodeAndEncode) {
  const std::string text = "a\xC3\xA9中😀";
  size_t pos = 0;
  EXPECT_EQ(decode_utf8(text, pos), U'a');
  EXPECT_EQ(decode_utf8(text, pos), U'\u00E9');
  EXPECT_EQ(decode_utf8(text, pos), U'\u4E2D');
  EXPECT_EQ(decode_utf8(text, pos), U'\U0001F600');
  EXPECT_EQ(pos, text.size());
  EXPECT_EQ(last_code_point(text), U'\U0001F600');
  std::string encoded;
  for (const char32_t c : {U'a', U'\u00E9', U'\u4E2D', U'\U0001F600'}) append_utf8(c, encoded);
  EXPECT_EQ(encoded, text);
}

TEST(Utf8CodePoints, WhiteSpaceProperty) {
  for (const char32_t c :
       {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u1680', U'\u2000',
        U'\u200A', U'\u2028', U'\u2029', U'\u202F', U'\u205F', U'\u3000'}) {
    EXPECT_TRUE(is_white_space(c)) << static_cast<uint32_t>(c);
  }
  for (const char32_t c : {U'a', U'\u200B', U'\u180E', U'\uFEFF', U'\u0000'}) {
    EXPECT_FALSE(is_white_space(c)) << static_cast<uint32_t>(c);
  }
}

}  // namespace
}  // namespace glyph::text
