#include "engine/engine.h"

#include <algorithm>
#include <chrono>

#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "engine/stop_strings.h"

namespace glyph::engine {

namespace {

// KV pool share of physical memory when neither --max-total-tokens nor
// --mem-fraction-static is given. Weights are memory-mapped and counted by
// the OS page cache, not by this budget.
constexpr double kDefaultCpuKvFraction = 0.25;

size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<size_t>(pages) * page_size : size_t{8} << 30;
}

}  // namespace

const char* to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kAbort: return "abort";
    case FinishReason::kNone: break;
  }
  return nullptr;
}

void OutputChannel::push(OutputEvent event) {
  {
    std::lock_guard lock(mutex_);
    events_.push_back(std::move(event));
  }
  ready_.notify_one();
}

std::vector<OutputEvent> OutputChannel::wait() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return !events_.empty(); });
  std::vector<OutputEvent> events(std::make_move_iterator(events_.begin()),
                                  std::make_move_iterator(events_.end()));
  events_.clear();
  return events;
}

Engine::Engine(std::unique_ptr<model::TextModel> model,
               std::shared_ptr<const text::Tokenizer> tokenizer, EngineOptions options)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), options_(options) {
  const model::TextConfig& text = model_->config().text;
  context_length_ = options_.context_length > 0 ? options_.context_length
                                                 : text.max_position_embeddings;

  // Size the KV pool: an explicit token count wins, else a share of memory,
  // never more than twice the context (one long request plus room for others).
  int64_t pool_tokens = options_.max_total_tokens;
  if (pool_tokens <= 0) {
    const double fraction =
        options_.mem_fraction_static > 0 ? options_.mem_fraction_static : kDefaultCpuKvFraction;
    const double budget = fraction * static_cast<double>(physical_memory_bytes());
    pool_tokens = static_cast<int64_t>(budget / static_cast<double>(model_->kv_bytes_per_token()));
    pool_tokens = std::min<int64_t>(pool_tokens, int64_t{2} * context_length_);
  }
  const int32_t page_size = options_.kv_page_size;
  const int32_t num_pages = static_cast<int32_t>((pool_tokens + page_size - 1) / page_size);
  model_->allocate_kv_cache(num_pages, page_size);
  free_pages_.resize(num_pages);
  for (int32_t i = 0; i < num_pages; ++i) free_pages_[i] = num_pages - 1 - i;
  free_page_count_ = num_pages;

  seed_source_.seed(options_.random_seed.value_or(std::random_device{}()));
  log::info("KV cache: {} tokens in {} pages of {} tokens, {:.1f} MiB", num_pages * page_size,
            num_pages, page_size,
            static_cast<double>(model_->kv_bytes_per_token()) * num_pages * page_size /
                (1024.0 * 1024.0));
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_ready_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

const model::ModelConfig& Engine::model_config() const { return model_->config(); }

int32_t Engine::kv_pool_tokens() const { return model_->kv_num_pages() * model_->kv_page_size(); }

int32_t Engine::kv_free_pages() const { return free_page_count_.load(); }

std::shared_ptr<OutputChannel> Engine::submit(GenerateRequest request) {
  const auto prompt_tokens = static_cast<int32_t>(request.prompt.size());
  if (prompt_tokens == 0) {
    throw_error(ErrorKind::kInvalidRequest, "the prompt is empty; send at least one token");
  }
  if (prompt_tokens >= context_length_) {
    throw_error(ErrorKind::kInvalidRequest,
                "the prompt has {} tokens, but the context length is {}; shorten the input "
                "(or start the server with a larger --context-length)",
                prompt_tokens, context_length_);
  }
  if (prompt_tokens >= kv_pool_tokens()) {
    throw_error(ErrorKind::kInvalidRequest,
                "the prompt has {} tokens, but the KV cache holds {}; shorten the input or "
                "raise --max-total-tokens",
                prompt_tokens, kv_pool_tokens());
  }
  auto channel = std::make_shared<OutputChannel>();
  {
    std::lock_guard lock(queue_mutex_);
    queue_.emplace_back(std::move(request), channel);
  }
  queue_ready_.notify_one();
  return channel;
}

void Engine::scheduler_loop() {
  while (true) {
    std::pair<GenerateRequest, std::shared_ptr<OutputChannel>> next;
    {
      std::unique_lock lock(queue_mutex_);
      queue_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) break;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      run_request(next.first, *next.second);
    } catch (const std::exception& e) {
      log::error("request {} failed: {}", next.first.id, e.what());
      OutputEvent event;
      event.finish_reason = FinishReason::kAbort;
      event.error = e.what();
      next.second->push(std::move(event));
    }
  }
  // Wake every reader still waiting so no HTTP thread hangs on shutdown.
  std::lock_guard lock(queue_mutex_);
  for (auto& [request, channel] : queue_) {
    OutputEvent event;
    event.finish_reason = FinishReason::kAbort;
    event.error = "the server is shutting down";
    channel->push(std::move(event));
  }
}

bool Engine::grow_pages(std::vector<int32_t>& pages, int32_t tokens) {
  const int32_t page_size = model_->kv_page_size();
  const auto needed = static_cast<size_t>((tokens + page_size - 1) / page_size);
  while (pages.size() < needed) {
    if (free_pages_.empty()) return false;
    pages.push_back(free_pages_.back());
    free_pages_.pop_back();
  }
  free_page_count_ = static_cast<int32_t>(free_pages_.size());
  return true;
}

