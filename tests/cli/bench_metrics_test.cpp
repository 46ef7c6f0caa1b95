// calculate_metrics on a synthetic trace. Every expected number is worked
// out by hand below; SGLang 0.5.6's own calculate_metrics returns the same
// values for this trace.
#include "cli/bench_metrics.h"

#include <sstream>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

RequestOutput make_output(double start, double ttft, std::vector<double> itl, double latency,
                          int64_t output_len, std::string text) {
  RequestOutput output;
  output.success = true;
  output.start_time = start;
  output.ttft = ttft;
  output.itl = std::move(itl);
  output.latency = latency;
  output.output_len = output_len;
  output.generated_text = std::move(text);
  return output;
}

BenchRequest make_request(int64_t prompt_len) {
  BenchRequest request;
  request.prompt = "p";
  request.prompt_len = prompt_len;
  request.output_len = 5;
  return request;
}

// Counts space-separated words, standing in for the tokenizer.
int64_t count_words(const std::string& text) {
  std::istringstream words(text);
  int64_t count = 0;
  for (std::string word; words >> word;) ++count;
  return count;
}

// Three successes and one failure over a 2 s run:
//   A starts at 0.0, TTFT 0.1, ITL 0.05 0.05 0.1, E2E 0.3, 4 tokens, prompt 10
//   B starts at 0.5, TTFT 0.2, no ITL,            E2E 0.2, 1 token,  prompt 20
//   C starts at 1.2, TTFT 0.3, ITL 0.4 0.5,       E2E 1.2, 3 tokens, prompt 30
//   D failed,                                                        prompt 40
struct Trace {
  std::vector<BenchRequest> requests = {make_request(10), make_request(20), make_request(30),
                                        make_request(40)};
  std::vector<RequestOutput> outputs = {
      make_output(0.0, 0.1, {0.05, 0.05, 0.1}, 0.3, 4, "a b c d"),
      make_output(0.5, 0.2, {}, 0.2, 1, "x"),
      make_output(1.2, 0.3, {0.4, 0.5}, 1.2, 3, "y z"),
      RequestOutput{},
  };
};

BenchmarkMetrics trace_metrics() {
  const Trace trace;
  return calculate_metrics(trace.requests, trace.outputs, 2.0, count_words, "sglang", std::nullopt);
}

TEST(CalculateMetrics, CountsOnlySuccessfulRequests) {
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_EQ(metrics.completed, 3);
  EXPECT_EQ(metrics.total_input, 60);
  EXPECT_EQ(metrics.total_input_text, 60);
  EXPECT_EQ(metrics.total_input_vision, 0);
  EXPECT_EQ(metrics.total_output, 8);
  EXPECT_EQ(metrics.total_output_retokenized, 7);
  EXPECT_EQ(metrics.output_lens, (std::vector<int64_t>{4, 1, 3, 0}));
}

TEST(CalculateMetrics, ThroughputsDivideByDuration) {
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.request_throughput, 1.5);  // 3 / 2
  EXPECT_DOUBLE_EQ(metrics.input_throughput, 30.0);   // 60 / 2
  EXPECT_DOUBLE_EQ(metrics.output_throughput, 4.0);   // 8 / 2
  EXPECT_DOUBLE_EQ(metrics.output_throughput_retokenized, 3.5);
  EXPECT_DOUBLE_EQ(metrics.total_throughput, 34.0);  // (60 + 8) / 2
  EXPECT_DOUBLE_EQ(metrics.total_throughput_retokenized, 33.5);
}

TEST(CalculateMetrics, Ttft) {
  // TTFTs 0.1 0.2 0.3: P99 at index 1.98 is 0.3 - 0.1 * 0.02 = 0.298.
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.mean_ttft_ms, 200.00000000000003);
  EXPECT_DOUBLE_EQ(metrics.median_ttft_ms, 200.0);
  EXPECT_DOUBLE_EQ(metrics.p99_ttft_ms, 298.0);
  EXPECT_DOUBLE_EQ(metrics.std_ttft_ms, 81.6496580927726);
}

TEST(CalculateMetrics, TpotExcludesFirstTokenAndSingleTokenOutputs) {
  // A: (0.3 - 0.1) / 3 = 0.0667; B has one token and no TPOT; C: (1.2 - 0.3) / 2 = 0.45.
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.mean_tpot_ms, 258.3333333333333);
  EXPECT_DOUBLE_EQ(metrics.median_tpot_ms, 258.3333333333333);
  EXPECT_DOUBLE_EQ(metrics.p99_tpot_ms, 446.16666666666663);
  EXPECT_DOUBLE_EQ(metrics.std_tpot_ms, 191.66666666666666);
}

