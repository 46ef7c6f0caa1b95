// The settings of one `glyph bench` run: SGLang 0.5.6 bench_serving's flags
// that glyph implements, with bench_serving's defaults.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "cli/bench_dataset.h"

namespace glyph::cli {

struct BenchOptions {
  std::string backend = "sglang";
  std::optional<std::string> base_url;  // Replaces http://{host}:{port} when set.
  // bench_serving's default host is 0.0.0.0, which Linux routes to the local
  // machine. 127.0.0.1 reaches the same server and names it plainly.
  std::string host = "127.0.0.1";
  std::optional<int> port;               // Default: the backend's port (30000 for sglang).
  std::optional<std::string> model;      // Default: data[0].id of GET /v1/models.
  std::optional<std::string> tokenizer;  // Directory with tokenizer.json, or the file itself.
  DatasetOptions dataset;
  double request_rate = std::numeric_limits<double>::infinity();  // Requests per second.
  std::optional<int64_t> max_concurrency;
  uint32_t seed = 1;
  int64_t warmup_requests = 1;
  bool disable_stream = false;
  bool disable_ignore_eos = false;
  bool return_logprob = false;
  bool flush_cache = false;
  bool disable_tqdm = false;
  bool output_details = false;
  std::optional<std::string> output_file;
  std::optional<std::string> extra_request_body;  // A JSON object merged into every request.
  std::optional<std::string> tag;
};

// An invalid flag value or combination. The message names the flag and the reason.
class BenchUsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checks what the flag parser cannot: value ranges and combinations.
// Throws BenchUsageError.
void check_bench_options(const BenchOptions& options);

}  // namespace glyph::cli
