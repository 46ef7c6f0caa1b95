// The engine: owns the model, the KV pool and the scheduler thread. HTTP
// threads submit requests and read results from a per-request channel; they
// never touch tensors, and the scheduler never blocks on a socket.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <random>
#include <variant>
#include <vector>

#include "engine/sampling.h"
#include "model/text_model.h"
#include "text/tokenizer.h"

namespace glyph::engine {

enum class FinishReason { kNone, kStop, kLength, kAbort };

const char* to_string(FinishReason reason);

// One step of a request's output. Text is already detokenized, with stop
// strings trimmed and text that could still become a stop string held back.
struct OutputEvent {
  std::string text;                 // New text since the previous event.
  std::vector<int32_t> token_ids;   // Tokens generated since the previous event.
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;    // Total so far.
  int32_t cached_tokens = 0;        // Prompt tokens served from the prefix cache.
  FinishReason finish_reason = FinishReason::kNone;
  // The stop that ended the request: a token id or a stop string (SGLang's matched_stop).
  std::variant<std::monostate, int32_t, std::string> matched_stop;
  std::string error;                // Set when the request failed inside the engine.
};

// A request's output queue, written by the scheduler and read by one HTTP thread.
class OutputChannel {
 public:
  void push(OutputEvent event);
  // Blocks until an event is available; returns all pending events merged in order.
  std::vector<OutputEvent> wait();
  // Asks the scheduler to stop this request (client gone); safe from any thread.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<OutputEvent> events_;
  std::atomic<bool> cancelled_{false};
};

struct GenerateRequest {
  std::string id;                   // For logs.
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  // Test seam: emit exactly these tokens instead of running the model's
  // sampler. Honoured only when EngineOptions::allow_scripted_output is set,
  // which only test binaries do.
  std::optional<std::vector<int32_t>> scripted_output;
};

struct EngineOptions {
  int32_t context_length = 0;        // 0: the model's max_position_embeddings.
  int32_t kv_page_size = 16;
  int32_t chunked_prefill_size = 2048;  // Prompt tokens per forward pass.
  int32_t max_total_tokens = 0;      // KV pool size in tokens; 0: fit the memory budget.
  double mem_fraction_static = 0.0;  // 0: default for the CPU backend.
  std::optional<uint64_t> random_seed;
  bool allow_scripted_output = false;
};

class Engine {
 public:
  Engine(std::unique_ptr<model::TextModel> model, std::shared_ptr<const text::Tokenizer> tokenizer,
         EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request; its events arrive on the returned channel. Throws
  // glyph::Error(kInvalidRequest) when the prompt does not fit the context.
  std::shared_ptr<OutputChannel> submit(GenerateRequest request);

  const model::ModelConfig& model_config() const;
  const text::Tokenizer& tokenizer() const { return *tokenizer_; }
  int32_t context_length() const { return context_length_; }
  int32_t kv_pool_tokens() const;
  int32_t kv_free_pages() const;

 private:
  void scheduler_loop();
  void run_request(const GenerateRequest& request, OutputChannel& channel);
  bool grow_pages(std::vector<int32_t>& pages, int32_t tokens);
  void release_pages(std::vector<int32_t>& pages);

  std::unique_ptr<model::TextModel> model_;
  std::shared_ptr<const text::Tokenizer> tokenizer_;
  EngineOptions options_;
  int32_t context_length_ = 0;

  std::mutex queue_mutex_;
  std::condition_variable queue_ready_;
  std::deque<std::pair<GenerateRequest, std::shared_ptr<OutputChannel>>> queue_;
  bool stopping_ = false;
  std::vector<int32_t> free_pages_;  // Touched by the scheduler thread only.
  std::atomic<int32_t> free_page_count_{0};
  std::mt19937_64 seed_source_;
  std::thread scheduler_;
};

}  // namespace glyph::engine
