#include "cli/bench_report.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace glyph::cli {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kBlockWidth = 50;

// One row: the label left-aligned in 40 columns, a space, the value
// left-aligned in 10 (Python's "{:<40} {:<10}").
std::string row(const std::string& label, const std::string& value) {
  return fmt::format("{:<40} {:<10}\n", label, value);
}

std::string int_row(const std::string& label, int64_t value) {
  return row(label, std::to_string(value));
}

// Python's "{:<10.2f}": fixed with two decimals, and nan and inf as Python spells them.
std::string float_row(const std::string& label, double value) {
  std::string text;
  if (std::isnan(value)) {
    text = "nan";
  } else if (std::isinf(value)) {
    text = value > 0 ? "inf" : "-inf";
  } else {
    text = fmt::format("{:.2f}", value);
  }
  return row(label, text);
}

template <typename T>
ordered_json optional_json(const std::optional<T>& value) {
  return value ? ordered_json(*value) : ordered_json(nullptr);
}

void write_float(double value, std::string& out) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "Infinity" : "-Infinity";
  } else {
    out += python_float_repr(value);
  }
}

void write_value(const ordered_json& value, std::string& out) {
  switch (value.type()) {
    case ordered_json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, member] : value.items()) {
        if (!first) out += ", ";
        first = false;
        out += ordered_json(key).dump(-1, ' ', /*ensure_ascii=*/true,
                                      ordered_json::error_handler_t::replace);
        out += ": ";
        write_value(member, out);
      }
      out += '}';
      return;
    }
    case ordered_json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ", ";
        first = false;
        write_value(element, out);
      }
      out += ']';
      return;
    }
    case ordered_json::value_t::number_float:
      write_float(value.get<double>(), out);
      return;
    default:
      out += value.dump(-1, ' ', /*ensure_ascii=*/true, ordered_json::error_handler_t::replace);
      return;
  }
}

}  // namespace

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";

  // Shortest round-trip digits in scientific form, e.g. "1.2345e+02".
  char buffer[64];
  const auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  if (result.ec != std::errc()) throw std::runtime_error("cannot format a double");
  const std::string scientific(buffer, result.ptr);

  const size_t exponent_at = scientific.find('e');
  std::string mantissa = scientific.substr(0, exponent_at);
  const int exponent = std::stoi(scientific.substr(exponent_at + 1));
  const bool negative = mantissa.front() == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits += c;
  }
  const std::string sign = negative ? "-" : "";

  if (exponent < -4 || exponent >= 16) {
    std::string text = sign + digits.substr(0, 1);
    if (digits.size() > 1) text += "." + digits.substr(1);
    return text + fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  }

  if (exponent < 0) {
    return sign + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  }
  const auto integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) {
    return sign + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  }
  return sign + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

std::string center(const std::string& text, size_t width, char fill) {
  if (text.size() >= width) return text;
  const size_t padding = width - text.size();
  const size_t left = padding / 2;
  return std::string(left, fill) + text + std::string(padding - left, fill);
}

std::string format_result_block(const ReportSettings& settings, const BenchmarkMetrics& metrics) {
  std::string block = "\n" + center(" Serving Benchmark Result ", kBlockWidth, '=') + "\n";
  block += row("Backend:", settings.backend);
  block += row("Traffic request rate:", python_float_repr(settings.request_rate));
  block += row("Max request concurrency:",
               settings.max_concurrency ? std::to_string(*settings.max_concurrency) : "not set");
  block += int_row("Successful requests:", metrics.completed);
  block += float_row("Benchmark duration (s):", settings.duration_s);
  block += int_row("Total input tokens:", metrics.total_input);
  block += int_row("Total input text tokens:", metrics.total_input_text);
  block += int_row("Total input vision tokens:", metrics.total_input_vision);
  block += int_row("Total generated tokens:", metrics.total_output);
  block += int_row("Total generated tokens (retokenized):", metrics.total_output_retokenized);
  block += float_row("Request throughput (req/s):", metrics.request_throughput);
  block += float_row("Input token throughput (tok/s):", metrics.input_throughput);
  block += float_row("Output token throughput (tok/s):", metrics.output_throughput);
  block += float_row("Peak output token throughput (tok/s):", metrics.max_output_tokens_per_s);
  block += int_row("Peak concurrent requests:", metrics.max_concurrent_requests);
  block += float_row("Total token throughput (tok/s):", metrics.total_throughput);
  block += float_row("Concurrency:", metrics.concurrency);
  // bench_serving prints the accept length only when it is a non-zero number.
  if (settings.accept_length && *settings.accept_length != 0.0) {
    block += float_row("Accept length:", *settings.accept_length);
  }

  block += center("End-to-End Latency", kBlockWidth, '-') + "\n";
  block += float_row("Mean E2E Latency (ms):", metrics.mean_e2e_latency_ms);
  block += float_row("Median E2E Latency (ms):", metrics.median_e2e_latency_ms);

  block += center("Time to First Token", kBlockWidth, '-') + "\n";
  block += float_row("Mean TTFT (ms):", metrics.mean_ttft_ms);
  block += float_row("Median TTFT (ms):", metrics.median_ttft_ms);
  block += float_row("P99 TTFT (ms):", metrics.p99_ttft_ms);

  block += center("Time per Output Token (excl. 1st token)", kBlockWidth, '-') + "\n";
  block += float_row("Mean TPOT (ms):", metrics.mean_tpot_ms);
  block += float_row("Median TPOT (ms):", metrics.median_tpot_ms);
  block += float_row("P99 TPOT (ms):", metrics.p99_tpot_ms);

  block += center("Inter-Token Latency", kBlockWidth, '-') + "\n";
  block += float_row("Mean ITL (ms):", metrics.mean_itl_ms);
  block += float_row("Median ITL (ms):", metrics.median_itl_ms);
  block += float_row("P95 ITL (ms):", metrics.p95_itl_ms);
  block += float_row("P99 ITL (ms):", metrics.p99_itl_ms);
  block += float_row("Max ITL (ms):", metrics.max_itl_ms);
  block += std::string(kBlockWidth, '=') + "\n";
  return block;
}

