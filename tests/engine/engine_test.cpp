#include "engine/engine.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"
#include "fake_model.h"

namespace glyph::engine {
namespace {

using testing::FakeModel;
using testing::FakeTokenizer;
using testing::kFakeEos;

struct Result {
  std::vector<int32_t> tokens;
  std::string text;
  FinishReason finish_reason = FinishReason::kNone;
  int32_t cached_tokens = 0;
  int32_t completion_tokens = 0;
  std::variant<std::monostate, int32_t, std::string> matched_stop;
};

Result collect(OutputChannel& channel) {
  Result result;
  while (result.finish_reason == FinishReason::kNone) {
    for (OutputEvent& event : channel.wait()) {
      result.tokens.insert(result.tokens.end(), event.token_ids.begin(), event.token_ids.end());
      result.text += event.text;
      result.finish_reason = event.finish_reason;
      result.cached_tokens = event.cached_tokens;
      result.completion_tokens = event.completion_tokens;
      result.matched_stop = event.matched_stop;
    }
  }
  return result;
}

std::vector<int32_t> prompt_of(int32_t length, int32_t salt) {
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < length; ++i) prompt.push_back((i * 7 + salt * 13) % 50);
  return prompt;
}

GenerateRequest greedy_request(std::vector<int32_t> prompt, int32_t max_new_tokens) {
  GenerateRequest request;
  request.prompt = std::move(prompt);
  request.sampling.temperature = 0.0f;
  request.sampling.max_new_tokens = max_new_tokens;
  return request;
}

struct Fixture {
  explicit Fixture(EngineOptions options = {}, float eos_bias = 100.0f) {
    auto model = std::make_unique<FakeModel>();
    model->eos_bias = eos_bias;
    fake = model.get();
    if (options.max_total_tokens == 0) options.max_total_tokens = 4096;
    options.kv_page_size = options.kv_page_size == 16 ? 4 : options.kv_page_size;
    engine = std::make_unique<Engine>(std::move(model), std::make_shared<FakeTokenizer>(),
                                      options);
  }

  Result run(GenerateRequest request) { return collect(*engine->submit(std::move(request))); }

