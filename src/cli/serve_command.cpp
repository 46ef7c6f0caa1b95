#include "cli/serve_command.h"

#include <csignal>
#include <thread>

#include <pthread.h>

#include "chat/reasoning_parser.h"
#include "cli/cli_app.h"
#include "core/log.h"
#include "server/http_server.h"
#include "server/serving_stack.h"

namespace glyph::cli {

namespace {

// A CLI11 check that accepts the reasoning parser names glyph implements.
CLI::Validator reasoning_parser_check() {
  return CLI::Validator(
      [](std::string& name) -> std::string {
        if (chat::is_known_reasoning_parser(name)) return {};
        return "unknown reasoning parser \"" + name +
               "\"; valid choices: " + chat::known_reasoning_parsers();
      },
      "{" + chat::known_reasoning_parsers() + "}");
}

CLI::Validator chunk_size_check() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value == "-1") return {};
        if (CLI::PositiveNumber(value).empty()) return {};
        return "must be a positive token count, or -1 to disable chunking; got " + value;
      },
      "");
}

// Accepts whole numbers above zero, with a message that says so (CLI11's
// own PositiveNumber prints the range up to the largest double).
CLI::Validator positive_integer() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
            value.find_first_not_of('0') != std::string::npos) {
          return {};
        }
        return "must be a positive whole number; got " + value;
      },
      "");
}

// Blocks SIGINT and SIGTERM in this thread and every thread it starts later,
// so that only the watcher thread receives them.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

void add_model_flags(CLI::App& command, server::ServeOptions& options) {
  command.add_option("--model-path,--model", options.model_path,
                     "Model directory (config.json, safetensors, tokenizer.json)")
      ->required();
  command.add_option("--tokenizer-path", options.tokenizer_path,
                     "Tokenizer directory (default: the model path)");
  command.add_option("--context-length", options.context_length,
                     "Context length in tokens (default: the model's max_position_embeddings)")
      ->check(positive_integer());
  command.add_option("--chat-template", options.chat_template,
                     "Jinja chat template file that replaces the model's own template")
      ->check(CLI::ExistingFile);
  command.add_option_function<uint64_t>(
      "--random-seed", [&options](const uint64_t& seed) { options.random_seed = seed; },
      "Seed for sampling and dummy weights (default: random)");
  command.add_option("--log-level", options.log_level, "Log level")
      ->check(CLI::IsMember({"debug", "info", "warning", "error", "critical"}))
      ->capture_default_str();
  command.add_option("--load-format", options.load_format,
                     "Weight format; dummy makes random weights from config.json")
      ->check(CLI::IsMember({"auto", "safetensors", "dummy"}))
      ->capture_default_str();
  command.add_option("--dtype", options.dtype,
                     "Compute type; float32 selects the FP32 reference path")
      ->check(CLI::IsMember({"auto", "bfloat16", "float32"}))
      ->capture_default_str();
  // Accepted so SGLang command lines work; glyph runs no model code from the hub.
  command.add_flag("--trust-remote-code")
      ->description("Accepted for SGLang compatibility; has no effect");
}

void add_serve_flags(CLI::App& command, server::ServeOptions& options) {
  add_model_flags(command, options);

  command.add_option("--host", options.host, "Address to listen on")->capture_default_str();
  command.add_option("--port", options.port, "Port to listen on")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  command.add_option("--served-model-name", options.served_model_name,
                     "Model name in /v1/models (default: the model path)");
  command.add_option("--api-key", options.api_key,
                     "Require \"Authorization: Bearer KEY\" on every route but /health");

  command.add_option("--allowed-local-media-path", options.allowed_local_media_path,
                     "Directory whose files image_url and image_data may name (default: none)")
      ->check(CLI::ExistingDirectory);
  command.add_flag("--allow-remote-media", options.allow_remote_media,
                   "Fetch http(s) image URLs (default: only data: URLs and allowed files)");
  command.add_option("--media-fetch-timeout", options.media_fetch_timeout,
                     "Seconds allowed to fetch one image URL")
      ->check(CLI::Range(0.1, 600.0))
      ->capture_default_str();
  command.add_option("--max-image-mb", options.max_image_mb,
                     "Largest encoded image accepted, in MiB")
      ->check(positive_integer())
      ->capture_default_str();
  command.add_option("--vision-cache-mb", options.vision_cache_mb,
                     "Memory for cached vision-tower outputs, in MiB")
      ->check(positive_integer())
      ->capture_default_str();

  command.add_option("--render-font", options.render_font,
                     "Font for rendered_text parts, e.g. Verdana.ttf (default: DejaVu Sans)")
      ->check(CLI::ExistingFile);

  command.add_option("--reasoning-parser", options.reasoning_parser,
                     "Split <think> reasoning into reasoning_content")
      ->check(reasoning_parser_check());
  command.add_option("--tool-call-parser", options.tool_call_parser, "Tool-call format")
      ->check(CLI::IsMember({"glm45", "glm"}));

  command.add_option("--tp-size,--tp", options.tp_size, "Tensor parallel size")
      ->check(positive_integer())
      ->capture_default_str();
  command.add_option("--mem-fraction-static", options.mem_fraction_static,
                     "Fraction of memory for the KV cache (default: the backend's choice)")
      ->check(CLI::Range(0.0, 1.0));
  command.add_option("--max-total-tokens", options.max_total_tokens,
                     "KV cache size in tokens (default: sized from memory)")
      ->check(positive_integer());
  command.add_option("--chunked-prefill-size", options.chunked_prefill_size,
                     "Prompt tokens per prefill step; -1 disables chunking")
      ->check(chunk_size_check());
  command.add_option("--max-running-requests", options.max_running_requests,
                     "Maximum number of requests decoding at once")
      ->check(positive_integer());
  command.add_option("--max-queued-requests", options.max_queued_requests,
                     "Maximum number of waiting requests; more get HTTP 503")
      ->check(positive_integer());
  command.add_option("--page-size", options.page_size, "Tokens per KV cache page")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  command.add_option("--schedule-policy", options.schedule_policy,
                     "Order of waiting requests: fcfs, or lpm (longest cached prefix first)")
      ->check(CLI::IsMember({"fcfs", "lpm"}))
      ->capture_default_str();
  command.add_flag("--disable-radix-cache", options.disable_radix_cache,
                   "Do not reuse the KV cache of shared prompt prefixes");

  command.add_flag("--enable-cache-report", options.enable_cache_report,
                   "Report cached prompt tokens in usage.prompt_tokens_details");
  command.add_flag("--enable-metrics", options.enable_metrics, "Enable Prometheus metrics");
  command.add_flag("--skip-server-warmup", options.skip_server_warmup,
                   "Skip the warm-up request at start-up");
}

void check_serve_options(const server::ServeOptions& options) {
  if (options.tp_size != 1) {
    throw UsageError("--tp-size " + std::to_string(options.tp_size) +
                     " is not supported: the CPU backend runs a single rank; use --tp-size 1");
  }
}

int run_serve(const server::ServeOptions& options) {
  const sigset_t stop_signals = block_stop_signals();

  std::unique_ptr<server::ServingStack> stack = server::load_serving_stack(options);
  if (!options.skip_server_warmup) {
    server::run_warmup(*stack);
    log::info("Warm-up request finished");
  }

  server::HttpServer http(*stack);
  if (!http.bind()) return kExitFailure;

  std::thread([&http, stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    log::info("Received signal {}; shutting down", signal);
    http.stop();
  }).detach();
  http.serve();
  return 0;
}

}  // namespace glyph::cli