void Engine::release_pages(std::vector<int32_t>& pages) {
  free_pages_.insert(free_pages_.end(), pages.begin(), pages.end());
  pages.clear();
  free_page_count_ = static_cast<int32_t>(free_pages_.size());
}

// Runs one request from prefill to its last token.
// NOTE: requests run one at a time; the batching scheduler replaces this loop.
void Engine::run_request(const GenerateRequest& request, OutputChannel& channel) {
  const SamplingParams& params = request.sampling;
  const auto prompt_tokens = static_cast<int32_t>(request.prompt.size());
  const bool scripted = options_.allow_scripted_output && request.scripted_output.has_value();

  std::vector<int32_t> eos_ids = model_->config().generation.eos_token_ids;
  const int32_t max_new_tokens =
      std::min(params.max_new_tokens, context_length_ - prompt_tokens);

  Sampler sampler(params, params.seed.value_or(seed_source_()), request.prompt);
  text::IncrementalDetokenizer detokenizer(*tokenizer_, params.skip_special_tokens);
  StopStringMatcher stop_strings(params.stop, params.no_stop_trim);

  std::vector<int32_t> pages;
  struct PagesGuard {
    Engine& engine;
    std::vector<int32_t>& pages;
    ~PagesGuard() { engine.release_pages(pages); }
  } guard{*this, pages};

  std::vector<int32_t> tokens = request.prompt;  // Prompt, then generated ids.
  std::vector<int32_t> positions;
  std::vector<float> logits;
  int32_t cached = 0;
  int32_t generated = 0;

  // Feeds tokens [cached, end) through the model in chunks; returns false if
  // the KV pool ran out.
  auto run_model = [&](int32_t end) {
    while (cached < end) {
      const int32_t count = std::min(end - cached, std::max(1, options_.chunked_prefill_size));
      if (!grow_pages(pages, cached + count)) return false;
      positions.resize(static_cast<size_t>(count) * 3);
      for (int32_t i = 0; i < count; ++i) {
        std::fill_n(positions.begin() + i * 3, 3, cached + i);
      }
      model::SequenceSlice slice;
      slice.batch_offset = 0;
      slice.num_tokens = count;
      slice.num_cached = cached;
      slice.kv_pages = pages;
      slice.want_logits = cached + count == end;
      model::Batch batch;
      batch.tokens = std::span<const int32_t>(tokens).subspan(cached, count);
      batch.positions = positions;
      batch.sequences = std::span<const model::SequenceSlice>(&slice, 1);
      model_->forward(batch, logits);
      cached += count;
    }
    return true;
  };

  auto finish = [&](OutputEvent event, FinishReason reason) {
    event.finish_reason = reason;
    event.prompt_tokens = prompt_tokens;
    event.completion_tokens = generated;
    channel.push(std::move(event));
  };

  if (max_new_tokens <= 0) {
    finish(OutputEvent{}, FinishReason::kLength);
    return;
  }
  if (!scripted && !run_model(prompt_tokens)) {
    throw_error(ErrorKind::kInternal, "the KV cache has no room for a {}-token prompt",
                prompt_tokens);
  }

  while (true) {
    if (channel.cancelled()) {
      finish(OutputEvent{}, FinishReason::kAbort);
      return;
    }

    int32_t token;
    if (scripted) {
      if (generated >= static_cast<int32_t>(request.scripted_output->size())) {
        // A script that runs out ends as if the model had sampled its eos token.
        OutputEvent event;
        event.text = stop_strings.push(detokenizer.flush()).text + stop_strings.flush();
        if (!eos_ids.empty()) event.matched_stop = eos_ids.front();
        finish(std::move(event), FinishReason::kStop);
        return;
      }
      token = (*request.scripted_output)[generated];
    } else {
      token = sampler.sample(logits, tokenizer_->vocab_size());
    }
    sampler.accept(token);
    tokens.push_back(token);
    ++generated;

    OutputEvent event;
    event.token_ids.push_back(token);
    event.prompt_tokens = prompt_tokens;
    event.completion_tokens = generated;

    // min_new_tokens delays eos and stop tokens only, as in SGLang.
    const bool may_stop = generated > params.min_new_tokens;
    const bool is_eos = !params.ignore_eos &&
                        std::find(eos_ids.begin(), eos_ids.end(), token) != eos_ids.end();
    const bool is_stop_token = std::find(params.stop_token_ids.begin(),
                                         params.stop_token_ids.end(),
                                         token) != params.stop_token_ids.end();
    if (may_stop && (is_eos || is_stop_token)) {
      std::string tail = detokenizer.flush();
      if (params.no_stop_trim) tail += tokenizer_->decode(std::span(&token, 1), false);
      auto pushed = stop_strings.push(tail);
      event.text = pushed.text + (pushed.matched ? "" : stop_strings.flush());
      event.matched_stop = token;
      finish(std::move(event), FinishReason::kStop);
      return;
    }

    auto pushed = stop_strings.push(detokenizer.push(token));
    event.text = std::move(pushed.text);
    if (pushed.matched) {
      event.matched_stop = *pushed.matched;
      finish(std::move(event), FinishReason::kStop);
      return;
    }
    if (generated >= max_new_tokens) {
      event.text += stop_strings.push(detokenizer.flush()).text + stop_strings.flush();
      finish(std::move(event), FinishReason::kLength);
      return;
    }
    channel.push(std::move(event));

    if (!scripted && !run_model(cached + 1)) {
      OutputEvent out_of_memory;
      out_of_memory.error = "the KV cache is full";
      finish(std::move(out_of_memory), FinishReason::kAbort);
      return;
    }
  }
}

}  // namespace glyph::engine
