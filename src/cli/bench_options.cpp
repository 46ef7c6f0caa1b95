#include "cli/bench_options.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/bench_backend.h"

namespace glyph::cli {

void check_bench_options(const BenchOptions& options) {
  const std::optional<BackendInfo> backend = find_backend(options.backend);
  if (!backend) {
    throw BenchUsageError(fmt::format("unknown --backend \"{}\"; use one of: {}", options.backend,
                                      fmt::join(backend_names(), ", ")));
  }

  const DatasetOptions& dataset = options.dataset;
  if (dataset.name != "random" && dataset.name != "random-ids" && dataset.name != "sharegpt") {
    throw BenchUsageError(fmt::format(
        "unknown --dataset-name \"{}\"; use random, random-ids or sharegpt", dataset.name));
  }
  if (dataset.num_prompts < 1) {
    throw BenchUsageError(fmt::format("--num-prompts {} must be at least 1", dataset.num_prompts));
  }
  if (dataset.random_input_len < 1 || dataset.random_output_len < 1) {
    throw BenchUsageError(
        fmt::format("--random-input-len {} and --random-output-len {} must both be at least 1",
                    dataset.random_input_len, dataset.random_output_len));
  }
  if (!(dataset.random_range_ratio >= 0.0 && dataset.random_range_ratio <= 1.0)) {
    throw BenchUsageError(
        fmt::format("--random-range-ratio {} is outside [0, 1]; lengths are drawn from "
                    "[max(1, int(len * ratio)), len]",
                    dataset.random_range_ratio));
  }
  if (dataset.tokenize_prompt &&
      (backend->protocol != BenchProtocol::kNativeGenerate || dataset.name == "sharegpt")) {
    throw BenchUsageError(
        "--tokenize-prompt needs --backend sglang and --dataset-name random or random-ids");
  }

  if (!(options.request_rate > 0.0)) {
    throw BenchUsageError(
        fmt::format("--request-rate {} must be a positive number of requests per second, or inf",
                    options.request_rate));
  }
  if (options.max_concurrency && *options.max_concurrency < 1) {
    throw BenchUsageError(
        fmt::format("--max-concurrency {} must be at least 1", *options.max_concurrency));
  }
  if (options.warmup_requests < 0) {
    throw BenchUsageError(
        fmt::format("--warmup-requests {} must not be negative", options.warmup_requests));
  }
  if (options.port && (*options.port < 1 || *options.port > 65535)) {
    throw BenchUsageError(fmt::format("--port {} is outside [1, 65535]", *options.port));
  }
  if (options.extra_request_body) {
    const auto extra = nlohmann::json::parse(*options.extra_request_body, nullptr, false);
    if (extra.is_discarded() || !extra.is_object()) {
      throw BenchUsageError(fmt::format(
          "--extra-request-body must be a JSON object such as '{{\"top_p\": 0.9}}'; got {}",
          *options.extra_request_body));
    }
  }
}

}  // namespace glyph::cli
