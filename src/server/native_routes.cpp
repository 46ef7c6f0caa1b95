#include "server/native_routes.h"

#include <chrono>
#include <ctime>
#include <random>

#include <fmt/format.h>

#include "core/error.h"
#include "core/log.h"
#include "server/api_error.h"
#include "server/chat_media.h"
#include "server/chat_request.h"
#include "server/chat_response.h"
#include "server/client_connection.h"
#include "server/request_fields.h"

namespace glyph::server {

namespace {

using Clock = std::chrono::steady_clock;

// SGLang's default max_new_tokens for /generate, and OpenAI's max_tokens for /v1/completions.
constexpr int32_t kGenerateDefaultMaxNewTokens = 128;
constexpr int32_t kCompletionsDefaultMaxTokens = 16;
// SGLang's health check waits this long for its one-token request.
constexpr std::chrono::seconds kHealthGenerateTimeout{20};

HttpReply json_reply(const Json& body, int status = 200) {
  HttpReply reply;
  reply.status = status;
  reply.body = dump_json(body);
  return reply;
}

std::string random_hex_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}{:016x}", generator(), generator());
}

// One prompt of a /generate or /v1/completions request, ready for the engine.
struct PromptInput {
  std::vector<int32_t> ids;
  ChatRequest sampling;  // Only the sampling fields are used.
  std::vector<std::shared_ptr<const EncodedImage>> images;  // One per <|image|> in ids.
};

// Reads a prompt's token ids; unlike detokenize, a prompt may not be empty.
std::vector<int32_t> read_input_ids(const Json& list, const std::string& path,
                                    int32_t vocab_size) {
  std::vector<int32_t> ids = read_token_ids(list, path, vocab_size);
  if (ids.empty()) throw_bad_request(fmt::format("{} is empty; send at least one token", path));
  return ids;
}

// Reads a prompt given as text, a list of texts, token ids or lists of
// token ids. Returns one id list per prompt and whether the request was a batch.
std::vector<std::vector<int32_t>> read_prompts(const Json& value, const std::string& path,
                                               const text::Tokenizer& tokenizer, bool& batch) {
  std::vector<std::vector<int32_t>> prompts;
  auto encode = [&](const Json& text, const std::string& where) {
    if (!text.is_string()) {
      throw_bad_request(fmt::format("{} must be a string, got {}", where, describe_json_type(text)));
    }
    std::vector<int32_t> ids = tokenizer.encode(text.get<std::string>());
    if (ids.empty()) throw_bad_request(fmt::format("{} is empty; send some text", where));
    return ids;
  };
  batch = false;
  if (value.is_string()) {
    prompts.push_back(encode(value, path));
  } else if (value.is_array() && !value.empty() && value[0].is_string()) {
    batch = true;
    for (size_t i = 0; i < value.size(); ++i) {
      prompts.push_back(encode(value[i], fmt::format("{}[{}]", path, i)));
    }
  } else if (value.is_array() && !value.empty() && value[0].is_array()) {
    batch = true;
    for (size_t i = 0; i < value.size(); ++i) {
      const std::string where = fmt::format("{}[{}]", path, i);
      if (!value[i].is_array()) {
        throw_bad_request(fmt::format("{} must be a list of token ids, got {}", where,
                                      describe_json_type(value[i])));
      }
      prompts.push_back(read_input_ids(value[i], where, tokenizer.vocab_size()));
    }
  } else if (value.is_array() && !value.empty()) {
    prompts.push_back(read_input_ids(value, path, tokenizer.vocab_size()));
  } else {
    throw_bad_request(fmt::format(
        "{} must be a string, a list of strings, a list of token ids or a list of such lists",
        path));
  }
  return prompts;
}

