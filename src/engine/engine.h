// The engine: owns the model, the KV pool, the prefix cache and the
// scheduler thread. HTTP threads submit requests and read results from a
// per-request channel; they never touch tensors, and the scheduler never
// blocks on a socket.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/token_constraint.h"
#include "engine/latency_histogram.h"
#include "engine/sampling.h"
#include "model/text_model.h"
#include "text/tokenizer.h"

namespace glyph::engine {

enum class FinishReason { kNone, kStop, kLength, kAbort };

// SGLang's name for a finish reason ("stop", "length", "abort"); null for kNone.
const char* to_string(FinishReason reason);

// One step of a request's output. Text is already detokenized, with stop
// strings trimmed and text that could still become a stop string held back.
struct OutputEvent {
  std::string text;                // New text since the previous event.
  std::vector<int32_t> token_ids;  // Tokens generated since the previous event.
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;   // Total so far.
  int32_t cached_tokens = 0;       // Prompt tokens served from the prefix cache.
  FinishReason finish_reason = FinishReason::kNone;
  // The stop that ended the request: a token id or a stop string (SGLang's matched_stop).
  std::variant<std::monostate, int32_t, std::string> matched_stop;
  std::string error;               // Set when the request failed inside the engine.
  // With GenerateRequest::return_logprob: the log-probability of each token
  // in token_ids under the model's raw logits (before penalties and temperature).
  std::vector<float> token_logprobs;
};

// A request's output queue, written by the scheduler and read by one HTTP thread.
class OutputChannel {
 public:
  void push(OutputEvent event);
  // Blocks until an event is available; returns all pending events in order.
  std::vector<OutputEvent> wait();
  // As wait(), but returns an empty list once timeout passes with no event.
  std::vector<OutputEvent> wait_for(std::chrono::milliseconds timeout);
  // Asks the scheduler to stop this request (client gone); safe from any thread.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<OutputEvent> events_;
  std::atomic<bool> cancelled_{false};
};

// Rows that replace the embeddings of a run of prompt tokens: an image's
// vision output in place of its <|image|> placeholders.
struct PromptEmbeddings {
  int32_t offset = 0;  // First prompt token replaced.
  int32_t count = 0;   // Tokens replaced.
  std::shared_ptr<const std::vector<float>> rows;  // FP32 [count, hidden_size].
};

struct GenerateRequest {
  std::string id;  // For logs.
  std::vector<int32_t> prompt;
  // Prefix-cache keys, one per prompt token; empty means the prompt itself.
  // Image placeholders get keys derived from the image's content, so that
  // prompts with different images never share KV.
  std::vector<int32_t> cache_key;
  std::vector<PromptEmbeddings> embeddings;  // In prompt order, not overlapping.
  // M-RoPE (t, h, w) for each prompt token, [prompt, 3]; empty: text
  // positions 0, 1, ... Generated token i then sits at i + rope_delta, where
  // rope_delta = largest prompt position + 1 - prompt length.
  std::vector<int32_t> positions;
  SamplingParams sampling;
  bool return_logprob = false;
  // Limits the tokens that may be generated (tool_choice "required", a named
  // tool). Once complete, the request ends with the model's eos token.
  std::shared_ptr<TokenConstraint> constraint;
  // Test seam: emit exactly these tokens instead of sampling. Honoured only
  // when EngineOptions::allow_scripted_output is set, which only test
  // binaries do.
  std::optional<std::vector<int32_t>> scripted_output;
};

enum class SchedulePolicy { kFcfs, kLpm };

struct EngineOptions {
  int32_t context_length = 0;         // 0: the model's max_position_embeddings.
  int32_t kv_page_size = 16;
  int32_t chunked_prefill_size = 2048;  // Prompt tokens per forward pass; -1: no limit.
  int32_t max_running_requests = 0;   // 0: as many as the KV pool admits.
  int32_t max_queued_requests = 0;    // 0: no limit.
  int32_t max_total_tokens = 0;       // KV pool size in tokens; 0: fit the memory budget.
  double mem_fraction_static = 0.0;   // 0: the CPU default.
  SchedulePolicy schedule_policy = SchedulePolicy::kFcfs;
  bool disable_radix_cache = false;
  std::optional<uint64_t> random_seed;
  bool allow_scripted_output = false;
};

// Counters for /get_server_info and /metrics, read without locking.
struct EngineStats {
  std::atomic<int32_t> running_requests{0};
  std::atomic<int32_t> queued_requests{0};
  std::atomic<int32_t> used_pages{0};
  std::atomic<int32_t> cached_pages{0};
  std::atomic<int64_t> prompt_tokens_total{0};
  std::atomic<int64_t> generation_tokens_total{0};
  std::atomic<int64_t> cached_tokens_total{0};
  std::atomic<int64_t> requests_total{0};
  std::atomic<int64_t> retractions_total{0};
  std::atomic<int64_t> aborted_requests_total{0};
  // Bucket bounds as SGLang's metrics use them.
  LatencyHistogram time_to_first_token{{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60,
                                        80, 100, 200, 400}};
  LatencyHistogram inter_token_latency{{0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035,
                                        0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5,
                                        10}};
  LatencyHistogram e2e_request_latency{{0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40,
                                        60, 80, 100, 200, 400, 800}};
};

class Engine {
 public:
  Engine(std::unique_ptr<model::TextModel> model, std::shared_ptr<const text::Tokenizer> tokenizer,
         EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; its events arrive on the returned channel. Throws
  // glyph::Error(kInvalidRequest) when the prompt does not fit the context
  // and glyph::Error(kUnavailable) when the queue is full.
  std::shared_ptr<OutputChannel> submit(GenerateRequest request);

  // Drops every cached prefix page no request holds (POST /flush_cache);
  // returns once the scheduler has done it.
  void flush_cache();

  const model::ModelConfig& model_config() const;
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  const EngineOptions& options() const { return options_; }
  int32_t context_length() const { return context_length_; }
  int32_t kv_pool_tokens() const { return total_pages_ * page_size_; }
  int32_t kv_total_pages() const { return total_pages_; }
  const EngineStats& stats() const { return stats_; }

 private:
  struct Request;
  void scheduler_loop();
  void take_submitted();
  void drop_cancelled();
  void admit_waiting();
  bool run_step();
  bool reserve_pages(Request& request, int32_t tokens);
  void retract(Request& request);
  void process_output(Request& request, std::span<float> logits);
  void finish(Request& request, OutputEvent event, FinishReason reason);
  void release(Request& request, bool cache_kv);
  void publish_stats();

  std::unique_ptr<model::TextModel> model_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  EngineOptions options_;
  int32_t context_length_ = 0;
  int32_t page_size_ = 0;
  int32_t total_pages_ = 0;

  // Shared between submitters and the scheduler.
  std::mutex submit_mutex_;
  std::condition_variable submitted_ready_;
  std::condition_variable flush_done_;
  std::deque<std::unique_ptr<Request>> submitted_;
  bool stopping_ = false;
  bool flush_requested_ = false;

  // Owned by the scheduler thread.
  struct SchedulerState;
  std::unique_ptr<SchedulerState> state_;
  EngineStats stats_;
  std::thread scheduler_;
};

}  // namespace glyph::engine
