// Turns one request's engine events into a chat completion: the whole
// response object, or a stream of SSE chunks. Both paths run the same
// reasoning parser over the same text, so they split it the same way.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "server/chat_response.h"

namespace glyph::server {

// Blocks until the next events of the request arrive: the engine's
// OutputChannel::wait in the server, a prepared list in tests.
using EventSource = std::function<std::vector<engine::OutputEvent>()>;

struct ReplyOptions {
  bool separate_reasoning = false;  // --reasoning-parser is set and the request wants it split.
  bool stream_reasoning = true;
  bool include_usage = false;           // Stream: end with a usage chunk.
  bool continuous_usage_stats = false;  // Stream: usage in every chunk.
  bool cache_report = false;            // --enable-cache-report.
};

// Waits for the request to finish and returns the response object. An
// engine failure throws ApiError(500).
nlohmann::ordered_json collect_reply(const EventSource& next_events, const ResponseHeader& header,
                                     const ReplyOptions& options);

// Writes the SSE stream: a role chunk, content and reasoning deltas, a
// finish chunk, an optional usage chunk and [DONE]. An engine failure is
// sent as a data: {"error": ...} event before [DONE]. write returns false
// once the client is gone; stream_reply then stops and returns false.
bool stream_reply(const EventSource& next_events, const ResponseHeader& header,
                  const ReplyOptions& options,
                  const std::function<bool(const std::string&)>& write);

}  // namespace glyph::server