  // Waits until the scheduler has published the state after the last request.
  void wait_idle() {
    for (int i = 0; i < 400; ++i) {
      const EngineStats& stats = engine->stats();
      if (stats.running_requests == 0 && stats.queued_requests == 0 &&
          stats.used_pages == stats.cached_pages) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  FakeModel* fake = nullptr;
  std::unique_ptr<Engine> engine;
};

TEST(Engine, GreedyRunsToMaxTokens) {
  Fixture fixture;
  Result result = fixture.run(greedy_request(prompt_of(10, 1), 12));
  EXPECT_EQ(result.tokens.size(), 12u);
  EXPECT_EQ(result.completion_tokens, 12);
  EXPECT_EQ(result.finish_reason, FinishReason::kLength);
  EXPECT_EQ(result.text, FakeTokenizer().decode(result.tokens, true));
}

TEST(Engine, SameOutputAloneAndInBatchOf16) {
  std::vector<Result> alone;
  {
    EngineOptions options;
    options.disable_radix_cache = true;
    Fixture fixture(options);
    for (int32_t i = 0; i < 16; ++i) alone.push_back(fixture.run(greedy_request(prompt_of(9 + i, i), 20)));
  }
  Fixture fixture;
  std::vector<std::shared_ptr<OutputChannel>> channels;
  for (int32_t i = 0; i < 16; ++i) {
    channels.push_back(fixture.engine->submit(greedy_request(prompt_of(9 + i, i), 20)));
  }
  for (int32_t i = 0; i < 16; ++i) {
    EXPECT_EQ(collect(*channels[i]).tokens, alone[i].tokens) << "request " << i;
  }
}

TEST(Engine, ChunkedPrefillMatchesWholePrefill) {
  EngineOptions chunked;
  chunked.chunked_prefill_size = 5;
  chunked.disable_radix_cache = true;
  Fixture small_chunks(chunked);
  Fixture whole;
  const auto prompt = prompt_of(37, 3);
  EXPECT_EQ(small_chunks.run(greedy_request(prompt, 10)).tokens,
            whole.run(greedy_request(prompt, 10)).tokens);
  EXPECT_GE(small_chunks.fake->forward_calls, 8 + 10 - 1);
}

TEST(Engine, PrefixCacheReusesPrompt) {
  Fixture fixture;
  const auto prompt = prompt_of(40, 5);
  Result first = fixture.run(greedy_request(prompt, 8));
  Result second = fixture.run(greedy_request(prompt, 8));
  EXPECT_EQ(first.cached_tokens, 0);
  // Whole pages of 4 tokens, leaving at least the last prompt token to compute.
  EXPECT_EQ(second.cached_tokens, 36);
  EXPECT_EQ(first.tokens, second.tokens);
}

TEST(Engine, PrefixCacheSharesCommonStart) {
  Fixture fixture;
  auto prompt_a = prompt_of(40, 5);
  auto prompt_b = prompt_a;
  prompt_b[30] = 49;
  fixture.run(greedy_request(prompt_a, 4));
  Result b = fixture.run(greedy_request(prompt_b, 6));
  EXPECT_EQ(b.cached_tokens, 28);

  EngineOptions no_cache;
  no_cache.disable_radix_cache = true;
  Fixture reference(no_cache);
  EXPECT_EQ(b.tokens, reference.run(greedy_request(prompt_b, 6)).tokens);
}

TEST(Engine, DisabledCacheReportsNoHits) {
  EngineOptions options;
  options.disable_radix_cache = true;
  Fixture fixture(options);
  const auto prompt = prompt_of(40, 5);
  fixture.run(greedy_request(prompt, 4));
  EXPECT_EQ(fixture.run(greedy_request(prompt, 4)).cached_tokens, 0);
}

TEST(Engine, EvictionKeepsOutputsCorrect) {
  EngineOptions options;
  options.max_total_tokens = 96;  // 24 pages: room for about two requests' prefixes.
  Fixture fixture(options);
  EngineOptions no_cache;
  no_cache.disable_radix_cache = true;
  Fixture reference(no_cache);
  for (int32_t i = 0; i < 12; ++i) {
    const auto prompt = prompt_of(30, i % 5);
    EXPECT_EQ(fixture.run(greedy_request(prompt, 6)).tokens,
              reference.run(greedy_request(prompt, 6)).tokens)
        << "request " << i;
  }
  fixture.wait_idle();
  EXPECT_LE(fixture.engine->stats().used_pages, fixture.engine->kv_total_pages());
}

TEST(Engine, RetractionResumesWithSameOutput) {
  std::vector<Result> alone;
  {
    Fixture reference;
    for (int32_t i = 0; i < 6; ++i) alone.push_back(reference.run(greedy_request(prompt_of(20, i), 40)));
  }
  EngineOptions options;
  options.max_total_tokens = 160;  // Six requests need 6 x 60 tokens: they cannot all fit.
  Fixture fixture(options);
  std::vector<std::shared_ptr<OutputChannel>> channels;
  for (int32_t i = 0; i < 6; ++i) channels.push_back(fixture.engine->submit(greedy_request(prompt_of(20, i), 40)));
  for (int32_t i = 0; i < 6; ++i) {
    Result result = collect(*channels[i]);
    EXPECT_EQ(result.tokens, alone[i].tokens) << "request " << i;
    EXPECT_EQ(result.finish_reason, FinishReason::kLength);
  }
  EXPECT_GT(fixture.engine->stats().retractions_total.load(), 0);
}

TEST(Engine, CancelledRequestsReturnTheirPages) {
  Fixture fixture;
  fixture.run(greedy_request(prompt_of(12, 1), 4));
  fixture.engine->flush_cache();
  fixture.wait_idle();
  const int32_t used_before = fixture.engine->stats().used_pages;

  std::vector<std::shared_ptr<OutputChannel>> channels;
  for (int32_t i = 0; i < 100; ++i) {
    channels.push_back(fixture.engine->submit(greedy_request(prompt_of(16 + i % 7, i), 1000)));
  }
  for (auto& channel : channels) {
    channel->wait();
    channel->cancel();
  }
  for (size_t i = 0; i < channels.size(); ++i) {
    EXPECT_EQ(collect(*channels[i]).finish_reason, FinishReason::kAbort) << "request " << i;
  }
  fixture.wait_idle();
  fixture.engine->flush_cache();
  fixture.wait_idle();
  EXPECT_EQ(fixture.engine->stats().used_pages, used_before);
  EXPECT_EQ(fixture.engine->stats().cached_pages, 0);
}

TEST(Engine, EosEndsWithStop) {
  Fixture fixture({}, /*eos_bias=*/-100.0f);  // Eos always wins.
  Result result = fixture.run(greedy_request(prompt_of(5, 2), 10));
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  EXPECT_EQ(std::get<int32_t>(result.matched_stop), kFakeEos);
  EXPECT_EQ(result.completion_tokens, 1);
  EXPECT_EQ(result.text, "");
}

TEST(Engine, IgnoreEosKeepsGenerating) {
  Fixture fixture({}, /*eos_bias=*/-100.0f);
  GenerateRequest request = greedy_request(prompt_of(5, 2), 10);
  request.sampling.ignore_eos = true;
  Result result = fixture.run(std::move(request));
  EXPECT_EQ(result.finish_reason, FinishReason::kLength);
  EXPECT_EQ(result.completion_tokens, 10);
}

TEST(Engine, StopTokenIdEndsRequest) {
  Fixture fixture;
  Result free_run = fixture.run(greedy_request(prompt_of(8, 4), 10));
  GenerateRequest request = greedy_request(prompt_of(8, 4), 10);
  request.sampling.stop_token_ids = {free_run.tokens[3]};
  Result result = fixture.run(std::move(request));
  // The first occurrence of that token may come earlier than position 3.
  ASSERT_LE(result.tokens.size(), 4u);
  EXPECT_EQ(result.tokens.back(), free_run.tokens[3]);
  EXPECT_EQ(std::get<int32_t>(result.matched_stop), free_run.tokens[3]);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
}

TEST(Engine, StopStringTrimsOutput) {
  Fixture fixture;
  Result free_run = fixture.run(greedy_request(prompt_of(8, 4), 10));
  GenerateRequest request = greedy_request(prompt_of(8, 4), 10);
  const std::string stop = free_run.text.substr(4, 2);
  request.sampling.stop = {stop};
  Result result = fixture.run(std::move(request));
  EXPECT_EQ(result.text, free_run.text.substr(0, free_run.text.find(stop)));
  EXPECT_EQ(std::get<std::string>(result.matched_stop), stop);
  EXPECT_EQ(result.finish_reason, FinishReason::kStop);
}

TEST(Engine, SeededSamplingRepeats) {
  Fixture fixture;
  auto sampled = [&](uint64_t seed) {
    GenerateRequest request = greedy_request(prompt_of(8, 4), 16);
    request.sampling.temperature = 1.0f;
    request.sampling.seed = seed;
    return fixture.run(std::move(request)).tokens;
  };
  EXPECT_EQ(sampled(42), sampled(42));
  EXPECT_NE(sampled(42), sampled(43));
}

TEST(Engine, PromptLongerThanContextIsRejected) {
  EngineOptions options;
  options.context_length = 32;
  Fixture fixture(options);
  try {
    fixture.engine->submit(greedy_request(prompt_of(32, 1), 4));
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kInvalidRequest);
    EXPECT_NE(std::string(error.what()).find("context length"), std::string::npos);
  }
}

TEST(Engine, MaxTokensCappedByContext) {
  EngineOptions options;
  options.context_length = 32;
  Fixture fixture(options);
  Result result = fixture.run(greedy_request(prompt_of(30, 1), 100));
  EXPECT_EQ(result.completion_tokens, 2);
  EXPECT_EQ(result.finish_reason, FinishReason::kLength);
}

TEST(Engine, ScriptedOutputNeedsTheSeam) {
  GenerateRequest request = greedy_request(prompt_of(5, 1), 10);
  request.scripted_output = std::vector<int32_t>{0, 1, 2};
  {
    EngineOptions options;
    options.allow_scripted_output = true;
    Fixture fixture(options);
    Result result = fixture.run(request);
    EXPECT_EQ(result.tokens, (std::vector<int32_t>{0, 1, 2}));
    EXPECT_EQ(result.text, "abc");
    EXPECT_EQ(result.finish_reason, FinishReason::kStop);
  }
  Fixture production;
  EXPECT_NE(production.run(request).tokens, (std::vector<int32_t>{0, 1, 2}));
}

TEST(Engine, FullQueueIsUnavailable) {
  EngineOptions options;
  options.max_queued_requests = 1;
  options.max_running_requests = 1;
  Fixture fixture(options);
  std::vector<std::shared_ptr<OutputChannel>> channels;
  bool rejected = false;
  for (int i = 0; i < 20 && !rejected; ++i) {
    try {
      channels.push_back(fixture.engine->submit(greedy_request(prompt_of(8, i), 200)));
    } catch (const Error& error) {
      EXPECT_EQ(error.kind(), ErrorKind::kUnavailable);
      rejected = true;
    }
  }
  EXPECT_TRUE(rejected);
  for (auto& channel : channels) channel->cancel();
}

}  // namespace
}  // namespace glyph::engine