// SGLang's meta_info.finish_reason: null while running, else
// {"type": "length", "length": N}, {"type": "stop", "matched": ...} or
// {"type": "abort", "message": ...}.
Json finish_reason_json(const engine::OutputEvent& last, int32_t completion_tokens) {
  switch (last.finish_reason) {
    case engine::FinishReason::kNone:
      return nullptr;
    case engine::FinishReason::kLength:
      return Json{{"type", "length"}, {"length", completion_tokens}};
    case engine::FinishReason::kStop:
      return Json{{"type", "stop"}, {"matched", matched_stop_json(last.matched_stop)}};
    case engine::FinishReason::kAbort:
      return Json{{"type", "abort"},
                  {"message", last.error.empty() ? "the request was aborted" : last.error}};
  }
  return nullptr;
}

// The state of one prompt's output as the events arrive.
struct OutputAccumulator {
  std::string text;
  std::vector<int32_t> ids;
  Json logprobs = Json::array();
  engine::OutputEvent last;
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;

  void add(engine::OutputEvent& event, bool return_logprob) {
    text += event.text;
    ids.insert(ids.end(), event.token_ids.begin(), event.token_ids.end());
    if (return_logprob) {
      for (size_t i = 0; i < event.token_logprobs.size() && i < event.token_ids.size(); ++i) {
        logprobs.push_back(Json::array({event.token_logprobs[i], event.token_ids[i], nullptr}));
      }
    }
    prompt_tokens = event.prompt_tokens;
    completion_tokens = event.completion_tokens;
    cached_tokens = event.cached_tokens;
    last = std::move(event);
  }
  bool finished() const { return last.finish_reason != engine::FinishReason::kNone; }
};

// Waits for every event of a request; a client that disconnects meanwhile
// cancels it.
void drain(engine::OutputChannel& channel, OutputAccumulator& output, bool return_logprob) {
  while (!output.finished()) {
    for (engine::OutputEvent& event : wait_while_connected(channel)) {
      output.add(event, return_logprob);
    }
  }
}

Json generate_result(const OutputAccumulator& output, const std::string& id, Clock::time_point start,
                     bool return_logprob) {
  Json meta = Json::object();
  meta["id"] = id;
  meta["finish_reason"] = finish_reason_json(output.last, output.completion_tokens);
  meta["prompt_tokens"] = output.prompt_tokens;
  meta["completion_tokens"] = output.completion_tokens;
  meta["cached_tokens"] = output.cached_tokens;
  meta["e2e_latency"] = std::chrono::duration<double>(Clock::now() - start).count();
  if (return_logprob) {
    // NOTE: prompt-token logprobs need logits at every prompt position, which
    // the forward pass does not return; the list stays empty.
    meta["input_token_logprobs"] = Json::array();
    meta["output_token_logprobs"] = output.logprobs;
  }
  Json result = Json::object();
  result["text"] = output.text;
  result["output_ids"] = output.ids;
  result["meta_info"] = std::move(meta);
  return result;
}

// Submits one prompt; the engine's context checks become 400s.
std::shared_ptr<engine::OutputChannel> submit_prompt(engine::Engine& engine, PromptInput& input,
                                                     int32_t default_max_tokens,
                                                     const std::string& id, bool return_logprob) {
  engine::GenerateRequest request;
  const model::ModelConfig& config = engine.model_config();
  place_images(input.ids, input.images, config.image_token_id, config.vision.spatial_merge_size,
               request);
  const auto prompt_tokens = static_cast<int32_t>(request.prompt.size());
  if (!input.sampling.max_tokens) input.sampling.max_tokens = default_max_tokens;
  check_context_fits(input.sampling, prompt_tokens, engine.context_length());
  request.id = id;
  request.sampling = to_sampling_params(input.sampling, engine.model_config().generation,
                                        prompt_tokens, engine.context_length());
  request.return_logprob = return_logprob;
  return engine.submit(std::move(request));
}


}  // namespace

