// Tokenizer look-ups, special tokens, invalid input, concurrent encoding and
// a 1 MB text, on the tiny model's tokenizer.json.

#include "text/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer_fixtures.h"

namespace glyph::text {
namespace {

using testing::base_tokenizer;
using testing::fixtures;

TEST(Tokenizer, LooksUpAddedTokens) {
  const Tokenizer& tokenizer = base_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), 151365);
  EXPECT_EQ(tokenizer.token_to_id("<|endoftext|>"), 151329);
  EXPECT_EQ(tokenizer.token_to_id("<|user|>"), 151336);
  EXPECT_EQ(tokenizer.token_to_id("<|image|>"), 151363);
  EXPECT_EQ(tokenizer.token_to_id("Ġ"), 220);
  EXPECT_EQ(tokenizer.token_to_id("not a token at all"), std::nullopt);
  EXPECT_TRUE(tokenizer.is_special(151336));
  EXPECT_FALSE(tokenizer.is_special(151350));  // <think> stays in decoded text.
  EXPECT_FALSE(tokenizer.is_special(220));
  EXPECT_FALSE(tokenizer.is_special(-1));
  EXPECT_FALSE(tokenizer.is_special(151365));
}

TEST(Tokenizer, TokenBytes) {
  const Tokenizer& tokenizer = base_tokenizer();
  EXPECT_EQ(tokenizer.token_bytes(151336), "<|user|>");
  EXPECT_EQ(tokenizer.token_bytes(220), " ");
  const std::vector<int32_t> ids = tokenizer.encode("中");
  std::string joined;
  for (const int32_t id : ids) joined += tokenizer.token_bytes(id);
  EXPECT_EQ(joined, "中");
  EXPECT_EQ(tokenizer.token_bytes(-1), "");
  EXPECT_EQ(tokenizer.token_bytes(151365), "");
  EXPECT_EQ(tokenizer.token_bytes(1 << 30), "");
}

TEST(Tokenizer, DecodeSkipsSpecialTokens) {
  const Tokenizer& tokenizer = base_tokenizer();
  const std::vector<int32_t> ids = tokenizer.encode("<|user|>hi<think>x</think><|endoftext|>");
  EXPECT_EQ(ids.front(), 151336);
  EXPECT_EQ(tokenizer.decode(ids, false), "<|user|>hi<think>x</think><|endoftext|>");
  EXPECT_EQ(tokenizer.decode(ids, true), "hi<think>x</think>");
}

TEST(Tokenizer, EmptyText) {
  const Tokenizer& tokenizer = base_tokenizer();
  EXPECT_TRUE(tokenizer.encode("").empty());
  EXPECT_EQ(tokenizer.decode({}, false), "");
}

TEST(Tokenizer, EncodeRejectsInvalidUtf8) {
  const Tokenizer& tokenizer = base_tokenizer();
  try {
    tokenizer.encode("ok \xE4\xB8 then");
    FAIL() << "expected glyph::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("offset 3"), std::string::npos) << error.what();
  }
}

TEST(Tokenizer, ThreadsEncodeAlike) {
  const Tokenizer& tokenizer = base_tokenizer();
  std::vector<const testing::FixtureCase*> cases;
  for (const auto& item : fixtures().cases) {
    if (item.has_text && item.variant == "base") cases.push_back(&item);
  }
  ASSERT_FALSE(cases.empty());
  // Both threads start on cold words for the shared cache.
  std::vector<int> mismatches(2, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < cases.size(); ++i) {
        const auto* item = cases[t == 0 ? i : cases.size() - 1 - i];
        if (tokenizer.encode(item->text) != item->ids) ++mismatches[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches[0], 0);
  EXPECT_EQ(mismatches[1], 0);
}

// Encodes about 1 MB of the fixture texts on a freshly loaded tokenizer, checks
// the round trip and prints the throughput (no timed assertion: machines differ).
TEST(Tokenizer, LargeTextRoundTrip) {
  std::string text;
  while (text.size() < (1u << 20)) {
    for (const auto& item : fixtures().cases) {
      if (item.has_text && item.variant == "base") text += item.text + "\n";
    }
  }
  const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::load(testing::kTokenizerPath);

  const auto start = std::chrono::steady_clock::now();
  const std::vector<int32_t> ids = tokenizer->encode(text);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto warm_start = std::chrono::steady_clock::now();
  const std::vector<int32_t> warm_ids = tokenizer->encode(text);
  const double warm_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - warm_start).count();

  EXPECT_EQ(ids, warm_ids);
  EXPECT_EQ(tokenizer->decode(ids, false), text);
  std::printf("encoded %.2f MB into %zu ids: %.1f MB/s on the first pass, %.1f MB/s warm\n",
              text.size() / 1e6, ids.size(), text.size() / 1e6 / seconds,
              text.size() / 1e6 / warm_seconds);
}

}  // namespace
}  // namespace glyph::text
