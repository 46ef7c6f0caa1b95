// The result block and JSONL record, compared with what SGLang 0.5.6's
// bench_serving prints for the same numbers (its format strings run in
// Python produced the expected text, trailing padding included).
#include "cli/bench_report.h"

#include <limits>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

BenchmarkMetrics synthetic_metrics() {
  BenchmarkMetrics metrics;
  metrics.completed = 3;
  metrics.total_input = 60;
  metrics.total_input_text = 60;
  metrics.total_output = 8;
  metrics.total_output_retokenized = 7;
  metrics.request_throughput = 1.5;
  metrics.input_throughput = 30.0;
  metrics.output_throughput = 4.0;
  metrics.max_output_tokens_per_s = 5.0;
  metrics.max_concurrent_requests = 2;
  metrics.total_throughput = 34.0;
  metrics.concurrency = 0.85;
  metrics.mean_e2e_latency_ms = 566.6666666666666;
  metrics.median_e2e_latency_ms = 300.0;
  metrics.mean_ttft_ms = 200.00000000000003;
  metrics.median_ttft_ms = 200.0;
  metrics.p99_ttft_ms = 298.0;
  metrics.mean_tpot_ms = 258.3333333333333;
  metrics.median_tpot_ms = 258.3333333333333;
  metrics.p99_tpot_ms = 446.16666666666663;
  metrics.mean_itl_ms = 220.00000000000003;
  metrics.median_itl_ms = 100.0;
  metrics.p95_itl_ms = 480.0;
  metrics.p99_itl_ms = 496.0;
  metrics.max_itl_ms = 500.0;
  return metrics;
}

ReportSettings synthetic_settings() {
  ReportSettings settings;
  settings.backend = "sglang";
  settings.dataset_name = "random";
  settings.request_rate = std::numeric_limits<double>::infinity();
  settings.max_concurrency = 4;
  settings.random_input_len = 64;
  settings.random_output_len = 32;
  settings.duration_s = 2.0;
  return settings;
}

TEST(FormatResultBlock, MatchesBenchServingText) {
  const std::string expected =
      "\n"
      "============ Serving Benchmark Result ============\n"
      "Backend:                                 sglang    \n"
      "Traffic request rate:                    inf       \n"
      "Max request concurrency:                 4         \n"
      "Successful requests:                     3         \n"
      "Benchmark duration (s):                  2.00      \n"
      "Total input tokens:                      60        \n"
      "Total input text tokens:                 60        \n"
      "Total input vision tokens:               0         \n"
      "Total generated tokens:                  8         \n"
      "Total generated tokens (retokenized):    7         \n"
      "Request throughput (req/s):              1.50      \n"
      "Input token throughput (tok/s):          30.00     \n"
      "Output token throughput (tok/s):         4.00      \n"
      "Peak output token throughput (tok/s):    5.00      \n"
      "Peak concurrent requests:                2         \n"
      "Total token throughput (tok/s):          34.00     \n"
      "Concurrency:                             0.85      \n"
      "----------------End-to-End Latency----------------\n"
      "Mean E2E Latency (ms):                   566.67    \n"
      "Median E2E Latency (ms):                 300.00    \n"
      "---------------Time to First Token----------------\n"
      "Mean TTFT (ms):                          200.00    \n"
      "Median TTFT (ms):                        200.00    \n"
      "P99 TTFT (ms):                           298.00    \n"
      "-----Time per Output Token (excl. 1st token)------\n"
      "Mean TPOT (ms):                          258.33    \n"
      "Median TPOT (ms):                        258.33    \n"
      "P99 TPOT (ms):                           446.17    \n"
      "---------------Inter-Token Latency----------------\n"
      "Mean ITL (ms):                           220.00    \n"
      "Median ITL (ms):                         100.00    \n"
      "P95 ITL (ms):                            480.00    \n"
      "P99 ITL (ms):                            496.00    \n"
      "Max ITL (ms):                            500.00    \n"
      "==================================================\n";
  EXPECT_EQ(format_result_block(synthetic_settings(), synthetic_metrics()), expected);
}

TEST(FormatResultBlock, UnsetConcurrencyAndFiniteRate) {
  ReportSettings settings = synthetic_settings();
  settings.max_concurrency.reset();
  settings.request_rate = 4.0;
  const std::string block = format_result_block(settings, synthetic_metrics());
  EXPECT_NE(block.find("Traffic request rate:                    4.0       \n"), std::string::npos);
  EXPECT_NE(block.find("Max request concurrency:                 not set   \n"), std::string::npos);
  EXPECT_EQ(block.find("Accept length:"), std::string::npos);
}

TEST(FormatResultBlock, AcceptLengthFollowsConcurrency) {
  ReportSettings settings = synthetic_settings();
  settings.accept_length = 2.345;
  const std::string block = format_result_block(settings, synthetic_metrics());
  EXPECT_NE(block.find("Concurrency:                             0.85      \n"
                       "Accept length:                           2.35      \n"
                       "----------------End-to-End Latency"),
            std::string::npos);
}