HttpReply NativeRoutes::generate(const std::string& body) const {
  const Clock::time_point start = Clock::now();
  const Json request = parse_json_body(body);
  if (!request.is_object()) throw_bad_request("the request body must be a JSON object");
  const FieldReader fields(request, "");
  if (fields.has("text") == fields.has("input_ids")) {
    throw_bad_request("send exactly one of text or input_ids");
  }
  const char* prompt_key = fields.has("text") ? "text" : "input_ids";
  bool batch = false;
  std::vector<std::vector<int32_t>> prompts =
      read_prompts(*fields.get(prompt_key), prompt_key, *stack_.tokenizer, batch);
  const bool stream = fields.boolean("stream").value_or(false);
  const bool return_logprob = fields.boolean("return_logprob").value_or(false);
  if (stream && batch) {
    throw_bad_request("stream is not supported for a batch yet; send one prompt per request");
  }

  // sampling_params: one object for all prompts, or one per prompt.
  const Json* sampling = fields.get("sampling_params");
  std::vector<PromptInput> inputs(prompts.size());
  const SamplingFieldNames names{"max_new_tokens", "min_new_tokens", "sampling_seed"};
  for (size_t i = 0; i < prompts.size(); ++i) {
    inputs[i].ids = std::move(prompts[i]);
    const Json* params = sampling;
    std::string path = "sampling_params.";
    if (sampling && sampling->is_array()) {
      if (sampling->size() != prompts.size()) {
        throw_bad_request(fmt::format("sampling_params has {} entries for {} prompts; send one "
                                      "object, or one per prompt",
                                      sampling->size(), prompts.size()));
      }
      params = &(*sampling)[i];
      path = fmt::format("sampling_params[{}].", i);
    }
    if (params && !params->is_object()) {
      throw_bad_request(fmt::format("{} must be an object, got {}", path.substr(0, path.size() - 1),
                                    describe_json_type(*params)));
    }
    if (params) {
      read_sampling_fields(*params, path, stack_.tokenizer->vocab_size(), names,
                           inputs[i].sampling);
    }
  }

  if (const Json* image_data = fields.get("image_data"); image_data && !image_data->is_null()) {
    if (batch) {
      throw_bad_request("image_data with a batch of prompts is not supported; send one prompt "
                        "per request");
    }
    inputs[0].images = prepare_image_data(stack_, *image_data);
  }

  const std::string rid =
      fields.string("rid").value_or(random_hex_id());
  std::vector<std::shared_ptr<engine::OutputChannel>> channels;
  try {
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string id = batch ? fmt::format("{}-{}", rid, i) : rid;
      channels.push_back(submit_prompt(*stack_.engine, inputs[i], kGenerateDefaultMaxNewTokens,
                                       id, return_logprob));
    }
  } catch (...) {
    for (auto& channel : channels) channel->cancel();
    throw;
  }

  if (!stream) {
    Json results = Json::array();
    for (size_t i = 0; i < channels.size(); ++i) {
      OutputAccumulator output;
      drain(*channels[i], output, return_logprob);
      results.push_back(
          generate_result(output, batch ? fmt::format("{}-{}", rid, i) : rid, start, return_logprob));
    }
    return json_reply(batch ? results : results[0]);
  }

  // Streaming: each chunk carries the cumulative text and ids, as SGLang sends them.
  HttpReply reply;
  reply.content_type = "text/event-stream; charset=utf-8";
  auto channel = channels[0];
  reply.stream = [channel, rid, start, return_logprob](const StreamWriter& write) {
    OutputAccumulator output;
    while (!output.finished()) {
      for (engine::OutputEvent& event : channel->wait()) output.add(event, return_logprob);
      if (!write(sse_event(generate_result(output, rid, start, return_logprob)))) return false;
    }
    return write(sse_done());
  };
  reply.cancel = [channel, rid] {
    log::debug("request {}: the client disconnected; cancelling", rid);
    channel->cancel();
  };
  return reply;
}

