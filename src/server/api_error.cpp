#include "server/api_error.h"

namespace glyph::server {

void throw_bad_request(const std::string& message) { throw ApiError(400, message); }

const char* error_type_for_status(int status) {
  switch (status) {
    case 400: return "BadRequestError";
    case 401: return "UnauthorizedError";
    case 404: return "NotFoundError";
    case 503: return "ServiceUnavailableError";
    default: break;
  }
  return status >= 500 ? "InternalServerError" : "BadRequestError";
}

nlohmann::ordered_json error_body(int status, const std::string& message) {
  nlohmann::ordered_json body;
  body["object"] = "error";
  body["message"] = message;
  body["type"] = error_type_for_status(status);
  body["param"] = nullptr;
  body["code"] = status;
  return body;
}

}  // namespace glyph::server
