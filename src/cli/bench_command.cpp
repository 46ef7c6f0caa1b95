#include "cli/bench_command.h"

#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/bench_backend.h"
#include "cli/bench_runner.h"

namespace glyph::cli {

namespace {

// Reads --request-rate as Python's float() does for the values that make
// sense here: a positive number or "inf".
double parse_request_rate(const std::string& text) {
  size_t used = 0;
  double rate = 0.0;
  try {
    rate = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !(rate > 0.0)) {
    throw CLI::ValidationError(
        "--request-rate",
        fmt::format("{} is not a positive number of requests per second or inf", text));
  }
  return rate;
}

}  // namespace

void add_bench_flags(CLI::App& command, BenchOptions& options) {
  command.add_option("--backend", options.backend, "Server API to benchmark")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  command.add_option_function<std::string>(
      "--base-url", [&options](const std::string& url) { options.base_url = url; },
      "Server URL, replacing http://HOST:PORT");
  command.add_option("--host", options.host, "Server host")->capture_default_str();
  command.add_option_function<int>(
      "--port", [&options](const int& port) { options.port = port; },
      "Server port (default: 30000 for the sglang backends, 8000 for vllm, 23333 for lmdeploy)");
  command.add_option_function<std::string>(
      "--model", [&options](const std::string& model) { options.model = model; },
      "Model name sent to the OpenAI routes (default: the first id of GET /v1/models)");
  command.add_option_function<std::string>(
      "--tokenizer", [&options](const std::string& path) { options.tokenizer = path; },
      "Model directory or tokenizer.json that samples prompts and counts output tokens "
      "(default: --model, then the server's model path, when this machine has them)");

  DatasetOptions& dataset = options.dataset;
  command.add_option("--dataset-name", dataset.name, "Prompt source")
      ->check(CLI::IsMember({"random", "random-ids", "sharegpt"}))
      ->capture_default_str();
  command.add_option("--dataset-path", dataset.path,
                     "ShareGPT JSON file, or a text file whose paragraphs are prompts (random)");
  command.add_option("--num-prompts,--num-prompt", dataset.num_prompts, "Number of requests")
      ->capture_default_str();
  command
      .add_option("--random-input-len,--random-input", dataset.random_input_len,
                  "Input tokens per request for the random datasets")
      ->capture_default_str();
  command
      .add_option("--random-output-len,--random-output", dataset.random_output_len,
                  "Output tokens per request for the random datasets")
      ->capture_default_str();
  command
      .add_option("--random-range-ratio", dataset.random_range_ratio,
                  "Lengths are drawn uniformly from [max(1, int(len * ratio)), len]")
      ->capture_default_str();
  command.add_option_function<int64_t>(
      "--sharegpt-output-len",
      [&dataset](const int64_t& length) { dataset.sharegpt_output_len = length; },
      "Output tokens per request for sharegpt, replacing each reply's length");
  command.add_option_function<int64_t>(
      "--sharegpt-context-len",
      [&dataset](const int64_t& length) { dataset.sharegpt_context_len = length; },
      "Drop sharegpt pairs whose prompt and output exceed this many tokens");
  command.add_flag("--tokenize-prompt", dataset.tokenize_prompt,
                   "Send token ids (input_ids) instead of text; sglang backend only");

  command.add_option_function<std::string>(
      "--request-rate",
      [&options](const std::string& text) { options.request_rate = parse_request_rate(text); },
      "Requests per second with Poisson arrivals, or inf to send all at once (default: inf)");
  command.add_option_function<int64_t>(
      "--max-concurrency",
      [&options](const int64_t& limit) {
        // bench_serving treats 0 like an absent limit.
        if (limit != 0) options.max_concurrency = limit;
      },
      "Most requests in flight at once (default: no limit)");
  command.add_option("--seed", options.seed, "Seed of the length, prompt and arrival draws")
      ->capture_default_str();
  command
      .add_option("--warmup-requests", options.warmup_requests,
                  "Requests sent before the measured run, with at most 32 output tokens")
      ->capture_default_str();
  command.add_flag("--disable-stream", options.disable_stream,
                   "Send non-streaming requests; TTFT then equals the whole latency");
  command.add_flag("--disable-ignore-eos", options.disable_ignore_eos,
                   "Let requests stop at EOS instead of generating every requested token");
  command.add_flag("--return-logprob", options.return_logprob,
                   "Ask /generate for logprobs (sglang backend)");
  command.add_flag("--flush-cache", options.flush_cache, "POST /flush_cache after the warmup");
  command.add_flag("--disable-tqdm", options.disable_tqdm, "Do not draw the progress bar");
  command.add_option_function<std::string>(
      "--output-file", [&options](const std::string& path) { options.output_file = path; },
      "JSONL file the result record is appended to "
      "(default: BACKEND_MMDD_PROMPTS_IN_OUT.jsonl for the random datasets)");
  command.add_flag("--output-details", options.output_details,
                   "Add per-request lengths, TTFTs, ITLs, texts and errors to the record");
  command.add_option_function<std::string>(
      "--extra-request-body",
      [&options](const std::string& body) { options.extra_request_body = body; },
      "JSON object merged into every request body, e.g. '{\"top_p\": 0.9}'");
  command.add_option_function<std::string>(
      "--tag", [&options](const std::string& tag) { options.tag = tag; },
      "Label written to the record's \"tag\"");
}

void add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* bench = app.add_subcommand(
      "bench", "Benchmark a running server (SGLang's bench_serving flags and report)");
  add_bench_flags(*bench, *options);
  bench->callback([options] {
    int exit_code = 0;
    try {
      exit_code = run_bench(*options, std::cout);
    } catch (const BenchUsageError& error) {
      throw CLI::ValidationError(error.what());
    }
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace glyph::cli
