// The incremental detokenizer on hand-picked id streams; the fixture test
// checks it against Hugging Face decode on every recorded case.

#include <gtest/gtest.h>

#include "text/byte_level.h"
#include "text/tokenizer.h"
#include "text/utf8.h"
#include "tokenizer_fixtures.h"

namespace glyph::text {
namespace {

using testing::base_tokenizer;

const std::string kFffd = "\xEF\xBF\xBD";

// The id of the token that is the single byte `byte`; such tokens split
// multi-byte characters apart.
int32_t byte_token(const Tokenizer& tokenizer, uint8_t byte) {
  const auto id = tokenizer.token_to_id(byte_level_char(byte));
  EXPECT_TRUE(id.has_value()) << "no token for byte " << int{byte};
  return id.value_or(-1);
}

TEST(IncrementalDetokenizer, HoldsSplitCharacter) {
  const Tokenizer& tokenizer = base_tokenizer();
  // "中" is E4 B8 AD.
  IncrementalDetokenizer detokenizer(tokenizer, false);
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xE4)), "");
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xB8)), "");
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xAD)), "中");
  EXPECT_EQ(detokenizer.flush(), "");
}

TEST(IncrementalDetokenizer, FlushReplacesDanglingBytes) {
  const Tokenizer& tokenizer = base_tokenizer();
  IncrementalDetokenizer detokenizer(tokenizer, false);
  const std::vector<int32_t> hi = tokenizer.encode("hi");
  std::string text;
  for (const int32_t id : hi) text += detokenizer.push(id);
  EXPECT_EQ(text, "hi");
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xE4)), "");
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xB8)), "");
  EXPECT_EQ(detokenizer.flush(), kFffd);
  // flush() starts over, so a new character decodes cleanly.
  EXPECT_EQ(detokenizer.push(tokenizer.encode("x").at(0)), "x");
}

TEST(IncrementalDetokenizer, InvalidBytesComeOutAtOnce) {
  const Tokenizer& tokenizer = base_tokenizer();
  IncrementalDetokenizer detokenizer(tokenizer, false);
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xE4)), "");
  // "x" cannot continue E4, so E4 is final as U+FFFD.
  EXPECT_EQ(detokenizer.push(tokenizer.encode("x").at(0)), kFffd + "x");
  EXPECT_EQ(detokenizer.push(byte_token(tokenizer, 0xFF)), kFffd);
}

TEST(IncrementalDetokenizer, SkippedSpecialTokenJoinsBytes) {
  const Tokenizer& tokenizer = base_tokenizer();
  const int32_t user = tokenizer.token_to_id("<|user|>").value();
  const std::vector<int32_t> ids = {byte_token(tokenizer, 0xE4), user, byte_token(tokenizer, 0xB8),
                                    byte_token(tokenizer, 0xAD)};
  for (const bool skip : {false, true}) {
    IncrementalDetokenizer detokenizer(tokenizer, skip);
    std::string text;
    for (const int32_t id : ids) {
      const std::string piece = detokenizer.push(id);
      EXPECT_FALSE(find_invalid_utf8(piece).has_value());
      text += piece;
    }
    text += detokenizer.flush();
    EXPECT_EQ(text, tokenizer.decode(ids, skip)) << "skip=" << skip;
  }
  IncrementalDetokenizer skipping(tokenizer, true);
  EXPECT_EQ(skipping.push(user), "");
}

TEST(IncrementalDetokenizer, UnknownIdAddsNothing) {
  const Tokenizer& tokenizer = base_tokenizer();
  IncrementalDetokenizer detokenizer(tokenizer, false);
  EXPECT_EQ(detokenizer.push(-5), "");
  EXPECT_EQ(detokenizer.push(tokenizer.vocab_size() + 100), "");
  EXPECT_EQ(detokenizer.push(tokenizer.encode("ok").at(0)), "ok");
}

}  // namespace
}  // namespace glyph::text
