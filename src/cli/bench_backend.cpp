#include "cli/bench_backend.h"

#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace glyph::cli {

namespace {

using nlohmann::json;

struct BackendName {
  const char* name;
  BackendInfo info;
};

// bench_serving's ASYNC_REQUEST_FUNCS entries that glyph bench speaks, plus
// "openai"/"openai-chat" as names for the OpenAI routes. Ports follow
// bench_serving's defaults (vllm 8000, lmdeploy 23333, the rest 30000).
constexpr BackendName kBackends[] = {
    {"sglang", {BenchProtocol::kNativeGenerate, 30000}},
    {"sglang-native", {BenchProtocol::kNativeGenerate, 30000}},
    {"sglang-oai", {BenchProtocol::kCompletions, 30000}},
    {"sglang-oai-chat", {BenchProtocol::kChatCompletions, 30000}},
    {"vllm", {BenchProtocol::kCompletions, 8000}},
    {"vllm-chat", {BenchProtocol::kChatCompletions, 30000}},
    {"openai", {BenchProtocol::kCompletions, 30000}},
    {"openai-chat", {BenchProtocol::kChatCompletions, 30000}},
    {"lmdeploy", {BenchProtocol::kCompletions, 23333}},
    {"lmdeploy-chat", {BenchProtocol::kChatCompletions, 30000}},
};

// Strips the SSE field name of a data line. Other lines pass unchanged.
std::string_view strip_data_prefix(std::string_view line) {
  if (line.starts_with("data:")) {
    line.remove_prefix(5);
    if (line.starts_with(' ')) line.remove_prefix(1);
  }
  return line;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// A string member of `object`, or "" when absent or not a string (null included).
std::string string_member(const json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) return "";
  return found->get<std::string>();
}

// usage.completion_tokens when the chunk carries a usage object.
std::optional<int64_t> usage_completion_tokens(const json& chunk) {
  const auto usage = chunk.find("usage");
  if (usage == chunk.end() || !usage->is_object()) return std::nullopt;
  const auto tokens = usage->find("completion_tokens");
  if (tokens == usage->end() || !tokens->is_number_integer()) return std::nullopt;
  return tokens->get<int64_t>();
}

// choices[0] of an OpenAI chunk, or an empty object when there is none.
const json& first_choice(const json& chunk) {
  static const json kEmpty = json::object();
  const auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array() || choices->empty()) return kEmpty;
  return choices->front();
}

void throw_if_error_chunk(const json& chunk) {
  if (!chunk.is_object())
    throw std::runtime_error("the server sent a chunk that is not a JSON object");
  const auto error = chunk.find("error");
  if (error != chunk.end() && !error->is_null()) {
    throw std::runtime_error(fmt::format("the server reported an error: {}", error->dump()));
  }
}

json parse_chunk(std::string_view text) {
  json chunk = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (chunk.is_discarded()) {
    const std::string_view shown = text.substr(0, 200);
    throw std::runtime_error(fmt::format("the server sent a line that is not JSON: {}", shown));
  }
  throw_if_error_chunk(chunk);
  return chunk;
}

}  // namespace

std::optional<BackendInfo> find_backend(std::string_view name) {
  for (const BackendName& backend : kBackends) {
    if (name == backend.name) return backend.info;
  }
  return std::nullopt;
}

const std::vector<std::string>& backend_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> list;
    for (const BackendName& backend : kBackends) list.emplace_back(backend.name);
    return list;
  }();
  return names;
}

std::string request_path(BenchProtocol protocol) {
  switch (protocol) {
    case BenchProtocol::kNativeGenerate:
      return "/generate";
    case BenchProtocol::kCompletions:
      return "/v1/completions";
    case BenchProtocol::kChatCompletions:
      return "/v1/chat/completions";
  }
  return "/generate";
}

json build_request_body(const BenchRequest& request, const RequestSettings& settings) {
  json body = json::object();
  switch (settings.protocol) {
    case BenchProtocol::kNativeGenerate:
      if (request.prompt_ids) {
        body["input_ids"] = *request.prompt_ids;
      } else {
        body["text"] = request.prompt;
      }
      body["sampling_params"] = {
          {"temperature", 0.0},
          {"max_new_tokens", request.output_len},
          {"ignore_eos", settings.ignore_eos},
      };
      body["stream"] = settings.stream;
      body["lora_path"] = nullptr;
      body["return_logprob"] = settings.return_logprob;
      body["logprob_start_len"] = -1;
      break;

    case BenchProtocol::kCompletions:
      body["model"] = settings.model;
      body["prompt"] = request.prompt;
      body["temperature"] = 0.0;
      body["best_of"] = 1;
      body["max_tokens"] = request.output_len;
      body["stream"] = settings.stream;
      body["ignore_eos"] = settings.ignore_eos;
      break;

    case BenchProtocol::kChatCompletions:
      body["model"] = settings.model;
      body["messages"] = json::array({{{"role", "user"}, {"content", request.prompt}}});
      body["temperature"] = 0.0;
      body["max_completion_tokens"] = request.output_len;
      body["stream"] = settings.stream;
      body["ignore_eos"] = settings.ignore_eos;
      break;
  }

  for (const auto& [key, value] : settings.extra_body.items()) body[key] = value;
  return body;
}

