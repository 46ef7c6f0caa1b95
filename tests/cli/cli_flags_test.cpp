// The flags of glyph bench and glyph eval gsm8k: SGLang's names and defaults.
#include <gtest/gtest.h>

#include "cli/bench_command.h"
#include "cli/eval_gsm8k_command.h"
#include "cli/http_client.h"

namespace glyph::cli {
namespace {

// Parses `arguments` (after the program name) into fresh options.
BenchOptions parse_bench(std::vector<std::string> arguments) {
  CLI::App app("test");
  BenchOptions options;
  add_bench_flags(app, options);
  std::reverse(arguments.begin(), arguments.end());
  app.parse(arguments);
  return options;
}

TEST(BenchFlags, DefaultsFollowBenchServing) {
  const BenchOptions options = parse_bench({});
  EXPECT_EQ(options.backend, "sglang");
  EXPECT_EQ(options.dataset.name, "sharegpt");
  EXPECT_EQ(options.dataset.num_prompts, 1000);
  EXPECT_EQ(options.dataset.random_input_len, 1024);
  EXPECT_EQ(options.dataset.random_output_len, 1024);
  EXPECT_DOUBLE_EQ(options.dataset.random_range_ratio, 0.0);
  EXPECT_TRUE(std::isinf(options.request_rate));
  EXPECT_FALSE(options.max_concurrency.has_value());
  EXPECT_EQ(options.seed, 1u);
  EXPECT_EQ(options.warmup_requests, 1);
  EXPECT_FALSE(options.port.has_value());
  EXPECT_FALSE(options.disable_stream);
  EXPECT_FALSE(options.disable_ignore_eos);
}

TEST(BenchFlags, GlyphPageCommandParses) {
  const BenchOptions options =
      parse_bench({"--backend", "sglang", "--model", "zai-org/Glyph", "--dataset-name", "random",
                   "--random-input-len", "1000", "--random-output-len", "1000", "--num-prompts",
                   "80", "--max-concurrency", "16", "--request-rate", "inf"});
  EXPECT_EQ(options.model, "zai-org/Glyph");
  EXPECT_EQ(options.dataset.name, "random");
  EXPECT_EQ(options.dataset.random_input_len, 1000);
  EXPECT_EQ(options.dataset.num_prompts, 80);
  EXPECT_EQ(options.max_concurrency, 16);
  EXPECT_TRUE(std::isinf(options.request_rate));
  EXPECT_NO_THROW(check_bench_options(options));
}

TEST(BenchFlags, ArgparseAbbreviationsUsedInSglangDocs) {
  const BenchOptions options =
      parse_bench({"--random-input", "256", "--random-output", "64", "--num-prompt", "7"});
  EXPECT_EQ(options.dataset.random_input_len, 256);
  EXPECT_EQ(options.dataset.random_output_len, 64);
  EXPECT_EQ(options.dataset.num_prompts, 7);
}

TEST(BenchFlags, FiniteRateAndZeroConcurrency) {
  const BenchOptions options = parse_bench({"--request-rate", "2.5", "--max-concurrency", "0"});
  EXPECT_DOUBLE_EQ(options.request_rate, 2.5);
  // bench_serving treats --max-concurrency 0 as no limit.
  EXPECT_FALSE(options.max_concurrency.has_value());
}

TEST(BenchFlags, RejectsBadValues) {
  EXPECT_THROW(parse_bench({"--request-rate", "-1"}), CLI::ValidationError);
  EXPECT_THROW(parse_bench({"--request-rate", "fast"}), CLI::ValidationError);
  EXPECT_THROW(parse_bench({"--backend", "trt"}), CLI::ValidationError);
  EXPECT_THROW(parse_bench({"--dataset-name", "mmmu"}), CLI::ValidationError);
}

TEST(BenchFlags, AliasBackendsAreAccepted) {
  for (const char* backend : {"vllm", "openai", "sglang-oai", "sglang-oai-chat", "vllm-chat"}) {
    EXPECT_NO_THROW(check_bench_options(parse_bench({"--backend", backend}))) << backend;
  }
}

TEST(CheckBenchOptions, RejectsImpossibleCombinations) {
  BenchOptions options;
  options.dataset.tokenize_prompt = true;
  options.backend = "sglang-oai";
  options.dataset.name = "random";
  EXPECT_THROW(check_bench_options(options), BenchUsageError);

  options = BenchOptions{};
  options.dataset.num_prompts = 0;
  EXPECT_THROW(check_bench_options(options), BenchUsageError);

  options = BenchOptions{};
  options.max_concurrency = -2;
  EXPECT_THROW(check_bench_options(options), BenchUsageError);

  options = BenchOptions{};
  options.extra_request_body = "{\"top_p\": 0.9}";
  EXPECT_NO_THROW(check_bench_options(options));
  options.extra_request_body = "not json";
  EXPECT_THROW(check_bench_options(options), BenchUsageError);
}

TEST(BenchCommand, RegistersSubcommand) {
  CLI::App app("test");
  add_bench_command(app);
  add_eval_command(app);
  EXPECT_NE(app.get_subcommand("bench"), nullptr);
  EXPECT_NE(app.get_subcommand("eval")->get_subcommand("gsm8k"), nullptr);
}

TEST(BenchCommand, InvalidValueRaisesValidationError) {
  // The callback checks options before any network use.
  CLI::App app("test");
  add_bench_command(app);
  std::vector<std::string> arguments = {"bench", "--random-range-ratio", "2", "--dataset-name",
                                        "random"};
  std::reverse(arguments.begin(), arguments.end());
  EXPECT_THROW(app.parse(arguments), CLI::ValidationError);
}

TEST(Gsm8kFlags, DefaultsFollowFewShotGsm8k) {
  CLI::App app("test");
  Gsm8kOptions options;
  add_gsm8k_flags(app, options);
  std::vector<std::string> none;
  app.parse(none);
  EXPECT_EQ(options.num_questions, 200);
  EXPECT_EQ(options.num_shots, 5);
  EXPECT_EQ(options.parallel, 128);
  EXPECT_EQ(options.max_new_tokens, 512);
  EXPECT_EQ(options.host, "http://127.0.0.1");
  EXPECT_EQ(options.port, 30000);
  EXPECT_DOUBLE_EQ(options.temperature, 0.0);
  EXPECT_TRUE(options.data_path.empty());
}

TEST(Gsm8kFlags, RejectsZeroQuestions) {
  CLI::App app("test");
  Gsm8kOptions options;
  add_gsm8k_flags(app, options);
  std::vector<std::string> arguments = {"0", "--num-questions"};
  EXPECT_THROW(app.parse(arguments), CLI::ValidationError);
}

TEST(ParseBaseUrl, SplitsHostAndPrefix) {
  BaseUrl base = parse_base_url("http://127.0.0.1:30000");
  EXPECT_EQ(base.scheme_host_port, "http://127.0.0.1:30000");
  EXPECT_EQ(base.path_prefix, "");

  base = parse_base_url("127.0.0.1:8000/api/");
  EXPECT_EQ(base.scheme_host_port, "http://127.0.0.1:8000");
  EXPECT_EQ(base.path_prefix, "/api");

  EXPECT_THROW(parse_base_url("https://example.invalid"), std::invalid_argument);
  EXPECT_THROW(parse_base_url("http://"), std::invalid_argument);
}

TEST(HttpClient, UnreachableServerRaisesHttpError) {
  const HttpClient client("http://127.0.0.1:1");
  EXPECT_THROW(client.get("/health"), HttpError);
}

}  // namespace
}  // namespace glyph::cli
