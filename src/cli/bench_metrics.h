// The numbers of glyph bench's report, defined as SGLang 0.5.6's
// bench_serving calculate_metrics defines them. All latency fields are in
// milliseconds; throughputs are per second of benchmark duration.
//
// Only successful requests count. TTFT runs from sending the request to the
// first chunk with text. TPOT is (E2E - TTFT) / (output tokens - 1) for
// requests with more than one output token. ITL samples are the gaps between
// later chunks. Concurrency is the sum of E2E latencies over the duration.
// The peaks bucket each output token (timed at start + TTFT, then cumulative
// ITL gaps) and each live request into whole seconds after the earliest start.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_backend.h"

namespace glyph::cli {

struct BenchmarkMetrics {
  int64_t completed = 0;
  int64_t total_input = 0;
  int64_t total_input_text = 0;
  int64_t total_input_vision = 0;  // Always 0: glyph bench sends no images.
  int64_t total_output = 0;
  int64_t total_output_retokenized = 0;
  double request_throughput = 0.0;
  double input_throughput = 0.0;
  double output_throughput = 0.0;
  double output_throughput_retokenized = 0.0;
  double total_throughput = 0.0;
  double total_throughput_retokenized = 0.0;
  double mean_ttft_ms = 0.0;
  double median_ttft_ms = 0.0;
  double std_ttft_ms = 0.0;
  double p99_ttft_ms = 0.0;
  double mean_tpot_ms = 0.0;
  double median_tpot_ms = 0.0;
  double std_tpot_ms = 0.0;
  double p99_tpot_ms = 0.0;
  double mean_itl_ms = 0.0;
  double median_itl_ms = 0.0;
  double std_itl_ms = 0.0;
  double p95_itl_ms = 0.0;
  double p99_itl_ms = 0.0;
  double max_itl_ms = 0.0;
  double mean_e2e_latency_ms = 0.0;
  double median_e2e_latency_ms = 0.0;
  double std_e2e_latency_ms = 0.0;
  double p99_e2e_latency_ms = 0.0;
  double concurrency = 0.0;
  double max_output_tokens_per_s = 0.0;
  int64_t max_concurrent_requests = 0;

  // Output tokens per request, 0 for failed ones, in request order.
  std::vector<int64_t> output_lens;
};

// Counts the tokens of generated text as tokenizer.encode(text,
// add_special_tokens=False) does, for the "(retokenized)" totals.
using TokenCounter = std::function<int64_t(const std::string& text)>;

// The highest per-second output token count and live request count. Returns
// zeros when no request succeeded.
struct PeakRates {
  double max_output_tokens_per_s = 0.0;
  int64_t max_concurrent_requests = 0;
};
PeakRates compute_peak_rates(const std::vector<RequestOutput>& outputs);

// Computes every metric from the outputs of one run that took `duration_s`
// seconds. `outputs[i]` is the result of `requests[i]`. With speculative decoding
// (`accept_length` > 0) and --backend sglang-oai or sglang-oai-chat, each ITL
// gap is split over the retokenized length of its chunk's text, as
// bench_serving does.
BenchmarkMetrics calculate_metrics(const std::vector<BenchRequest>& requests,
                                   const std::vector<RequestOutput>& outputs, double duration_s,
                                   const TokenCounter& count_tokens, const std::string& backend,
                                   std::optional<double> accept_length);

}  // namespace glyph::cli