ordered_json make_result_record(const ReportSettings& settings, const BenchmarkMetrics& metrics,
                                const json& server_info,
                                const std::vector<RequestOutput>* details) {
  ordered_json record;
  record["tag"] = optional_json(settings.tag);
  record["backend"] = settings.backend;
  record["dataset_name"] = settings.dataset_name;
  record["request_rate"] = settings.request_rate;
  record["max_concurrency"] = optional_json(settings.max_concurrency);
  record["sharegpt_output_len"] = optional_json(settings.sharegpt_output_len);
  record["random_input_len"] = settings.random_input_len;
  record["random_output_len"] = settings.random_output_len;
  record["random_range_ratio"] = settings.random_range_ratio;
  record["server_info"] = server_info;
  record["duration"] = settings.duration_s;
  record["completed"] = metrics.completed;
  record["total_input_tokens"] = metrics.total_input;
  record["total_input_text_tokens"] = metrics.total_input_text;
  record["total_input_vision_tokens"] = metrics.total_input_vision;
  record["total_output_tokens"] = metrics.total_output;
  record["total_output_tokens_retokenized"] = metrics.total_output_retokenized;
  record["request_throughput"] = metrics.request_throughput;
  record["input_throughput"] = metrics.input_throughput;
  record["output_throughput"] = metrics.output_throughput;
  record["total_throughput"] = metrics.total_throughput;
  record["mean_e2e_latency_ms"] = metrics.mean_e2e_latency_ms;
  record["median_e2e_latency_ms"] = metrics.median_e2e_latency_ms;
  record["std_e2e_latency_ms"] = metrics.std_e2e_latency_ms;
  record["p99_e2e_latency_ms"] = metrics.p99_e2e_latency_ms;
  record["mean_ttft_ms"] = metrics.mean_ttft_ms;
  record["median_ttft_ms"] = metrics.median_ttft_ms;
  record["std_ttft_ms"] = metrics.std_ttft_ms;
  record["p99_ttft_ms"] = metrics.p99_ttft_ms;
  record["mean_tpot_ms"] = metrics.mean_tpot_ms;
  record["median_tpot_ms"] = metrics.median_tpot_ms;
  record["std_tpot_ms"] = metrics.std_tpot_ms;
  record["p99_tpot_ms"] = metrics.p99_tpot_ms;
  record["mean_itl_ms"] = metrics.mean_itl_ms;
  record["median_itl_ms"] = metrics.median_itl_ms;
  record["std_itl_ms"] = metrics.std_itl_ms;
  record["p95_itl_ms"] = metrics.p95_itl_ms;
  record["p99_itl_ms"] = metrics.p99_itl_ms;
  record["concurrency"] = metrics.concurrency;
  record["accept_length"] = optional_json(settings.accept_length);
  record["max_output_tokens_per_s"] = metrics.max_output_tokens_per_s;
  record["max_concurrent_requests"] = metrics.max_concurrent_requests;

  if (details != nullptr) {
    ordered_json input_lens = ordered_json::array();
    ordered_json ttfts = ordered_json::array();
    ordered_json itls = ordered_json::array();
    ordered_json texts = ordered_json::array();
    ordered_json errors = ordered_json::array();
    for (const RequestOutput& output : *details) {
      input_lens.push_back(output.prompt_len);
      ttfts.push_back(output.ttft);
      itls.push_back(output.itl);
      texts.push_back(output.generated_text);
      errors.push_back(output.error);
    }
    record["input_lens"] = std::move(input_lens);
    record["output_lens"] = metrics.output_lens;
    record["ttfts"] = std::move(ttfts);
    record["itls"] = std::move(itls);
    record["generated_texts"] = std::move(texts);
    record["errors"] = std::move(errors);
  }
  return record;
}

std::string python_json_dumps(const ordered_json& value) {
  std::string out;
  write_value(value, out);
  return out;
}

std::string default_output_file_name(const std::string& backend, const std::string& dataset_name,
                                     int64_t num_prompts, int64_t random_input_len,
                                     int64_t random_output_len, const std::string& month_day) {
  if (dataset_name.starts_with("random")) {
    return fmt::format("{}_{}_{}_{}_{}.jsonl", backend, month_day, num_prompts, random_input_len,
                       random_output_len);
  }
  return fmt::format("{}_{}_{}_{}.jsonl", backend, month_day, num_prompts, dataset_name);
}

}  // namespace glyph::cli
