#include "engine/engine.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "engine/page_pool.h"
#include "engine/prefix_cache.h"
#include "engine/stop_strings.h"

namespace glyph::engine {

namespace {

// KV pool share of physical memory when neither --max-total-tokens nor
// --mem-fraction-static is given. Weights are memory-mapped and live in the
// OS page cache, outside this budget.
constexpr double kDefaultCpuKvFraction = 0.25;

size_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<size_t>(pages) * page_size : size_t{8} << 30;
}

int32_t pages_for(int32_t tokens, int32_t page_size) {
  return (tokens + page_size - 1) / page_size;
}

// The server builds these from images; a mismatch is a glyph bug.
void check_multimodal_inputs(const GenerateRequest& input, int32_t hidden_size) {
  const auto prompt_tokens = static_cast<int64_t>(input.prompt.size());
  if (!input.positions.empty() && static_cast<int64_t>(input.positions.size()) != prompt_tokens * 3) {
    throw_error(ErrorKind::kInternal, "{} positions for {} prompt tokens; each needs (t, h, w)",
                input.positions.size(), prompt_tokens);
  }
  int64_t next_free = 0;
  for (const PromptEmbeddings& run : input.embeddings) {
    const bool in_prompt = run.offset >= next_free && run.count > 0 &&
                           int64_t{run.offset} + run.count <= prompt_tokens;
    if (!in_prompt || !run.rows ||
        run.rows->size() != static_cast<size_t>(run.count) * static_cast<size_t>(hidden_size)) {
      throw_error(ErrorKind::kInternal,
                  "prompt embeddings for tokens [{}, {}) do not fit a prompt of {} tokens with "
                  "{} values per row",
                  run.offset, int64_t{run.offset} + run.count, prompt_tokens, hidden_size);
    }
    next_free = int64_t{run.offset} + run.count;
  }
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

// A request inside the scheduler. tokens contains the prompt and then every
// generated token, and the KV of tokens [0, num_cached) is in pages.
struct Engine::Request {
  Request(GenerateRequest input_request, uint64_t seed, const text::Tokenizer& tokenizer)
      : input(std::move(input_request)),
        channel(std::make_shared<OutputChannel>()),
        tokens(input.prompt),
        cache_key(input.cache_key.empty() ? input.prompt : input.cache_key),
        prompt_tokens(static_cast<int32_t>(input.prompt.size())),
        sampler(input.sampling, input.sampling.seed.value_or(seed), input.prompt),
        detokenizer(tokenizer, input.sampling.skip_special_tokens),
        stop_strings(input.sampling.stop, input.sampling.no_stop_trim) {
    if (!input.positions.empty()) {
      const int32_t largest = *std::max_element(input.positions.begin(), input.positions.end());
      rope_delta = largest + 1 - prompt_tokens;
    }
    if (!input.embeddings.empty()) {
      embedding_rows.assign(input.prompt.size(), nullptr);
      for (const PromptEmbeddings& run : input.embeddings) {
        const size_t width = run.rows->size() / static_cast<size_t>(run.count);
        for (int32_t i = 0; i < run.count; ++i) {
          embedding_rows[static_cast<size_t>(run.offset + i)] = run.rows->data() + i * width;
        }
      }
    }
  }

  // M-RoPE components of token `index`, prompt or generated.
  std::array<int32_t, 3> position(int32_t index) const {
    if (index < prompt_tokens && !input.positions.empty()) {
      const auto base = static_cast<size_t>(index) * 3;
      return {input.positions[base], input.positions[base + 1], input.positions[base + 2]};
    }
    const int32_t position = index + rope_delta;
    return {position, position, position};
  }

  // The row replacing token `index`'s embedding, or nullptr.
  const float* embedding_row(int32_t index) const {
    return index < static_cast<int32_t>(embedding_rows.size())
               ? embedding_rows[static_cast<size_t>(index)]
               : nullptr;
  }

  GenerateRequest input;
  std::shared_ptr<OutputChannel> channel;
  std::vector<int32_t> tokens;
  std::vector<int32_t> cache_key;  // One key per token: prompt keys, then generated ids.
  int32_t prompt_tokens = 0;
  int32_t max_new_tokens = 0;
  int32_t generated = 0;
  int32_t num_cached = 0;
  int32_t cached_prompt_tokens = 0;  // Reported in usage; set at first admission.
  bool admitted_before = false;
  bool prompt_in_cache = false;
  bool done = false;
  std::chrono::steady_clock::time_point arrival = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_token_time;
  std::vector<int32_t> pages;
  int32_t rope_delta = 0;
  std::vector<const float*> embedding_rows;  // Per prompt token; empty without embeddings.
  Sampler sampler;
  text::IncrementalDetokenizer detokenizer;
  StopStringMatcher stop_strings;
};

struct Engine::SchedulerState {
  SchedulerState(int32_t num_pages, int32_t page_size) : pool(num_pages), cache(pool, page_size) {}

  PagePool pool;
  PrefixCache cache;
  std::deque<std::unique_ptr<Request>> waiting;
  std::vector<std::unique_ptr<Request>> running;  // In admission order.
  std::mt19937_64 seed_source;
  // Buffers reused across steps.
  std::vector<int32_t> batch_tokens;
  std::vector<int32_t> batch_positions;
  std::vector<const float*> batch_embeddings;
  std::vector<model::SequenceSlice> slices;
  std::vector<float> logits;
};

std::vector<OutputEvent> OutputChannel::wait_for(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (!ready_.wait_for(lock, timeout, [&] { return !events_.empty(); })) return {};
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
  page_size_ = std::max(1, options_.kv_page_size);

  // An explicit token count wins. Otherwise the pool takes a share of memory,
  // capped at four full contexts so a small model does not take gigabytes it cannot use.
  int64_t pool_tokens = options_.max_total_tokens;
  if (pool_tokens <= 0) {
    const double fraction =
        options_.mem_fraction_static > 0 ? options_.mem_fraction_static : kDefaultCpuKvFraction;
    const double budget = fraction * static_cast<double>(physical_memory_bytes());
    pool_tokens = static_cast<int64_t>(budget / static_cast<double>(model_->kv_bytes_per_token()));
    pool_tokens = std::min<int64_t>(pool_tokens, int64_t{4} * context_length_);
  }
  total_pages_ = static_cast<int32_t>(std::max<int64_t>(pages_for(pool_tokens, page_size_), 2));
  model_->allocate_kv_cache(total_pages_, page_size_);

  state_ = std::make_unique<SchedulerState>(total_pages_, page_size_);
  state_->seed_source.seed(options_.random_seed.value_or(std::random_device{}()));
  log::info("KV cache: {} tokens ({} pages of {}), {:.1f} MiB; context length {}",
            kv_pool_tokens(), total_pages_, page_size_,
            static_cast<double>(model_->kv_bytes_per_token()) * kv_pool_tokens() / (1 << 20),
            context_length_);
  scheduler_ = std::thread([this] { scheduler_loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard lock(submit_mutex_);
    stopping_ = true;
  }
  submitted_ready_.notify_all();
  flush_done_.notify_all();
  if (scheduler_.joinable()) scheduler_.join();
}

const model::ModelConfig& Engine::model_config() const { return model_->config(); }

std::shared_ptr<OutputChannel> Engine::submit(GenerateRequest input) {
  const auto prompt_tokens = static_cast<int32_t>(input.prompt.size());
  if (prompt_tokens == 0) {
    throw_error(ErrorKind::kInvalidRequest, "the prompt is empty; send at least one token");
  }
  if (prompt_tokens >= context_length_) {
    throw_error(ErrorKind::kInvalidRequest,
                "the input has {} tokens, which is not less than the context length of {} "
                "tokens; shorten the input or start the server with a larger --context-length",
                prompt_tokens, context_length_);
  }
  if (prompt_tokens >= kv_pool_tokens()) {
    throw_error(ErrorKind::kInvalidRequest,
                "the input has {} tokens, but the KV cache holds {}; shorten the input or "
                "raise --max-total-tokens",
                prompt_tokens, kv_pool_tokens());
  }
  if (!input.cache_key.empty() && input.cache_key.size() != input.prompt.size()) {
    throw_error(ErrorKind::kInternal, "cache_key has {} entries for {} prompt tokens",
                input.cache_key.size(), input.prompt.size());
  }
  check_multimodal_inputs(input, model_->config().text.hidden_size);

  std::lock_guard lock(submit_mutex_);
  if (stopping_) throw_error(ErrorKind::kUnavailable, "the server is shutting down");
  const int32_t queued = stats_.queued_requests.load() + static_cast<int32_t>(submitted_.size());
  if (options_.max_queued_requests > 0 && queued >= options_.max_queued_requests) {
    throw_error(ErrorKind::kUnavailable,
                "{} requests are already queued (--max-queued-requests {}); retry later",
                queued, options_.max_queued_requests);
  }
  auto request = std::make_unique<Request>(std::move(input), state_->seed_source(), *tokenizer_);
  request->max_new_tokens =
      std::min(request->input.sampling.max_new_tokens, context_length_ - prompt_tokens);
  auto channel = request->channel;
  submitted_.push_back(std::move(request));
  submitted_ready_.notify_one();
  return channel;
}

void Engine::flush_cache() {
  std::unique_lock lock(submit_mutex_);
  flush_requested_ = true;
  submitted_ready_.notify_all();
  flush_done_.wait(lock, [&] { return !flush_requested_ || stopping_; });
}

void Engine::scheduler_loop() {
  SchedulerState& state = *state_;
  while (true) {
    {
      std::unique_lock lock(submit_mutex_);
      submitted_ready_.wait(lock, [&] {
        return stopping_ || flush_requested_ || !submitted_.empty() || !state.running.empty() ||
               !state.waiting.empty();
      });
      if (stopping_) break;
      if (flush_requested_) {
        state.cache.flush();
        publish_stats();
        flush_requested_ = false;
        flush_done_.notify_all();
      }
    }
    take_submitted();
    drop_cancelled();
    admit_waiting();
    try {
      run_step();
    } catch (const std::exception& e) {
      // A failed forward pass fails the requests in it, not the server.
      log::error("forward pass failed: {}", e.what());
      for (auto& request : state.running) {
        OutputEvent event;
        event.error = e.what();
        finish(*request, std::move(event), FinishReason::kAbort);
      }
      std::erase_if(state.running, [](const auto& request) { return request->done; });
    }
    publish_stats();
  }

  // Wake every reader still waiting so no HTTP thread hangs on shutdown.
  take_submitted();
  auto abort_all = [&](auto& requests) {
    for (auto& request : requests) {
      OutputEvent event;
      event.error = "the server is shutting down";
      finish(*request, std::move(event), FinishReason::kAbort);
    }
  };
  abort_all(state.running);
  abort_all(state.waiting);
}

void Engine::take_submitted() {
  std::lock_guard lock(submit_mutex_);
  while (!submitted_.empty()) {
    state_->waiting.push_back(std::move(submitted_.front()));
    submitted_.pop_front();
    ++stats_.requests_total;
  }
}

void Engine::drop_cancelled() {
  SchedulerState& state = *state_;
  auto drop = [&](auto& requests) {
    for (auto& request : requests) {
      if (request->channel->cancelled()) {
        log::debug("request {} cancelled by the client", request->input.id);
        finish(*request, OutputEvent{}, FinishReason::kAbort);
      }
    }
    std::erase_if(requests, [](const auto& request) { return request->done; });
  };
  drop(state.waiting);
  drop(state.running);
}

// Moves waiting requests into the running set while the KV pool can hold
// their prompts. First come, first served stops at the first request that
// does not fit, so a long prompt is not starved by later short ones.
void Engine::admit_waiting() {
  SchedulerState& state = *state_;
  if (state.waiting.empty()) return;

  auto key_to_match = [&](const Request& request) {
    // At least the last token must run through the model to produce logits.
    return std::span<const int32_t>(request.cache_key)
        .first(request.tokens.size() - 1);
  };
  if (options_.schedule_policy == SchedulePolicy::kLpm && !options_.disable_radix_cache) {
    std::vector<std::pair<int32_t, size_t>> matched;
    for (size_t i = 0; i < state.waiting.size(); ++i) {
      std::vector<int32_t> pages = state.cache.match(key_to_match(*state.waiting[i]));
      matched.emplace_back(static_cast<int32_t>(pages.size()), i);
      state.pool.release_all(pages);
    }
    std::stable_sort(matched.begin(), matched.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::deque<std::unique_ptr<Request>> sorted;
    for (const auto& [pages, index] : matched) sorted.push_back(std::move(state.waiting[index]));
    state.waiting = std::move(sorted);
  }

  int32_t available = state.pool.free_pages() + state.cache.evictable_pages();
  // Pages the running requests still need to finish their prompts.
  for (const auto& request : state.running) {
    available -= pages_for(static_cast<int32_t>(request->tokens.size()), page_size_) -
                 static_cast<int32_t>(request->pages.size());
  }

  while (!state.waiting.empty()) {
    if (options_.max_running_requests > 0 &&
        static_cast<int32_t>(state.running.size()) >= options_.max_running_requests) {
      break;
    }
    Request& request = *state.waiting.front();
    std::vector<int32_t> pages;
    if (!options_.disable_radix_cache) pages = state.cache.match(key_to_match(request));
    // The prompt's uncached pages plus one page of room to decode into.
    const int32_t needed =
        pages_for(static_cast<int32_t>(request.tokens.size()), page_size_) -
        static_cast<int32_t>(pages.size()) + 1;
    if (needed > available && !state.running.empty()) {
      state.pool.release_all(pages);
      break;
    }
    available -= needed;
    request.pages = std::move(pages);
    request.num_cached = static_cast<int32_t>(request.pages.size()) * page_size_;
    if (!request.admitted_before) {
      request.cached_prompt_tokens = request.num_cached;
      stats_.cached_tokens_total += request.num_cached;
      request.admitted_before = true;
    }
    state.running.push_back(std::move(state.waiting.front()));
    state.waiting.pop_front();
  }
}

// Grows a request's pages to hold `tokens` tokens, evicting cached prefixes
// when the pool is empty. Returns false if the pool still has no room.
bool Engine::reserve_pages(Request& request, int32_t tokens) {
  SchedulerState& state = *state_;
  const int32_t needed = pages_for(tokens, page_size_) - static_cast<int32_t>(request.pages.size());
  if (needed <= 0) return true;
  if (state.pool.free_pages() < needed) state.cache.evict(needed - state.pool.free_pages());
  if (state.pool.free_pages() < needed) return false;
  for (int32_t i = 0; i < needed; ++i) request.pages.push_back(state.pool.allocate());
  return true;
}

// Sends a running request back to the front of the queue. Its computed KV
// goes to the prefix cache, where it is reused on resume unless evicted
// first; its sampler and detokenizer keep their state, so the resumed output
// continues exactly where it stopped.
void Engine::retract(Request& request) {
  log::debug("request {} retracted after {} tokens: the KV cache is full", request.input.id,
             request.generated);
  release(request, /*cache_kv=*/true);
  request.num_cached = 0;
  request.prompt_in_cache = false;
  ++stats_.retractions_total;
}

bool Engine::run_step() {
  SchedulerState& state = *state_;
  if (state.running.empty()) return false;

  // Plan: every decoding request takes one token; prefilling requests share
  // the chunked-prefill budget in admission order. When the pool cannot hold
  // the plan, the most recently admitted request goes back to the queue.
  const int32_t prefill_budget = options_.chunked_prefill_size > 0
                                     ? options_.chunked_prefill_size
                                     : std::numeric_limits<int32_t>::max();
  std::vector<std::pair<Request*, int32_t>> plan;
  while (true) {
    plan.clear();
    int32_t budget = prefill_budget;
    bool fits = true;
    for (auto& request : state.running) {
      const int32_t pending = static_cast<int32_t>(request->tokens.size()) - request->num_cached;
      int32_t count = pending;
      if (pending > 1) {
        count = std::min(pending, budget);
        if (count <= 0) continue;
        budget -= count;
      }
      if (!reserve_pages(*request, request->num_cached + count)) {
        fits = false;
        break;
      }
      plan.emplace_back(request.get(), count);
    }
    if (fits) break;
    if (state.running.size() == 1) {
      // One request has outgrown the whole pool: end it rather than spin.
      Request& request = *state.running.front();
      log::warn("request {} needs more KV cache than the pool's {} tokens; ending it",
                request.input.id, kv_pool_tokens());
      OutputEvent event;
      event.text = request.stop_strings.push(request.detokenizer.flush()).text +
                   request.stop_strings.flush();
      finish(request, std::move(event), FinishReason::kLength);
      state.running.clear();
      return false;
    }
    std::unique_ptr<Request> newest = std::move(state.running.back());
    state.running.pop_back();
    retract(*newest);
    state.waiting.push_front(std::move(newest));
  }
  if (plan.empty()) return false;

  // Lay the batch out token-major.
  state.batch_tokens.clear();
  state.batch_positions.clear();
  state.batch_embeddings.clear();
  state.slices.clear();
  const bool any_embeddings = std::any_of(plan.begin(), plan.end(), [](const auto& entry) {
    return !entry.first->embedding_rows.empty();
  });
  for (auto& [request, count] : plan) {
    model::SequenceSlice slice;
    slice.batch_offset = static_cast<int32_t>(state.batch_tokens.size());
    slice.num_tokens = count;
    slice.num_cached = request->num_cached;
    slice.kv_pages = request->pages;
    slice.want_logits = request->num_cached + count == static_cast<int32_t>(request->tokens.size());
    state.slices.push_back(slice);
    for (int32_t i = 0; i < count; ++i) {
      const int32_t index = request->num_cached + i;
      state.batch_tokens.push_back(request->tokens[index]);
      const std::array<int32_t, 3> position = request->position(index);
      state.batch_positions.insert(state.batch_positions.end(), position.begin(), position.end());
      if (any_embeddings) state.batch_embeddings.push_back(request->embedding_row(index));
    }
  }
  model::Batch batch;
  batch.tokens = state.batch_tokens;
  batch.positions = state.batch_positions;
  batch.input_embeddings = state.batch_embeddings;
  batch.sequences = state.slices;
  model_->forward(batch, state.logits);

  const auto vocab = static_cast<size_t>(model_->config().text.vocab_size);
  size_t row = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    auto& [request, count] = plan[i];
    request->num_cached += count;
    if (!state.slices[i].want_logits) continue;
    if (!request->prompt_in_cache && !options_.disable_radix_cache) {
      // Share the prompt's pages with requests that arrive while this one decodes.
      state.cache.insert(std::span<const int32_t>(request->cache_key).first(request->num_cached),
                         request->pages);
      request->prompt_in_cache = true;
    }
    process_output(*request, std::span<float>(state.logits).subspan(row * vocab, vocab));
    ++row;
  }
  std::erase_if(state.running, [](const auto& request) { return request->done; });
  return true;
}

// Picks the next token of a request and applies its stop rules.
void Engine::process_output(Request& request, std::span<float> logits) {
  const SamplingParams& params = request.input.sampling;
  const std::vector<int32_t>& eos_ids = model_->config().generation.eos_token_ids;
  const bool scripted = options_.allow_scripted_output && request.input.scripted_output;

  auto end_as_eos = [&] {
    OutputEvent event;
    event.text = request.stop_strings.push(request.detokenizer.flush()).text +
                 request.stop_strings.flush();
    if (!eos_ids.empty()) event.matched_stop = eos_ids.front();
    finish(request, std::move(event), FinishReason::kStop);
  };

  if (request.generated >= request.max_new_tokens) {
    // max_new_tokens 0: the prompt is only prefilled (and cached), as SGLang does.
    finish(request, OutputEvent{}, FinishReason::kLength);
    return;
  }

  // The log-probability needs the raw logits, before the sampler changes them.
  float log_normalizer = 0.0f;
  std::vector<float> raw_logits;
  if (request.input.return_logprob) {
    const auto allowed = logits.first(std::min<size_t>(logits.size(), tokenizer_->vocab_size()));
    raw_logits.assign(allowed.begin(), allowed.end());
    const float max_logit = *std::max_element(raw_logits.begin(), raw_logits.end());
    double sum = 0.0;
    for (float logit : raw_logits) sum += std::exp(static_cast<double>(logit - max_logit));
    log_normalizer = max_logit + static_cast<float>(std::log(sum));
  }

  int32_t token;
  if (scripted) {
    // A script that runs out ends as if the model had sampled its eos token.
    if (request.generated >= static_cast<int32_t>(request.input.scripted_output->size())) {
      end_as_eos();
      return;
    }
    token = (*request.input.scripted_output)[request.generated];
  } else if (request.input.constraint && request.input.constraint->is_complete()) {
    end_as_eos();
    return;
  } else {
    if (request.input.constraint) {
      std::vector<uint8_t> allowed(static_cast<size_t>(tokenizer_->vocab_size()), 0);
      request.input.constraint->fill_allowed(allowed);
      const size_t count = std::min(allowed.size(), logits.size());
      for (size_t id = 0; id < count; ++id) {
        if (!allowed[id]) logits[id] = -std::numeric_limits<float>::infinity();
      }
    }
    token = request.sampler.sample(logits, tokenizer_->vocab_size());
  }
  request.sampler.accept(token);
  if (request.input.constraint) request.input.constraint->accept(token);
  ++request.generated;
  ++stats_.generation_tokens_total;
  const auto now = std::chrono::steady_clock::now();
  const auto since = [&](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(now - start).count();
  };
  if (request.generated == 1) {
    stats_.time_to_first_token.observe(since(request.arrival));
  } else {
    stats_.inter_token_latency.observe(since(request.last_token_time));
  }
  request.last_token_time = now;

  OutputEvent event;
  event.token_ids.push_back(token);
  if (request.input.return_logprob && token < static_cast<int32_t>(raw_logits.size())) {
    event.token_logprobs.push_back(raw_logits[token] - log_normalizer);
  }

  // min_new_tokens delays eos and stop tokens only, as in SGLang.
  const bool may_stop = request.generated > params.min_new_tokens;
  const bool is_eos = !params.ignore_eos &&
                      std::find(eos_ids.begin(), eos_ids.end(), token) != eos_ids.end();
  const bool is_stop_token = std::find(params.stop_token_ids.begin(), params.stop_token_ids.end(),
                                       token) != params.stop_token_ids.end();
  if (may_stop && (is_eos || is_stop_token)) {
    // The stop token's own text is trimmed, as SGLang does, unless no_stop_trim.
    std::string tail = request.detokenizer.flush();
    if (params.no_stop_trim) tail += tokenizer_->decode(std::span(&token, 1), false);
    auto pushed = request.stop_strings.push(tail);
    event.text = pushed.text + (pushed.matched ? "" : request.stop_strings.flush());
    event.matched_stop = token;
    finish(request, std::move(event), FinishReason::kStop);
    return;
  }

  auto pushed = request.stop_strings.push(request.detokenizer.push(token));
  event.text = std::move(pushed.text);
  if (pushed.matched) {
    event.matched_stop = *pushed.matched;
    finish(request, std::move(event), FinishReason::kStop);
    return;
  }
  if (request.generated >= request.max_new_tokens) {
    event.text += request.stop_strings.push(request.detokenizer.flush()).text +
                  request.stop_strings.flush();
    finish(request, std::move(event), FinishReason::kLength);
    return;
  }

  request.tokens.push_back(token);
  request.cache_key.push_back(token);
  event.prompt_tokens = request.prompt_tokens;
  event.completion_tokens = request.generated;
  event.cached_tokens = request.cached_prompt_tokens;
  request.channel->push(std::move(event));
}

void Engine::finish(Request& request, OutputEvent event, FinishReason reason) {
  event.finish_reason = reason;
  event.prompt_tokens = request.prompt_tokens;
  event.completion_tokens = request.generated;
  event.cached_tokens = request.cached_prompt_tokens;
  request.channel->push(std::move(event));
  release(request, /*cache_kv=*/reason != FinishReason::kAbort);
  request.done = true;
  if (reason == FinishReason::kAbort) {
    ++stats_.aborted_requests_total;
  } else {
    stats_.e2e_request_latency.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request.arrival).count());
  }
  stats_.prompt_tokens_total += request.prompt_tokens;
}

// Returns a request's pages to the pool, first offering its computed KV to
// the prefix cache when asked.
void Engine::release(Request& request, bool cache_kv) {
  SchedulerState& state = *state_;
  if (cache_kv && !options_.disable_radix_cache && request.num_cached > 0) {
    state.cache.insert(std::span<const int32_t>(request.cache_key).first(request.num_cached),
                       request.pages);
  }
  state.pool.release_all(request.pages);
}

void Engine::publish_stats() {
  const SchedulerState& state = *state_;
  stats_.running_requests = static_cast<int32_t>(state.running.size());
  stats_.queued_requests = static_cast<int32_t>(state.waiting.size());
  stats_.used_pages = state.pool.total_pages() - state.pool.free_pages();
  stats_.cached_pages = state.cache.cached_pages();
}

}  // namespace glyph::engine
