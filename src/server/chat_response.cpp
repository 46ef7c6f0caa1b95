#include "server/chat_response.h"

#include <random>

#include <fmt/format.h>

namespace glyph::server {

using Json = nlohmann::ordered_json;

std::string new_completion_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("chatcmpl-{:016x}{:016x}", generator(), generator());
}

std::string new_tool_call_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  // 24 hex digits: 16 from one draw and 8 from the low half of another.
  return fmt::format("call_{:016x}{:08x}", generator(), generator() & 0xffffffffu);
}

Json tool_call_json(const Json& id, int32_t index, const Json& name,
                    const std::string& arguments) {
  Json function = Json::object();
  function["name"] = name;
  function["arguments"] = arguments;

  Json call = Json::object();
  call["id"] = id;
  call["index"] = index;
  call["type"] = "function";
  call["function"] = std::move(function);
  return call;
}

Json usage_json(const TokenUsage& usage, bool cache_report) {
  Json json = Json::object();
  json["prompt_tokens"] = usage.prompt_tokens;
  json["total_tokens"] = usage.prompt_tokens + usage.completion_tokens;
  json["completion_tokens"] = usage.completion_tokens;
  Json details = Json::object();
  if (cache_report) details["cached_tokens"] = usage.cached_tokens;
  if (usage.image_tokens > 0) details["image_tokens"] = usage.image_tokens;
  if (usage.rendered_text_tokens > 0) details["rendered_text_tokens"] = usage.rendered_text_tokens;
  json["prompt_tokens_details"] = details.empty() ? Json(nullptr) : std::move(details);
  return json;
}

Json matched_stop_json(const std::variant<std::monostate, int32_t, std::string>& matched_stop) {
  if (const auto* token = std::get_if<int32_t>(&matched_stop)) return *token;
  if (const auto* text = std::get_if<std::string>(&matched_stop)) return *text;
  return nullptr;
}

Json text_or_null(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

Json chat_completion_json(const ResponseHeader& header, const ReplyMessage& reply,
                          const char* finish_reason, const Json& matched_stop,
                          const Json& usage) {
  Json message = Json::object();
  message["role"] = "assistant";
  message["content"] = reply.content;
  message["reasoning_content"] = reply.reasoning_content;
  message["tool_calls"] = reply.tool_calls;

  Json choice = Json::object();
  choice["index"] = 0;
  choice["message"] = std::move(message);
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason ? Json(finish_reason) : Json(nullptr);
  choice["matched_stop"] = matched_stop;

  Json response = Json::object();
  response["id"] = header.id;
  response["object"] = "chat.completion";
  response["created"] = header.created;
  response["model"] = header.model;
  response["choices"] = Json::array({std::move(choice)});
  response["usage"] = usage;
  return response;
}

Json delta_json(const Json& role, const Json& content, const Json& reasoning_content,
                const Json& tool_calls) {
  Json delta = Json::object();
  delta["role"] = role;
  delta["content"] = content;
  delta["reasoning_content"] = reasoning_content;
  delta["tool_calls"] = tool_calls;
  return delta;
}

Json chunk_json(const ResponseHeader& header, const Json& delta, const Json& finish_reason,
                const Json& matched_stop, const Json& usage) {
  Json choice = Json::object();
  choice["index"] = 0;
  choice["delta"] = delta;
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish_reason;
  choice["matched_stop"] = matched_stop;

  Json chunk = Json::object();
  chunk["id"] = header.id;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = header.created;
  chunk["model"] = header.model;
  chunk["choices"] = Json::array({std::move(choice)});
  chunk["usage"] = usage;
  return chunk;
}

Json usage_chunk_json(const ResponseHeader& header, const Json& usage) {
  Json chunk = Json::object();
  chunk["id"] = header.id;
  chunk["object"] = "chat.completion.chunk";
  chunk["created"] = header.created;
  chunk["model"] = header.model;
  chunk["choices"] = Json::array();
  chunk["usage"] = usage;
  return chunk;
}

std::string dump_json(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sse_event(const Json& value) { return "data: " + dump_json(value) + "\n\n"; }

std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace glyph::server
