#include "chat/jinja_arguments.h"

#include <charconv>

#include <fmt/format.h>

namespace glyph::chat::jinja {

std::vector<Value> bind_arguments(std::string_view function, const Arguments& arguments,
                                  std::initializer_list<Parameter> parameters) {
  const std::vector<Parameter> signature(parameters);
  if (arguments.positional.size() > signature.size()) {
    throw_render_error(fmt::format("{}() takes at most {} argument(s) ({} given)", function, signature.size(),
                                   arguments.positional.size()));
  }
  std::vector<std::optional<Value>> bound(signature.size());
  for (size_t i = 0; i < arguments.positional.size(); ++i) bound[i] = arguments.positional[i];
  for (const auto& [name, value] : arguments.keyword) {
    size_t index = 0;
    while (index < signature.size() && name != signature[index].name) ++index;
    if (index == signature.size()) {
      throw_render_error(fmt::format("{}() got an unexpected keyword argument '{}'", function, name));
    }
    if (bound[index]) throw_render_error(fmt::format("{}() got multiple values for argument '{}'", function, name));
    bound[index] = value;
  }

  std::vector<Value> values;
  values.reserve(signature.size());
  for (size_t i = 0; i < signature.size(); ++i) {
    if (bound[i]) {
      values.push_back(std::move(*bound[i]));
    } else if (signature[i].default_value) {
      values.push_back(*signature[i].default_value);
    } else {
      throw_render_error(fmt::format("{}() missing required argument '{}'", function, signature[i].name));
    }
  }
  return values;
}

int64_t require_int(std::string_view function, const Value& value) {
  value.require_defined();
  if (value.is_int() || value.is_bool()) return value.as_int();
  throw_render_error(
      fmt::format("{}(): '{}' object cannot be interpreted as an integer", function, python_type_name(value)));
}

const std::string& require_string(std::string_view function, const Value& value) {
  value.require_defined();
  if (value.is_string()) return value.text();
  throw_render_error(fmt::format("{}() argument must be str, not {}", function, python_type_name(value)));
}

std::optional<int64_t> parse_decimal(std::string_view digits) {
  if (digits.empty() || digits[0] < '0' || digits[0] > '9') return std::nullopt;
  int64_t value = 0;
  const auto result = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (result.ec != std::errc() || result.ptr != digits.data() + digits.size()) return std::nullopt;
  return value;
}

}  // namespace glyph::chat::jinja
