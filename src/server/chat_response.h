// JSON shapes of chat completion responses and stream chunks, as SGLang's
// protocol.py serializes them (pydantic: null fields are written, not
// omitted), and Server-Sent Events framing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "engine/engine.h"

namespace glyph::server {

// The fields every response and chunk of one request repeats.
struct ResponseHeader {
  std::string id;        // "chatcmpl-" and 32 hex digits.
  int64_t created = 0;   // Unix seconds.
  std::string model;     // As the request named it.
};

struct TokenUsage {
  int32_t prompt_tokens = 0;
  int32_t completion_tokens = 0;
  int32_t cached_tokens = 0;
  int32_t image_tokens = 0;          // Prompt tokens that are image placeholders.
  int32_t rendered_text_tokens = 0;  // Text tokens that rendered pages replaced.
};

// A fresh "chatcmpl-..." id from a random 128-bit value.
std::string new_completion_id();

// A fresh tool-call id, "call_" and 24 hex digits, the form SGLang gives its
// calls (the first 24 digits of a uuid4).
std::string new_tool_call_id();

// One entry of message.tool_calls or delta.tool_calls, in SGLang's ToolCall
// shape {"id", "index", "type": "function", "function": {"name", "arguments"}}.
// A stream's argument deltas pass null for id and name.
nlohmann::ordered_json tool_call_json(const nlohmann::ordered_json& id, int32_t index,
                                      const nlohmann::ordered_json& name,
                                      const std::string& arguments);

// usage: prompt_tokens_details is null unless cache_report (--enable-cache-report).
nlohmann::ordered_json usage_json(const TokenUsage& usage, bool cache_report);

// SGLang's matched_stop: the token id, the stop string, or null.
nlohmann::ordered_json matched_stop_json(
    const std::variant<std::monostate, int32_t, std::string>& matched_stop);

// A text field that is null when empty, as SGLang reports content and reasoning_content.
nlohmann::ordered_json text_or_null(const std::string& text);

// The assistant message of a non-streaming response.
struct ReplyMessage {
  nlohmann::ordered_json content;            // A string, or null.
  nlohmann::ordered_json reasoning_content;  // A string, or null.
  nlohmann::ordered_json tool_calls;         // An array of tool_call_json(), or null.
};

// The non-streaming response object (object "chat.completion").
nlohmann::ordered_json chat_completion_json(const ResponseHeader& header,
                                            const ReplyMessage& message,
                                            const char* finish_reason,
                                            const nlohmann::ordered_json& matched_stop,
                                            const nlohmann::ordered_json& usage);

// A stream delta: {"role", "content", "reasoning_content", "tool_calls"}.
nlohmann::ordered_json delta_json(const nlohmann::ordered_json& role,
                                  const nlohmann::ordered_json& content,
                                  const nlohmann::ordered_json& reasoning_content,
                                  const nlohmann::ordered_json& tool_calls = nullptr);

// One stream chunk (object "chat.completion.chunk") with one choice.
nlohmann::ordered_json chunk_json(const ResponseHeader& header, const nlohmann::ordered_json& delta,
                                  const nlohmann::ordered_json& finish_reason,
                                  const nlohmann::ordered_json& matched_stop,
                                  const nlohmann::ordered_json& usage);

// The closing usage chunk of stream_options.include_usage: no choices.
nlohmann::ordered_json usage_chunk_json(const ResponseHeader& header,
                                        const nlohmann::ordered_json& usage);

// Compact JSON as pydantic writes it; invalid UTF-8 becomes U+FFFD.
std::string dump_json(const nlohmann::ordered_json& value);

// "data: <json>\n\n"
std::string sse_event(const nlohmann::ordered_json& value);
// "data: [DONE]\n\n"
std::string sse_done();

}  // namespace glyph::server