TEST(CalculateMetrics, ItlPoolsAllGaps) {
  // Gaps 0.05 0.05 0.1 0.4 0.5: P95 at index 3.8 is 0.5 - 0.1 * 0.2 = 0.48.
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.mean_itl_ms, 220.00000000000003);
  EXPECT_DOUBLE_EQ(metrics.median_itl_ms, 100.0);
  EXPECT_DOUBLE_EQ(metrics.p95_itl_ms, 480.0);
  EXPECT_DOUBLE_EQ(metrics.p99_itl_ms, 496.0);
  EXPECT_DOUBLE_EQ(metrics.max_itl_ms, 500.0);
}

TEST(CalculateMetrics, EndToEndAndConcurrency) {
  // E2E 0.3 0.2 1.2; concurrency = (0.3 + 0.2 + 1.2) / 2 = 0.85.
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.mean_e2e_latency_ms, 566.6666666666666);
  EXPECT_DOUBLE_EQ(metrics.median_e2e_latency_ms, 300.0);
  EXPECT_DOUBLE_EQ(metrics.p99_e2e_latency_ms, 1182.0);
  EXPECT_DOUBLE_EQ(metrics.concurrency, 0.85);
}

TEST(CalculateMetrics, PeaksUseOneSecondBuckets) {
  // Token times: A 0.1 0.15 0.2 0.3, B 0.7, C 1.5 1.9 2.4, so the buckets
  // [0,1) [1,2) [2,3) [3,4) hold 5 2 1 0 tokens. Live requests: A and B in
  // bucket 0, C in buckets 1 and 2, so the peak is 2.
  const BenchmarkMetrics metrics = trace_metrics();
  EXPECT_DOUBLE_EQ(metrics.max_output_tokens_per_s, 5.0);
  EXPECT_EQ(metrics.max_concurrent_requests, 2);
}

TEST(ComputePeakRates, LongRequestCountsInEverySecondItSpans) {
  // Buckets count from the earliest start, 0.5 s. One request from 0.5 s to
  // 3.7 s is live in buckets 0 to 3; a second from 1.0 s to 1.5 s is live in
  // buckets 0 and 1.
  const std::vector<RequestOutput> outputs = {make_output(0.5, 0.1, {1.0, 1.0}, 3.2, 3, ""),
                                              make_output(1.0, 0.2, {}, 0.5, 1, "")};
  const PeakRates peaks = compute_peak_rates(outputs);
  EXPECT_EQ(peaks.max_concurrent_requests, 2);
  // Token times 0.6, 1.6, 2.6 and 1.2 relative to 0.5: buckets 0, 1, 2 and 0.
  EXPECT_DOUBLE_EQ(peaks.max_output_tokens_per_s, 2.0);
}

TEST(ComputePeakRates, NoSuccessMeansZero) {
  const PeakRates peaks = compute_peak_rates({RequestOutput{}});
  EXPECT_DOUBLE_EQ(peaks.max_output_tokens_per_s, 0.0);
  EXPECT_EQ(peaks.max_concurrent_requests, 0);
}

TEST(CalculateMetrics, SingleTokenOutputsLeaveTpotAtZero) {
  const std::vector<BenchRequest> requests = {make_request(3), make_request(3)};
  const std::vector<RequestOutput> outputs = {make_output(0.0, 0.4, {}, 0.4, 1, "a"),
                                              make_output(0.0, 0.6, {}, 0.6, 1, "b")};
  const BenchmarkMetrics metrics =
      calculate_metrics(requests, outputs, 1.0, count_words, "sglang", std::nullopt);
  EXPECT_DOUBLE_EQ(metrics.mean_tpot_ms, 0.0);
  EXPECT_DOUBLE_EQ(metrics.p99_tpot_ms, 0.0);
  EXPECT_DOUBLE_EQ(metrics.mean_itl_ms, 0.0);
  EXPECT_DOUBLE_EQ(metrics.mean_ttft_ms, 500.0);
}

TEST(CalculateMetrics, SpeculativeChatSplitsGapsByRetokenizedChunk) {
  // With an accept length, sglang-oai-chat splits each 0.3 s gap over the
  // chunk's tokens: "b c d" gives three gaps of 0.1.
  RequestOutput output = make_output(0.0, 0.1, {0.3}, 0.4, 4, "a b c d");
  output.text_chunks = {"b c d"};
  const BenchmarkMetrics split =
      calculate_metrics({make_request(2)}, {output}, 1.0, count_words, "sglang-oai-chat", 2.5);
  EXPECT_NEAR(split.mean_itl_ms, 100.0, 1e-9);
  EXPECT_NEAR(split.max_itl_ms, 100.0, 1e-9);

  const BenchmarkMetrics unsplit =
      calculate_metrics({make_request(2)}, {output}, 1.0, count_words, "sglang", 2.5);
  EXPECT_NEAR(unsplit.mean_itl_ms, 300.0, 1e-9);
}

TEST(CalculateMetrics, RejectsMismatchedLengths) {
  EXPECT_THROW(calculate_metrics({make_request(1)}, {}, 1.0, count_words, "sglang", std::nullopt),
               std::invalid_argument);
}

}  // namespace
}  // namespace glyph::cli
