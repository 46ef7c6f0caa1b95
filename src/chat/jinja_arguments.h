// Binds the arguments of a call to a built-in's Python signature, so that
// filters and methods accept positional and keyword arguments the way their
// Python originals do and reject the rest with Python's TypeError wording.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>
#include <vector>

#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

struct Parameter {
  const char* name;
  std::optional<Value> default_value;  // nullopt: required
};

// Returns one value per parameter, in signature order, with defaults filled in.
std::vector<Value> bind_arguments(std::string_view function, const Arguments& arguments,
                                  std::initializer_list<Parameter> parameters);

// Argument conversions with Python's errors.
int64_t require_int(std::string_view function, const Value& value);
const std::string& require_string(std::string_view function, const Value& value);

// A run of ASCII digits as an integer; nullopt when empty, not all digits or
// above 2**63-1.
std::optional<int64_t> parse_decimal(std::string_view digits);

}  // namespace glyph::chat::jinja