HttpReply NativeRoutes::completions(const std::string& body) const {
  const Json request = parse_json_body(body);
  if (!request.is_object()) throw_bad_request("the request body must be a JSON object");
  const FieldReader fields(request, "");
  if (!fields.has("prompt")) throw_bad_request("prompt is missing; send the text to complete");
  if (fields.boolean("echo").value_or(false)) {
    throw_bad_request("echo is not supported yet; leave it false");
  }
  if (fields.has("suffix")) throw_bad_request("suffix is not supported; leave it out");
  if (const std::optional<int64_t> n = fields.integer("n"); n && *n != 1) {
    throw_bad_request(fmt::format("n must be 1, got {}; send separate requests for more choices", *n));
  }
  if (const std::optional<int64_t> logprobs = fields.integer("logprobs"); logprobs && *logprobs > 0) {
    throw_bad_request("logprobs is not supported yet on /v1/completions; use /generate with "
                      "return_logprob");
  }

  bool batch = false;
  std::vector<std::vector<int32_t>> prompts =
      read_prompts(*fields.get("prompt"), "prompt", *stack_.tokenizer, batch);
  const bool stream = fields.boolean("stream").value_or(false);
  if (stream && prompts.size() > 1) {
    throw_bad_request("stream is not supported for several prompts yet; send one per request");
  }
  bool include_usage = false;
  if (const Json* options = fields.object("stream_options")) {
    include_usage = FieldReader(*options, "stream_options.").boolean("include_usage").value_or(false);
  }

  std::vector<PromptInput> inputs(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    inputs[i].ids = std::move(prompts[i]);
    read_sampling_fields(request, "", stack_.tokenizer->vocab_size(), SamplingFieldNames{},
                         inputs[i].sampling);
  }

  ResponseHeader header;
  header.id = "cmpl-" + random_hex_id();
  header.created = static_cast<int64_t>(std::time(nullptr));
  header.model = fields.string("model").value_or("default");
  const bool cache_report = stack_.options.enable_cache_report;

  std::vector<std::shared_ptr<engine::OutputChannel>> channels;
  try {
    for (PromptInput& input : inputs) {
      channels.push_back(submit_prompt(*stack_.engine, input, kCompletionsDefaultMaxTokens,
                                       header.id, false));
    }
  } catch (...) {
    for (auto& channel : channels) channel->cancel();
    throw;
  }

  auto choice_json = [](size_t index, const std::string& text, const engine::OutputEvent& last) {
    Json choice = Json::object();
    choice["index"] = index;
    choice["text"] = text;
    choice["logprobs"] = nullptr;
    const char* reason = engine::to_string(last.finish_reason);
    choice["finish_reason"] = reason ? Json(reason) : Json(nullptr);
    choice["matched_stop"] = matched_stop_json(last.matched_stop);
    return choice;
  };
  auto envelope = [header](Json choices, Json usage) {
    Json response = Json::object();
    response["id"] = header.id;
    response["object"] = "text_completion";
    response["created"] = header.created;
    response["model"] = header.model;
    response["choices"] = std::move(choices);
    response["usage"] = std::move(usage);
    return response;
  };

  if (!stream) {
    Json choices = Json::array();
    TokenUsage usage;
    for (size_t i = 0; i < channels.size(); ++i) {
      OutputAccumulator output;
      drain(*channels[i], output, false);
      if (output.last.finish_reason == engine::FinishReason::kAbort && !output.last.error.empty()) {
        throw Error(ErrorKind::kInternal, output.last.error);
      }
      choices.push_back(choice_json(i, output.text, output.last));
      usage.prompt_tokens += output.prompt_tokens;
      usage.completion_tokens += output.completion_tokens;
      usage.cached_tokens += output.cached_tokens;
    }
    return json_reply(envelope(std::move(choices), usage_json(usage, cache_report)));
  }

  HttpReply reply;
  reply.content_type = "text/event-stream; charset=utf-8";
  auto channel = channels[0];
  reply.stream = [channel, choice_json, envelope, include_usage,
                  cache_report](const StreamWriter& write) {
    OutputAccumulator output;
    while (!output.finished()) {
      for (engine::OutputEvent& event : channel->wait()) {
        std::string delta = event.text;
        output.add(event, false);
        if (delta.empty() && !output.finished()) continue;
        Json chunk = envelope(Json::array({choice_json(0, delta, output.last)}), nullptr);
        if (!write(sse_event(chunk))) return false;
      }
    }
    if (include_usage) {
      TokenUsage usage{output.prompt_tokens, output.completion_tokens, output.cached_tokens};
      if (!write(sse_event(envelope(Json::array(), usage_json(usage, cache_report))))) return false;
    }
    return write(sse_done());
  };
  reply.cancel = [channel] { channel->cancel(); };
  return reply;
}