ResponseTimeline::ResponseTimeline(const RequestSettings& settings, const BenchRequest& request,
                                   double start_time)
    : protocol_(settings.protocol), stream_(settings.stream), last_chunk_time_(start_time) {
  output_.prompt_len = request.prompt_len;
  output_.output_len = request.output_len;
  output_.start_time = start_time;
}

void ResponseTimeline::add_line(std::string_view line, double received_at) {
  line = trim(line);
  if (line.empty() || line.starts_with(':')) return;

  saw_line_ = true;
  output_.latency = received_at - output_.start_time;
  const std::string_view payload = strip_data_prefix(line);
  if (payload == "[DONE]") return;

  const json chunk = parse_chunk(payload);
  switch (protocol_) {
    case BenchProtocol::kNativeGenerate:
      add_native_chunk(chunk, received_at);
      break;
    case BenchProtocol::kCompletions:
      add_completion_chunk(chunk, received_at);
      break;
    case BenchProtocol::kChatCompletions:
      add_chat_chunk(chunk, received_at);
      break;
  }
}

void ResponseTimeline::add_body(std::string_view body, double received_at) {
  if (protocol_ != BenchProtocol::kChatCompletions) {
    add_line(body, received_at);
    return;
  }

  // A non-streaming chat reply: TTFT is the whole latency, as bench_serving has it.
  saw_line_ = true;
  const json reply = parse_chunk(trim(body));
  output_.latency = received_at - output_.start_time;
  output_.ttft = output_.latency;
  output_.generated_text =
      string_member(first_choice(reply).value("message", json::object()), "content");
  if (const auto tokens = usage_completion_tokens(reply)) output_.output_len = *tokens;
}

void ResponseTimeline::add_native_chunk(const json& chunk, double received_at) {
  const std::string text = string_member(chunk, "text");
  if (text.empty()) return;

  // "text" is cumulative and meta_info.completion_tokens counts all tokens so far.
  const auto meta_info = chunk.find("meta_info");
  if (meta_info == chunk.end() || !meta_info->contains("completion_tokens")) {
    throw std::runtime_error("a /generate chunk has text but no meta_info.completion_tokens");
  }
  const int64_t completion_tokens = (*meta_info)["completion_tokens"].get<int64_t>();
  output_.generated_text = text;
  output_.output_len = completion_tokens;

  if (!saw_first_text_) {
    saw_first_text_ = true;
    output_.ttft = received_at - output_.start_time;
  } else {
    // A chunk that carries k new tokens counts as k equal gaps. A chunk with
    // no new token leaves the clock where it was, so its gap joins the next one.
    const int64_t new_tokens = completion_tokens - last_output_len_;
    if (new_tokens == 0) return;
    const double gap = (received_at - last_chunk_time_) / static_cast<double>(new_tokens);
    for (int64_t i = 0; i < new_tokens; ++i) output_.itl.push_back(gap);
  }
  last_chunk_time_ = received_at;
  last_output_len_ = completion_tokens;
}

void ResponseTimeline::add_completion_chunk(const json& chunk, double received_at) {
  const std::string text = string_member(first_choice(chunk), "text");
  if (!text.empty()) add_text_chunk(text, received_at);
  if (const auto tokens = usage_completion_tokens(chunk)) output_.output_len = *tokens;
}

void ResponseTimeline::add_chat_chunk(const json& chunk, double received_at) {
  // Only content deltas count, so reasoning_content deltas do not start the TTFT clock.
  const json& choice = first_choice(chunk);
  const std::string content = string_member(choice.value("delta", json::object()), "content");
  if (!content.empty()) add_text_chunk(content, received_at);
  if (const auto tokens = usage_completion_tokens(chunk)) output_.output_len = *tokens;
}

void ResponseTimeline::add_text_chunk(const std::string& text, double received_at) {
  if (!saw_first_text_) {
    saw_first_text_ = true;
    output_.ttft = received_at - output_.start_time;
  } else {
    output_.text_chunks.push_back(text);
    output_.itl.push_back(received_at - last_chunk_time_);
  }
  last_chunk_time_ = received_at;
  output_.generated_text += text;
}

RequestOutput ResponseTimeline::finish() {
  if (!saw_line_)
    throw std::runtime_error("the server closed the response without sending a chunk");
  output_.success = true;
  return std::move(output_);
}

}  // namespace glyph::cli
