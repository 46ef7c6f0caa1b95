// Errors that cross layer boundaries.
//
// Code below the server throws glyph::Error with a kind; the server maps
// InvalidRequest to HTTP 400, NotFound to 404, Unavailable to 503 and the
// rest to 500. Messages name the value, the limit and the fix, because they
// reach users verbatim.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace glyph {

enum class ErrorKind {
  kInvalidRequest,  // The caller sent something wrong; safe to show.
  kNotFound,        // A named thing (file, tensor, model) does not exist.
  kBadModel,        // The model directory is missing, truncated or inconsistent.
  kUnavailable,     // The server is overloaded or shutting down; retry later.
  kInternal,        // A bug or an unexpected failure inside glyph.
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void throw_error(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

// Checks an internal invariant; a failure is a glyph bug, not bad input.
#define GLYPH_CHECK(condition, ...)                                                       \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      ::glyph::throw_error(::glyph::ErrorKind::kInternal, "{}:{}: check failed: {}: {}", \
                           __FILE__, __LINE__, #condition, fmt::format(__VA_ARGS__));    \
    }                                                                                     \
  } while (0)

}  // namespace glyph