TEST(FormatResultBlock, LongValueIsNotCut) {
  BenchmarkMetrics metrics = synthetic_metrics();
  metrics.mean_itl_ms = 123456789.125;
  const std::string block = format_result_block(synthetic_settings(), metrics);
  EXPECT_NE(block.find("Mean ITL (ms):                           123456789.12\n"),
            std::string::npos);
}

TEST(Center, OddPaddingGoesRight) {
  EXPECT_EQ(center("ab", 5, '-'), "-ab--");
  EXPECT_EQ(center("Time to First Token", 50, '-'),
            "---------------Time to First Token----------------");
  EXPECT_EQ(center("longer than width", 4, '-'), "longer than width");
}

TEST(PythonFloatRepr, MatchesPythonStr) {
  EXPECT_EQ(python_float_repr(4.0), "4.0");
  EXPECT_EQ(python_float_repr(0.5), "0.5");
  EXPECT_EQ(python_float_repr(123.456), "123.456");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(python_float_repr(1e-5), "1e-05");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(python_float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(python_float_repr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(python_float_repr(std::numeric_limits<double>::infinity()), "inf");
}

TEST(MakeResultRecord, KeysInBenchServingOrder) {
  const auto record = make_result_record(synthetic_settings(), synthetic_metrics(),
                                         nlohmann::json(nullptr), nullptr);
  std::vector<std::string> keys;
  for (const auto& [key, value] : record.items()) keys.push_back(key);
  const std::vector<std::string> expected = {"tag",
                                             "backend",
                                             "dataset_name",
                                             "request_rate",
                                             "max_concurrency",
                                             "sharegpt_output_len",
                                             "random_input_len",
                                             "random_output_len",
                                             "random_range_ratio",
                                             "server_info",
                                             "duration",
                                             "completed",
                                             "total_input_tokens",
                                             "total_input_text_tokens",
                                             "total_input_vision_tokens",
                                             "total_output_tokens",
                                             "total_output_tokens_retokenized",
                                             "request_throughput",
                                             "input_throughput",
                                             "output_throughput",
                                             "total_throughput",
                                             "mean_e2e_latency_ms",
                                             "median_e2e_latency_ms",
                                             "std_e2e_latency_ms",
                                             "p99_e2e_latency_ms",
                                             "mean_ttft_ms",
                                             "median_ttft_ms",
                                             "std_ttft_ms",
                                             "p99_ttft_ms",
                                             "mean_tpot_ms",
                                             "median_tpot_ms",
                                             "std_tpot_ms",
                                             "p99_tpot_ms",
                                             "mean_itl_ms",
                                             "median_itl_ms",
                                             "std_itl_ms",
                                             "p95_itl_ms",
                                             "p99_itl_ms",
                                             "concurrency",
                                             "accept_length",
                                             "max_output_tokens_per_s",
                                             "max_concurrent_requests"};
  EXPECT_EQ(keys, expected);
}

TEST(MakeResultRecord, DetailsListEveryRequest) {
  BenchmarkMetrics metrics = synthetic_metrics();
  metrics.output_lens = {4, 0};
  RequestOutput ok;
  ok.success = true;
  ok.prompt_len = 10;
  ok.ttft = 0.25;
  ok.itl = {0.5};
  ok.generated_text = "hi";
  RequestOutput failed;
  failed.prompt_len = 20;
  failed.error = "HTTP 500";
  const std::vector<RequestOutput> outputs = {ok, failed};
  const auto record =
      make_result_record(synthetic_settings(), metrics, nlohmann::json(nullptr), &outputs);
  EXPECT_EQ(record["input_lens"], nlohmann::ordered_json({10, 20}));
  EXPECT_EQ(record["output_lens"], nlohmann::ordered_json({4, 0}));
  EXPECT_EQ(record["generated_texts"], nlohmann::ordered_json({"hi", ""}));
  EXPECT_EQ(record["errors"], nlohmann::ordered_json({"", "HTTP 500"}));
}

TEST(PythonJsonDumps, SpacesInfinityAndEscapes) {
  nlohmann::ordered_json value;
  value["rate"] = std::numeric_limits<double>::infinity();
  value["ratio"] = 0.0;
  value["count"] = 3;
  value["none"] = nullptr;
  value["text"] = "caf\xc3\xa9\n";
  value["list"] = {1.5, 2};
  EXPECT_EQ(
      python_json_dumps(value),
      R"({"rate": Infinity, "ratio": 0.0, "count": 3, "none": null, "text": "caf\u00e9\n", "list": [1.5, 2]})");
}

TEST(DefaultOutputFileName, RandomAndOtherDatasets) {
  EXPECT_EQ(default_output_file_name("sglang", "random", 80, 1000, 1000, "0105"),
            "sglang_0105_80_1000_1000.jsonl");
  EXPECT_EQ(default_output_file_name("vllm", "sharegpt", 10, 1024, 1024, "1231"),
            "vllm_1231_10_sharegpt.jsonl");
}

}  // namespace
}  // namespace glyph::cli
