// The HTTP routes' logic, free of the HTTP library: each handler takes the
// request body and returns the reply. http_server.cpp maps URLs to them.
//
// Handlers throw ApiError for client errors; the caller turns any exception
// into SGLang's error body.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "server/serving_stack.h"

namespace glyph::server {

// Writes one piece of a streamed body; returns false once the client is gone.
using StreamWriter = std::function<bool(const std::string&)>;

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Set for a Server-Sent Events reply: writes the whole stream, returns
  // false if the client left before the end.
  std::function<bool(const StreamWriter&)> stream;
  // Called when a stream ends early, to stop generating for a client that left.
  std::function<void()> cancel;
};

class ApiRoutes {
 public:
  explicit ApiRoutes(ServingStack& stack);

  HttpReply chat_completions(const std::string& body) const;  // POST /v1/chat/completions
  HttpReply models() const;                                    // GET /v1/models
  HttpReply model(const std::string& id) const;                // GET /v1/models/{id}
  HttpReply model_info() const;                                // GET /get_model_info
  HttpReply tokenize(const std::string& body) const;           // POST /v1/tokenize
  HttpReply detokenize(const std::string& body) const;         // POST /v1/detokenize

 private:
  std::string render_messages_prompt(const nlohmann::ordered_json& body) const;

  ServingStack& stack_;
  int64_t started_at_;  // Unix seconds, the "created" of /v1/models.
};

// Parses a request body; malformed JSON is a 400 whose message gives where parsing failed.
nlohmann::ordered_json parse_json_body(const std::string& body);

}  // namespace glyph::server
