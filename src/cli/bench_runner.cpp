#include "cli/bench_runner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/bench_backend.h"
#include "cli/bench_metrics.h"
#include "cli/bench_progress_bar.h"
#include "cli/bench_random.h"
#include "cli/bench_report.h"
#include "cli/http_client.h"
#include "text/tokenizer.h"

namespace glyph::cli {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// bench_serving caps warmup requests at 32 output tokens.
constexpr int64_t kWarmupMaxOutputLen = 32;

// Seconds on the steady clock. Only differences between readings are meaningful.
double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A failure that ends the run with exit code 1 after its message is printed.
class BenchFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Sends one request and times its reply. Every failure is returned as the output's error.
RequestOutput send_request(const HttpClient& client, const RequestSettings& settings,
                           const BenchRequest& request) {
  const std::string path = request_path(settings.protocol);
  const json body = build_request_body(request, settings);
  const double start = now_seconds();
  ResponseTimeline timeline(settings, request, start);

  RequestOutput failed;
  failed.prompt_len = request.prompt_len;
  failed.start_time = start;
  try {
    HttpResponse response;
    if (settings.stream) {
      response = client.post_json_lines(
          path, body, [&](std::string_view line) { timeline.add_line(line, now_seconds()); });
    } else {
      response = client.post_json(path, body);
      if (response.status == 200) timeline.add_body(response.body, now_seconds());
    }
    if (response.status != 200) {
      failed.error = fmt::format("HTTP {} {}: {}", response.status, response.reason, response.body);
      return failed;
    }
    return timeline.finish();
  } catch (const std::exception& error) {
    failed.error = error.what();
    return failed;
  }
}

// Sends all `requests` at once, one thread each, for the warmup.
std::vector<RequestOutput> send_all_at_once(const HttpClient& client,
                                            const RequestSettings& settings,
                                            const std::vector<BenchRequest>& requests) {
  std::vector<RequestOutput> outputs(requests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < requests.size(); ++i) {
    threads.emplace_back([&, i] { outputs[i] = send_request(client, settings, requests[i]); });
  }
  for (std::thread& thread : threads) thread.join();
  return outputs;
}

// Sends every request with bench_serving's arrival process. For an infinite
// rate every request joins the queue at once. Otherwise an exponential gap
// with mean 1/rate, drawn from the shared numpy stream, follows each one. At
// most `max_concurrency` requests are in flight, and the others wait in
// arrival order.
std::vector<RequestOutput> run_requests(const HttpClient& client, const RequestSettings& settings,
                                        const std::vector<BenchRequest>& requests,
                                        double request_rate, std::optional<int64_t> max_concurrency,
                                        NumpyRandomState& random, ProgressBar& progress) {
  std::vector<RequestOutput> outputs(requests.size());
  std::mutex mutex;
  std::condition_variable arrived;
  std::deque<size_t> queue;
  bool all_arrived = false;

  const auto worker = [&] {
    while (true) {
      size_t index = 0;
      {
        std::unique_lock lock(mutex);
        arrived.wait(lock, [&] { return !queue.empty() || all_arrived; });
        if (queue.empty()) return;
        index = queue.front();
        queue.pop_front();
      }
      outputs[index] = send_request(client, settings, requests[index]);
      progress.advance();
    }
  };

  const size_t worker_count = max_concurrency
                                  ? std::min(requests.size(), static_cast<size_t>(*max_concurrency))
                                  : requests.size();
  std::vector<std::thread> workers;
  for (size_t i = 0; i < worker_count; ++i) workers.emplace_back(worker);

  for (size_t i = 0; i < requests.size(); ++i) {
    {
      std::lock_guard lock(mutex);
      queue.push_back(i);
    }
    arrived.notify_one();
    if (std::isinf(request_rate)) continue;
    const double gap = random.exponential(1.0 / request_rate);
    std::this_thread::sleep_for(std::chrono::duration<double>(gap));
  }
  {
    std::lock_guard lock(mutex);
    all_arrived = true;
  }
  arrived.notify_all();
  for (std::thread& thread : workers) thread.join();
  return outputs;
}

std::string base_url_of(const BenchOptions& options, const BackendInfo& backend) {
  if (options.base_url) return *options.base_url;
  return fmt::format("http://{}:{}", options.host, options.port.value_or(backend.default_port));
}

// Fetches `path` as JSON. Returns nullopt unless the reply is HTTP 200 with a JSON body.
std::optional<json> get_json(const HttpClient& client, const std::string& path) {
  try {
    const HttpResponse response = client.get(path);
    if (response.status != 200) return std::nullopt;
    json value = json::parse(response.body, nullptr, false);
    if (value.is_discarded()) return std::nullopt;
    return value;
  } catch (const HttpError&) {
    return std::nullopt;
  }
}

// bench_serving's default model: the first id of GET /v1/models.
std::string discover_model(const HttpClient& client) {
  try {
    const HttpResponse response = client.get("/v1/models");
    const json models = json::parse(response.body, nullptr, false);
    if (response.status == 200 && models.is_object() && models.contains("data") &&
        models["data"].is_array() && !models["data"].empty() && models["data"][0].contains("id")) {
      return models["data"][0]["id"].get<std::string>();
    }
    throw BenchFailure(fmt::format("GET {} returned no model (HTTP {}); pass --model",
                                   client.url("/v1/models"), response.status));
  } catch (const HttpError& error) {
    throw BenchFailure(
        fmt::format("{} The address comes from --host and --port, or --base-url.", error.what()));
  }
}

// tokenizer.json inside `candidate`, or `candidate` itself when it is the file.
std::optional<fs::path> tokenizer_file_in(const std::string& candidate) {
  std::error_code error;
  const fs::path path(candidate);
  if (fs::is_directory(path, error) && fs::is_regular_file(path / "tokenizer.json", error)) {
    return path / "tokenizer.json";
  }
  if (fs::is_regular_file(path, error) && path.extension() == ".json") return path;
  return std::nullopt;
}

// --tokenizer, else --model when it is a local directory, else the server's
// own tokenizer or model path when this machine has it.
fs::path resolve_tokenizer(const BenchOptions& options, const std::string& model,
                           const HttpClient& client) {
  if (options.tokenizer) {
    if (auto file = tokenizer_file_in(*options.tokenizer)) return *file;
    throw BenchFailure(fmt::format(
        "--tokenizer {} is neither a tokenizer.json file nor a directory that contains one",
        *options.tokenizer));
  }
  if (auto file = tokenizer_file_in(model)) return *file;

  if (const auto info = get_json(client, "/get_model_info")) {
    for (const char* key : {"tokenizer_path", "model_path"}) {
      if (!info->contains(key) || !(*info)[key].is_string()) continue;
      if (auto file = tokenizer_file_in((*info)[key].get<std::string>())) return *file;
    }
  }
  throw BenchFailure(fmt::format(
      "no tokenizer found for model \"{}\"; pass --tokenizer with the model directory or its "
      "tokenizer.json (glyph bench does not download tokenizers)",
      model));
}

void warm_up(const HttpClient& client, const RequestSettings& settings,
             const BenchRequest& first_request, int64_t warmup_requests, std::ostream& out) {
  out << fmt::format("Starting warmup with {} sequences...\n", warmup_requests) << std::flush;
  BenchRequest warmup = first_request;
  warmup.output_len = std::min(first_request.output_len, kWarmupMaxOutputLen);
  const std::vector<RequestOutput> outputs = send_all_at_once(
      client, settings, std::vector<BenchRequest>(static_cast<size_t>(warmup_requests), warmup));

  bool any_success = outputs.empty();
  for (const RequestOutput& output : outputs) any_success = any_success || output.success;
  if (!any_success) {
    throw BenchFailure(fmt::format(
        "Warmup failed - Please make sure benchmark arguments are correctly specified. Error: {}",
        outputs.front().error));
  }
  out << fmt::format("Warmup completed with {} sequences. Starting main benchmark run...\n",
                     warmup_requests)
      << std::flush;
}

// avg_spec_accept_length of /get_server_info, when the server decodes speculatively.
std::optional<double> read_accept_length(const std::optional<json>& server_info) {
  if (!server_info || !server_info->is_object()) return std::nullopt;
  const json* info = &*server_info;
  if (info->contains("decode") && (*info)["decode"].is_array() && !(*info)["decode"].empty()) {
    info = &(*info)["decode"][0];
  }
  if (!info->contains("internal_states")) return std::nullopt;
  const json& states = (*info)["internal_states"];
  if (!states.is_array() || states.empty() || !states[0].is_object()) return std::nullopt;
  const auto found = states[0].find("avg_spec_accept_length");
  if (found == states[0].end() || !found->is_number()) return std::nullopt;
  return found->get<double>();
}

void report_failures(const std::vector<RequestOutput>& outputs) {
  size_t failed = 0;
  const RequestOutput* first = nullptr;
  for (const RequestOutput& output : outputs) {
    if (output.success) continue;
    ++failed;
    if (first == nullptr) first = &output;
  }
  if (failed == 0) return;
  std::fprintf(stderr, "%zu of %zu requests failed. The first error: %s\n", failed, outputs.size(),
               first->error.c_str());
}

std::string month_day_today() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[8];
  std::strftime(text, sizeof(text), "%m%d", &local);
  return text;
}

