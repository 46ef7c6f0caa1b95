// HTTP errors with SGLang's bodies.
//
// The OpenAI-compatible routes reply with SGLang's error object,
//   {"object": "error", "message": ..., "type": "BadRequestError", "param": null, "code": 400},
// a failed API key with {"error": "Unauthorized"}, and an unknown route with
// FastAPI's {"detail": "Not Found"}.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace glyph::server {

// A request failure that the server returns as an HTTP error status.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

// Throws HTTP 400 with the message; messages name the field and the fix.
[[noreturn]] void throw_bad_request(const std::string& message);

// SGLang's error type name for an HTTP status: BadRequestError, NotFoundError, ...
const char* error_type_for_status(int status);

// SGLang's error object for an OpenAI-compatible route.
nlohmann::ordered_json error_body(int status, const std::string& message);

}  // namespace glyph::server
