// Turns one request's engine events into a chat completion: the whole
// response object, or a stream of SSE chunks. Both paths run the same
// ChatOutputParser over the same text, so they split it into reasoning,
// content and tool calls the same way.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_schema.h"
#include "engine/engine.h"
#include "server/chat_response.h"

namespace glyph::server {

// Blocks until the next events of the request arrive: the engine's
// OutputChannel::wait in the server, a prepared list in tests.
using EventSource = std::function<std::vector<engine::OutputEvent>()>;

struct ReplyOptions {
  bool separate_reasoning = false;  // --reasoning-parser is set and the request wants it split.
  bool stream_reasoning = true;
  // The tools the reply may call, for the tool-call parser; null when tool
  // calls are not parsed (no --tool-call-parser, no tools, or tool_choice "none").
  std::shared_ptr<const std::vector<chat::ToolSpec>> tools;
  bool include_usage = false;           // Stream: end with a usage chunk.
  bool continuous_usage_stats = false;  // Stream: usage in every chunk.
  bool cache_report = false;            // --enable-cache-report.
  int32_t image_tokens = 0;             // Reported in usage.prompt_tokens_details.
  int32_t rendered_text_tokens = 0;
};

// Waits for the request to finish and returns the response object. An
// engine failure throws ApiError(500).
nlohmann::ordered_json collect_reply(const EventSource& next_events, const ResponseHeader& header,
                                     const ReplyOptions& options);

// Writes the SSE stream: a role chunk, reasoning, content and tool-call
// deltas, a finish chunk, an optional usage chunk and [DONE]. A tool call
// arrives as a delta with its id, name and empty arguments, then as
// argument deltas (id and name null) whose texts join to the arguments of
// the non-streaming reply. An engine failure is
// sent as a data: {"error": ...} event before [DONE]. write returns false
// once the client is gone; stream_reply then stops and returns false.
bool stream_reply(const EventSource& next_events, const ResponseHeader& header,
                  const ReplyOptions& options,
                  const std::function<bool(const std::string&)>& write);

}  // namespace glyph::server