void append_record(const BenchOptions& options, const std::string& line) {
  const std::string path = options.output_file.value_or(default_output_file_name(
      options.backend, options.dataset.name, options.dataset.num_prompts,
      options.dataset.random_input_len, options.dataset.random_output_len, month_day_today()));
  std::ofstream file(path, std::ios::app);
  if (!file) throw BenchFailure(fmt::format("cannot open the output file {} for appending", path));
  file << line << "\n";
}

RequestSettings make_request_settings(const BenchOptions& options, BenchProtocol protocol,
                                      const std::string& model) {
  RequestSettings settings;
  settings.protocol = protocol;
  settings.model = model;
  settings.stream = !options.disable_stream;
  settings.ignore_eos = !options.disable_ignore_eos;
  settings.return_logprob = options.return_logprob;
  if (options.extra_request_body) settings.extra_body = json::parse(*options.extra_request_body);
  return settings;
}

ReportSettings make_report_settings(const BenchOptions& options, double duration,
                                    std::optional<double> accept_length) {
  ReportSettings report;
  report.backend = options.backend;
  report.dataset_name = options.dataset.name;
  report.request_rate = options.request_rate;
  report.max_concurrency = options.max_concurrency;
  report.sharegpt_output_len = options.dataset.sharegpt_output_len;
  report.random_input_len = options.dataset.random_input_len;
  report.random_output_len = options.dataset.random_output_len;
  report.random_range_ratio = options.dataset.random_range_ratio;
  report.tag = options.tag;
  report.duration_s = duration;
  report.accept_length = accept_length;
  return report;
}