namespace glyph::engine {
namespace {

// A prompt of 12 tokens whose tokens [3, 9) stand for a 2x3 image, as the
// server lays it out: M-RoPE positions and one embedding row per image token.
struct ImagePrompt {
  explicit ImagePrompt(float first_value) : rows(std::make_shared<std::vector<float>>()) {
    for (int32_t i = 0; i < 6; ++i) rows->push_back(first_value + static_cast<float>(i));
    request = greedy_request(prompt_of(12, 2), 5);
    for (int32_t i = 3; i < 9; ++i) request.prompt[i] = 7;
    // Text 0..2, the image at st = 3 as (3, 3 + row, 3 + col), text from 3 + max(2, 3) = 6.
    const std::vector<std::array<int32_t, 3>> positions = {
        {0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3}, {3, 3, 4}, {3, 3, 5},
        {3, 4, 3}, {3, 4, 4}, {3, 4, 5}, {6, 6, 6}, {7, 7, 7}, {8, 8, 8}};
    for (const auto& position : positions) {
      request.positions.insert(request.positions.end(), position.begin(), position.end());
    }
    request.embeddings.push_back({3, 6, rows});
  }

  std::shared_ptr<std::vector<float>> rows;
  GenerateRequest request;
};

TEST(EngineImages, PositionsAndEmbeddingsReachTheModel) {
  EngineOptions options;
  options.chunked_prefill_size = 5;  // Splits the image run across two steps.
  Fixture fixture(options);
  fixture.fake->text_positions_only = false;
  ImagePrompt image(0.5f);
  const Result result = fixture.run(image.request);
  ASSERT_EQ(result.tokens.size(), 5u);

  const auto& seen = fixture.fake->seen;
  ASSERT_EQ(seen.size(), 12u + 4u);  // The last generated token is never fed back.
  for (int32_t i = 0; i < 12; ++i) {
    EXPECT_EQ(seen[i].index, i);
    EXPECT_EQ(seen[i].rope[0], image.request.positions[i * 3]) << i;
    EXPECT_EQ(seen[i].rope[1], image.request.positions[i * 3 + 1]) << i;
    EXPECT_EQ(seen[i].rope[2], image.request.positions[i * 3 + 2]) << i;
    const float* expected = i >= 3 && i < 9 ? image.rows->data() + (i - 3) : nullptr;
    EXPECT_EQ(seen[i].embedding, expected) << i;
  }
  // Decode continues from the largest position: rope delta 8 + 1 - 12 = -3.
  for (size_t i = 12; i < seen.size(); ++i) {
    const int32_t expected = seen[i].index - 3;
    EXPECT_EQ(seen[i].rope, (std::array<int32_t, 3>{expected, expected, expected})) << i;
    EXPECT_EQ(seen[i].embedding, nullptr);
  }
}

TEST(EngineImages, PrefixCacheKeysImages) {
  Fixture fixture;
  fixture.fake->text_positions_only = false;
  auto keyed = [](ImagePrompt& image, int32_t image_key) {
    image.request.cache_key = image.request.prompt;
    for (int32_t i = 3; i < 9; ++i) image.request.cache_key[i] = -(image_key * 100 + i);
    return image.request;
  };
  ImagePrompt first(0.5f);
  ImagePrompt same(0.5f);
  ImagePrompt other(9.5f);
  const Result a = fixture.run(keyed(first, 1));
  const Result b = fixture.run(keyed(same, 1));
  const Result c = fixture.run(keyed(other, 2));
  EXPECT_EQ(b.cached_tokens, 8);  // Two whole pages of 4; the image spans both.
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(c.cached_tokens, 0);  // Its first page already ends inside the image.

  EngineOptions no_cache;
  no_cache.disable_radix_cache = true;
  Fixture reference(no_cache);
  reference.fake->text_positions_only = false;
  ImagePrompt alone(9.5f);
  EXPECT_EQ(c.tokens, reference.run(alone.request).tokens);
  EXPECT_NE(a.tokens, c.tokens);
}

TEST(EngineImages, MismatchedEmbeddingsAreAnInternalError) {
  Fixture fixture;
  ImagePrompt image(0.5f);
  image.request.embeddings[0].count = 7;
  EXPECT_THROW(fixture.engine->submit(image.request), Error);
}

}  // namespace
}  // namespace glyph::engine
