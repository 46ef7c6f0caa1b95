// The wire side of glyph bench: which route each --backend calls, the JSON
// body it posts, and how the streamed reply turns into TTFT and ITL samples.
//
// Behaviour follows SGLang 0.5.6's bench_serving request functions, with two
// deliberate differences. A chunk that carries an "error" object fails the
// request, where bench_serving ignores it and counts a truncated output. On
// the OpenAI routes, usage.completion_tokens is read from any chunk, not only
// from chunks that also carry text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::cli {

// The three request protocols. Each --backend name maps to one of them.
enum class BenchProtocol {
  kNativeGenerate,   // POST /generate (sglang, sglang-native)
  kCompletions,      // POST /v1/completions (sglang-oai, vllm, openai, lmdeploy)
  kChatCompletions,  // POST /v1/chat/completions (sglang-oai-chat, vllm-chat, openai-chat,
                     // lmdeploy-chat)
};

struct BackendInfo {
  BenchProtocol protocol;
  int default_port;  // bench_serving's default for this name when --port is not given.
};

// Looks up a --backend name. Returns nullopt for names glyph bench does not implement.
std::optional<BackendInfo> find_backend(std::string_view name);

// The --backend names find_backend accepts, for help text and errors.
const std::vector<std::string>& backend_names();

// The route a protocol posts to, relative to the base URL.
std::string request_path(BenchProtocol protocol);

// One prompt of the benchmark, as bench_serving's DatasetRow.
struct BenchRequest {
  std::string prompt;                              // Sent as text unless `prompt_ids` is set.
  std::optional<std::vector<int32_t>> prompt_ids;  // --tokenize-prompt: sent as input_ids.
  int64_t prompt_len = 0;                          // Counted as input tokens in the report.
  int64_t output_len = 0;                          // Requested max new tokens.
};

// Settings that shape every request body.
struct RequestSettings {
  BenchProtocol protocol = BenchProtocol::kNativeGenerate;
  std::string model;                                     // "model" of the OpenAI routes.
  bool stream = true;                                    // Not --disable-stream.
  bool ignore_eos = true;                                // Not --disable-ignore-eos.
  bool return_logprob = false;                           // --return-logprob (native route only).
  nlohmann::json extra_body = nlohmann::json::object();  // --extra-request-body, merged last.
};

// Builds the JSON body bench_serving posts for `request`. Keys of
// settings.extra_body replace top-level keys of the same name.
nlohmann::json build_request_body(const BenchRequest& request, const RequestSettings& settings);

// The outcome of one request, as bench_serving's RequestFuncOutput. Times are
// in seconds, and start_time is on the steady clock of the process.
struct RequestOutput {
  std::string generated_text;
  bool success = false;
  double latency = 0.0;                  // End-to-end: start to the last line received.
  double ttft = 0.0;                     // Start to the first chunk with text.
  std::vector<double> itl;               // Gaps between later chunks, per token on /generate.
  std::vector<std::string> text_chunks;  // Text of each chunk after the first (OpenAI routes).
  int64_t prompt_len = 0;
  std::string error;
  int64_t output_len = 0;  // Server-reported completion tokens, else requested.
  double start_time = 0.0;
};

// Turns the lines of one response body into a RequestOutput as they arrive.
//
// Streaming bodies are SSE: every non-empty line is a JSON chunk after an
// optional "data: " prefix, "[DONE]" ends the stream and lines starting with
// ':' are SSE comments. Non-streaming bodies are one JSON object.
class ResponseTimeline {
 public:
  ResponseTimeline(const RequestSettings& settings, const BenchRequest& request, double start_time);

  // Consumes one line received at `received_at` (seconds, same clock as
  // start_time). Throws std::runtime_error for a chunk that is not JSON or
  // that reports an error.
  void add_line(std::string_view line, double received_at);

  // Consumes a whole non-streaming body received at `received_at`.
  void add_body(std::string_view body, double received_at);

  // Returns the successful output. Throws std::runtime_error when the reply
  // contained no chunk at all.
  RequestOutput finish();

 private:
  void add_native_chunk(const nlohmann::json& chunk, double received_at);
  void add_completion_chunk(const nlohmann::json& chunk, double received_at);
  void add_chat_chunk(const nlohmann::json& chunk, double received_at);
  // Records one text-carrying chunk: the first sets TTFT, later ones add one ITL gap.
  void add_text_chunk(const std::string& text, double received_at);

  BenchProtocol protocol_;
  bool stream_;
  RequestOutput output_;
  double last_chunk_time_;       // bench_serving's most_recent_timestamp.
  int64_t last_output_len_ = 0;  // Completion tokens at the previous /generate chunk.
  bool saw_line_ = false;
  bool saw_first_text_ = false;
};

}  // namespace glyph::cli