// POST /flush_cache for --flush-cache, or for an sglang backend when
// SGLANG_IS_IN_CI is true, as bench_serving does. A failure only warns.
void flush_cache_if_requested(const BenchOptions& options, const HttpClient& client) {
  const char* in_ci = std::getenv("SGLANG_IS_IN_CI");
  const bool sglang_ci =
      in_ci != nullptr && (std::string(in_ci) == "true" || std::string(in_ci) == "1");
  const bool is_sglang_backend = options.backend.find("sglang") != std::string::npos;
  if (!options.flush_cache && !(is_sglang_backend && sglang_ci)) return;
  try {
    client.post_json("/flush_cache", json::object());
  } catch (const HttpError& error) {
    std::fprintf(stderr, "warning: %s\n", error.what());
  }
}

void print_requested_totals(const std::vector<BenchRequest>& requests, std::ostream& out) {
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  for (const BenchRequest& request : requests) {
    input_tokens += request.prompt_len;
    output_tokens += request.output_len;
  }
  out << fmt::format("#Input tokens: {}\n#Output tokens: {}\n", input_tokens, output_tokens);
}

int run_checked(const BenchOptions& options, std::ostream& out) {
  const BackendInfo backend = *find_backend(options.backend);
  const HttpClient client(base_url_of(options, backend), auth_headers_from_environment());

  const std::string model = options.model ? *options.model : discover_model(client);
  const fs::path tokenizer_path = resolve_tokenizer(options, model, client);
  const std::unique_ptr<text::Tokenizer> tokenizer = text::Tokenizer::load(tokenizer_path);

  // bench_serving seeds numpy and Python's random with --seed before sampling.
  NumpyRandomState numpy_random(options.seed);
  PythonRandom python_random(options.seed);
  const std::vector<BenchRequest> requests =
      sample_requests(options.dataset, *tokenizer, base_vocab_size(tokenizer_path.string()),
                      numpy_random, python_random);
  if (requests.empty()) throw BenchFailure("the dataset produced no request");
  print_requested_totals(requests, out);

  const RequestSettings settings = make_request_settings(options, backend.protocol, model);
  warm_up(client, settings, requests.front(), options.warmup_requests, out);
  flush_cache_if_requested(options, client);
  std::this_thread::sleep_for(std::chrono::seconds(1));

  const double benchmark_start = now_seconds();
  std::vector<RequestOutput> outputs;
  {
    ProgressBar progress(static_cast<int64_t>(requests.size()), !options.disable_tqdm);
    outputs = run_requests(client, settings, requests, options.request_rate,
                           options.max_concurrency, numpy_random, progress);
  }

  // bench_serving reads the accept length before it stops the clock.
  std::optional<double> accept_length;
  if (options.backend.find("sglang") != std::string::npos) {
    accept_length = read_accept_length(get_json(client, "/get_server_info"));
  }
  const double duration = now_seconds() - benchmark_start;

  report_failures(outputs);
  const TokenCounter count_tokens = [&](const std::string& text) {
    return static_cast<int64_t>(tokenizer->encode(text).size());
  };
  const BenchmarkMetrics metrics =
      calculate_metrics(requests, outputs, duration, count_tokens, options.backend, accept_length);
  if (metrics.completed == 0) {
    throw BenchFailure(fmt::format("all {} requests failed; no result to report", outputs.size()));
  }

  const ReportSettings report = make_report_settings(options, duration, accept_length);
  out << format_result_block(report, metrics) << std::flush;

  const json server_info = get_json(client, "/get_server_info").value_or(json(nullptr));
  const auto record =
      make_result_record(report, metrics, server_info, options.output_details ? &outputs : nullptr);
  append_record(options, python_json_dumps(record));
  return 0;
}

}  // namespace

int run_bench(const BenchOptions& options, std::ostream& out) {
  check_bench_options(options);
  try {
    return run_checked(options, out);
  } catch (const BenchUsageError&) {
    throw;
  } catch (const std::exception& error) {
    out << std::flush;
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
}

}  // namespace glyph::cli
