#include "cli/bench_metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cli/bench_statistics.h"

namespace glyph::cli {

namespace {

constexpr double kMillisecondsPerSecond = 1000.0;

// Python's int() of a non-negative float: truncation toward zero.
int64_t whole_seconds(double seconds) { return static_cast<int64_t>(std::trunc(seconds)); }

}  // namespace

PeakRates compute_peak_rates(const std::vector<RequestOutput>& outputs) {
  PeakRates peaks;
  double earliest_start = 0.0;
  double latest_end = 0.0;
  bool any_success = false;
  for (const RequestOutput& output : outputs) {
    if (!output.success) continue;
    const double end = output.start_time + output.latency;
    earliest_start = any_success ? std::min(earliest_start, output.start_time) : output.start_time;
    latest_end = any_success ? std::max(latest_end, end) : end;
    any_success = true;
  }
  if (!any_success) return peaks;

  const int64_t bucket_count = static_cast<int64_t>(std::ceil(latest_end - earliest_start)) + 1;
  std::vector<double> tokens_per_second(static_cast<size_t>(bucket_count), 0.0);
  std::vector<double> requests_per_second(static_cast<size_t>(bucket_count), 0.0);

  for (const RequestOutput& output : outputs) {
    if (!output.success) continue;

    // The first token arrives at start + TTFT, and each ITL gap adds one more.
    double token_time = output.start_time + output.ttft;
    const auto count_token = [&](double time) {
      const int64_t bucket = whole_seconds(time - earliest_start);
      if (bucket >= 0 && bucket < bucket_count) tokens_per_second[static_cast<size_t>(bucket)] += 1;
    };
    count_token(token_time);
    for (double gap : output.itl) {
      token_time += gap;
      count_token(token_time);
    }

    // A request is live in every bucket from its start to its end, both included.
    const int64_t first_second = whole_seconds(output.start_time - earliest_start);
    const int64_t last_second = whole_seconds(output.start_time + output.latency - earliest_start);
    for (int64_t second = first_second; second < std::min(last_second + 1, bucket_count);
         ++second) {
      requests_per_second[static_cast<size_t>(second)] += 1;
    }
  }

  peaks.max_output_tokens_per_s = stats::max(tokens_per_second);
  peaks.max_concurrent_requests = static_cast<int64_t>(stats::max(requests_per_second));
  return peaks;
}

BenchmarkMetrics calculate_metrics(const std::vector<BenchRequest>& requests,
                                   const std::vector<RequestOutput>& outputs, double duration_s,
                                   const TokenCounter& count_tokens, const std::string& backend,
                                   std::optional<double> accept_length) {
  if (requests.size() != outputs.size()) {
    throw std::invalid_argument("calculate_metrics: one output per request is expected");
  }

  const bool split_itl_by_retokenized_chunks =
      accept_length && *accept_length > 0 &&
      (backend == "sglang-oai" || backend == "sglang-oai-chat");

  BenchmarkMetrics metrics;
  std::vector<double> ttfts;
  std::vector<double> tpots;
  std::vector<double> itls;
  std::vector<double> e2e_latencies;
  int64_t total_output_retokenized = 0;

  for (size_t i = 0; i < outputs.size(); ++i) {
    const RequestOutput& output = outputs[i];
    if (!output.success) {
      metrics.output_lens.push_back(0);
      continue;
    }

    metrics.output_lens.push_back(output.output_len);
    total_output_retokenized += count_tokens(output.generated_text);
    metrics.total_input += requests[i].prompt_len;
    metrics.total_input_text += requests[i].prompt_len;
    if (output.output_len > 1) {
      tpots.push_back((output.latency - output.ttft) / static_cast<double>(output.output_len - 1));
    }

    if (split_itl_by_retokenized_chunks) {
      for (size_t k = 0; k < output.itl.size() && k < output.text_chunks.size(); ++k) {
        const int64_t chunk_tokens = count_tokens(output.text_chunks[k]);
        for (int64_t t = 0; t < chunk_tokens; ++t) {
          itls.push_back(output.itl[k] / static_cast<double>(chunk_tokens));
        }
      }
    } else {
      itls.insert(itls.end(), output.itl.begin(), output.itl.end());
    }

    ttfts.push_back(output.ttft);
    e2e_latencies.push_back(output.latency);
    ++metrics.completed;
  }

  int64_t total_output = 0;
  for (int64_t length : metrics.output_lens) total_output += length;
  metrics.total_output = total_output;
  metrics.total_output_retokenized = total_output_retokenized;

  const double seconds = duration_s;
  metrics.request_throughput = static_cast<double>(metrics.completed) / seconds;
  metrics.input_throughput = static_cast<double>(metrics.total_input) / seconds;
  metrics.output_throughput = static_cast<double>(total_output) / seconds;
  metrics.output_throughput_retokenized = static_cast<double>(total_output_retokenized) / seconds;
  metrics.total_throughput = static_cast<double>(metrics.total_input + total_output) / seconds;
  metrics.total_throughput_retokenized =
      static_cast<double>(metrics.total_input + total_output_retokenized) / seconds;

  const double ms = kMillisecondsPerSecond;
  metrics.mean_ttft_ms = stats::mean(ttfts) * ms;
  metrics.median_ttft_ms = stats::median(ttfts) * ms;
  metrics.std_ttft_ms = stats::standard_deviation(ttfts) * ms;
  metrics.p99_ttft_ms = stats::percentile(ttfts, 99) * ms;
  metrics.mean_tpot_ms = stats::mean(tpots) * ms;
  metrics.median_tpot_ms = stats::median(tpots) * ms;
  metrics.std_tpot_ms = stats::standard_deviation(tpots) * ms;
  metrics.p99_tpot_ms = stats::percentile(tpots, 99) * ms;
  metrics.mean_itl_ms = stats::mean(itls) * ms;
  metrics.median_itl_ms = stats::median(itls) * ms;
  metrics.std_itl_ms = stats::standard_deviation(itls) * ms;
  metrics.p95_itl_ms = stats::percentile(itls, 95) * ms;
  metrics.p99_itl_ms = stats::percentile(itls, 99) * ms;
  metrics.max_itl_ms = stats::max(itls) * ms;
  metrics.mean_e2e_latency_ms = stats::mean(e2e_latencies) * ms;
  metrics.median_e2e_latency_ms = stats::median(e2e_latencies) * ms;
  metrics.std_e2e_latency_ms = stats::standard_deviation(e2e_latencies) * ms;
  metrics.p99_e2e_latency_ms = stats::percentile(e2e_latencies, 99) * ms;
  metrics.concurrency = stats::sum(e2e_latencies) / seconds;

  const PeakRates peaks = compute_peak_rates(outputs);
  metrics.max_output_tokens_per_s = peaks.max_output_tokens_per_s;
  metrics.max_concurrent_requests = peaks.max_concurrent_requests;
  return metrics;
}

}  // namespace glyph::cli
