// Everything `glyph serve` is started with, named after SGLang's server
// arguments (launch_server). The CLI fills it; the loader, the engine and the
// HTTP server read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace glyph::server {

struct ServeOptions {
  // Model and tokenizer.
  std::string model_path;
  std::string tokenizer_path;     // Empty: model_path.
  std::string served_model_name;  // Empty: model_path.
  std::string chat_template;      // Jinja file; empty: the model's own template.
  std::string load_format = "auto";  // auto, safetensors or dummy.
  std::string dtype = "auto";        // auto, bfloat16 or float32 (the FP32 reference path).
  int32_t context_length = 0;        // 0: the model's max_position_embeddings.
  std::optional<uint64_t> random_seed;

  // HTTP.
  std::string host = "127.0.0.1";
  int port = 30000;
  std::string api_key;  // Empty: no authentication.

  // Images: where image_url and image_data may read from, and limits.
  std::string allowed_local_media_path;  // Empty: no local files.
  bool allow_remote_media = false;       // Fetch http(s) image URLs.
  double media_fetch_timeout = 10.0;     // Seconds per fetched image.
  int32_t max_image_mb = 32;             // Encoded size of one image.
  int32_t vision_cache_mb = 1024;        // Cached vision-tower outputs.
  std::string render_font;               // rendered_text parts; empty: DejaVu Sans.

  // Output parsers.
  std::string reasoning_parser;  // Empty or glm45.
  std::string tool_call_parser;  // Empty, glm45 or glm; stored for the tool-call parser.

  // Parallelism and memory, accepted for SGLang compatibility; the engine
  // reads what it supports.
  int tp_size = 1;
  double mem_fraction_static = 0.0;   // 0: the backend's default.
  int32_t max_total_tokens = 0;       // 0: sized from memory.
  int32_t chunked_prefill_size = 0;   // 0: the engine's default; -1: no chunking.
  int32_t max_running_requests = 0;   // 0: no limit beyond the KV pool.
  int32_t max_queued_requests = 0;    // 0: no limit.
  int32_t page_size = 16;             // Tokens per KV cache page.
  std::string schedule_policy = "fcfs";  // fcfs or lpm.
  bool disable_radix_cache = false;
  bool enable_cache_report = false;   // Report usage.prompt_tokens_details.cached_tokens.
  bool enable_metrics = false;
  bool skip_server_warmup = false;

  std::string log_level = "info";

  // Test seam: lets chat requests carry "_scripted_output". Only the test
  // server binary sets it.
  bool allow_scripted_output = false;

  const std::string& effective_tokenizer_path() const {
    return tokenizer_path.empty() ? model_path : tokenizer_path;
  }
  const std::string& effective_served_model_name() const {
    return served_model_name.empty() ? model_path : served_model_name;
  }
};

}  // namespace glyph::server