HttpReply NativeRoutes::server_info() const {
  const ServeOptions& options = stack_.options;
  const engine::Engine& engine = *stack_.engine;
  const engine::EngineOptions& engine_options = engine.options();
  Json info = Json::object();
  info["model_path"] = options.model_path;
  info["tokenizer_path"] = options.effective_tokenizer_path();
  info["served_model_name"] = options.effective_served_model_name();
  info["host"] = options.host;
  info["port"] = options.port;
  info["tp_size"] = options.tp_size;
  info["dp_size"] = 1;
  info["load_format"] = options.load_format;
  info["dtype"] = options.dtype;
  info["context_length"] = engine.context_length();
  info["mem_fraction_static"] = options.mem_fraction_static;
  info["max_total_tokens"] = engine.kv_pool_tokens();
  info["max_running_requests"] = engine_options.max_running_requests;
  info["max_queued_requests"] = engine_options.max_queued_requests;
  info["chunked_prefill_size"] = engine_options.chunked_prefill_size;
  info["page_size"] = engine_options.kv_page_size;
  info["schedule_policy"] =
      engine_options.schedule_policy == engine::SchedulePolicy::kLpm ? "lpm" : "fcfs";
  info["disable_radix_cache"] = engine_options.disable_radix_cache;
  info["enable_cache_report"] = options.enable_cache_report;
  info["enable_metrics"] = options.enable_metrics;
  info["reasoning_parser"] = options.reasoning_parser.empty() ? Json(nullptr)
                                                              : Json(options.reasoning_parser);
  info["tool_call_parser"] = options.tool_call_parser.empty() ? Json(nullptr)
                                                              : Json(options.tool_call_parser);
  info["random_seed"] = options.random_seed ? Json(*options.random_seed) : Json(nullptr);
  info["log_level"] = options.log_level;
  info["max_total_num_tokens"] = engine.kv_pool_tokens();

  const engine::EngineStats& stats = engine.stats();
  Json state = Json::object();
  state["avg_spec_accept_length"] = nullptr;
  state["num_running_reqs"] = stats.running_requests.load();
  state["num_queue_reqs"] = stats.queued_requests.load();
  state["num_used_pages"] = stats.used_pages.load();
  state["num_cached_pages"] = stats.cached_pages.load();
  info["internal_states"] = Json::array({state});
  info["version"] = "0.5.6";
  return json_reply(info);
}

HttpReply NativeRoutes::flush_cache() const {
  stack_.engine->flush_cache();
  HttpReply reply;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = "Cache flushed.\nPlease check backend logs for more details. (When there are "
               "running or waiting requests, the operation will not be performed.)\n";
  return reply;
}

HttpReply NativeRoutes::health_generate() const {
  engine::GenerateRequest request;
  request.id = "health-" + random_hex_id();
  request.prompt = {0};
  request.sampling.temperature = 0.0f;
  request.sampling.max_new_tokens = 1;
  std::shared_ptr<engine::OutputChannel> channel = stack_.engine->submit(std::move(request));
  const Clock::time_point deadline = Clock::now() + kHealthGenerateTimeout;
  while (Clock::now() < deadline) {
    for (const engine::OutputEvent& event :
         channel->wait_for(std::chrono::duration_cast<std::chrono::milliseconds>(
             deadline - Clock::now()))) {
      if (event.finish_reason == engine::FinishReason::kNone) continue;
      HttpReply reply;
      reply.status = event.finish_reason == engine::FinishReason::kAbort ? 503 : 200;
      reply.body = "";
      return reply;
    }
  }
  channel->cancel();
  log::error("health check: no token within {} s", kHealthGenerateTimeout.count());
  HttpReply reply;
  reply.status = 503;
  reply.body = "";
  return reply;
}

HttpReply NativeRoutes::metrics() const {
  const engine::Engine& engine = *stack_.engine;
  const engine::EngineStats& stats = engine.stats();
  const std::string labels =
      fmt::format("{{model_name=\"{}\"}}", stack_.options.effective_served_model_name());
  std::string text;
  auto metric = [&](const char* name, const char* type, const char* help, double value) {
    text += fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0}{3} {4}\n", name, help, type, labels,
                        value);
  };
  auto histogram = [&](const char* name, const char* help, const engine::LatencyHistogram& h) {
    text += fmt::format("# HELP {0} {1}\n# TYPE {0} histogram\n", name, help);
    const std::string model_label =
        fmt::format("model_name=\"{}\"", stack_.options.effective_served_model_name());
    int64_t cumulative = 0;
    for (size_t i = 0; i < h.upper_bounds().size(); ++i) {
      cumulative += h.bucket_count(i);
      text += fmt::format("{}_bucket{{{},le=\"{}\"}} {}\n", name, model_label, h.upper_bounds()[i],
                          cumulative);
    }
    cumulative += h.bucket_count(h.upper_bounds().size());
    text += fmt::format("{}_bucket{{{},le=\"+Inf\"}} {}\n", name, model_label, cumulative);
    text += fmt::format("{}_sum{} {}\n{}_count{} {}\n", name, labels, h.sum_seconds(), name, labels,
                        cumulative);
  };

  const double pool_tokens = engine.kv_pool_tokens();
  const double used_tokens =
      static_cast<double>(stats.used_pages.load()) * engine.options().kv_page_size;
  const double prompt_total = static_cast<double>(stats.prompt_tokens_total.load());
  metric("sglang:prompt_tokens_total", "counter", "Number of prefill tokens processed.",
         prompt_total);
  metric("sglang:generation_tokens_total", "counter", "Number of generation tokens processed.",
         static_cast<double>(stats.generation_tokens_total.load()));
  metric("sglang:cached_tokens_total", "counter", "Number of prompt tokens served from the prefix cache.",
         static_cast<double>(stats.cached_tokens_total.load()));
  metric("sglang:num_requests_total", "counter", "Number of requests received.",
         static_cast<double>(stats.requests_total.load()));
  metric("sglang:num_aborted_requests_total", "counter", "Number of requests aborted.",
         static_cast<double>(stats.aborted_requests_total.load()));
  metric("sglang:num_retractions_total", "counter",
         "Number of times a running request was sent back to the queue for lack of KV cache.",
         static_cast<double>(stats.retractions_total.load()));
  metric("sglang:num_running_reqs", "gauge", "The number of running requests.",
         stats.running_requests.load());
  metric("sglang:num_queue_reqs", "gauge", "The number of requests in the waiting queue.",
         stats.queued_requests.load());
  metric("sglang:num_used_tokens", "gauge", "The number of KV cache slots in use.", used_tokens);
  metric("sglang:max_total_num_tokens", "gauge", "The KV cache size in tokens.", pool_tokens);
  metric("sglang:token_usage", "gauge", "The share of the KV cache in use.",
         pool_tokens > 0 ? used_tokens / pool_tokens : 0.0);
  metric("sglang:cache_hit_rate", "gauge", "The share of prompt tokens served from the prefix cache.",
         prompt_total > 0 ? static_cast<double>(stats.cached_tokens_total.load()) / prompt_total
                          : 0.0);
  histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
            stats.time_to_first_token);
  histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
            stats.inter_token_latency);
  histogram("sglang:e2e_request_latency_seconds",
            "Histogram of end-to-end request latency in seconds.", stats.e2e_request_latency);

  HttpReply reply;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  reply.body = std::move(text);
  return reply;
}

}  // namespace glyph::server
