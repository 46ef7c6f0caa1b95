#include "server/request_fields.h"

#include <cmath>

#include <fmt/format.h>

#include "server/api_error.h"

namespace glyph::server {

std::string describe_json_type(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::string: return "a string";
    case Json::value_t::array: return "a list";
    case Json::value_t::object: return "an object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    default: break;
  }
  return "an unsupported value";
}

std::string quote_json_value(const Json& value) {
  std::string text = value.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr size_t kMaxChars = 60;
  if (text.size() > kMaxChars) text = text.substr(0, kMaxChars) + "...";
  return text;
}

FieldReader::FieldReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

const Json* FieldReader::get(const char* key) const {
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

bool FieldReader::has(const char* key) const { return get(key) != nullptr; }

void FieldReader::fail_type(const char* key, const char* expected) const {
  const Json& value = object_.at(key);
  throw_bad_request(fmt::format("{} must be {}, got {} ({})", name(key), expected,
                                quote_json_value(value), describe_json_type(value)));
}

std::optional<std::string> FieldReader::string(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_string()) fail_type(key, "a string");
  return value->get<std::string>();
}

std::optional<bool> FieldReader::boolean(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) fail_type(key, "true or false");
  return value->get<bool>();
}

std::optional<double> FieldReader::number(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_number()) fail_type(key, "a number");
  return value->get<double>();
}

std::optional<int64_t> FieldReader::integer(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (value->is_number_integer() || value->is_number_unsigned()) {
    if (value->is_number_unsigned() && value->get<uint64_t>() > INT64_MAX) {
      fail_type(key, "an integer that fits in 64 bits");
    }
    return value->get<int64_t>();
  }
  if (value->is_number_float()) {
    const double number = value->get<double>();
    if (std::isfinite(number) && number == std::floor(number) && std::fabs(number) < 9.0e18) {
      return static_cast<int64_t>(number);
    }
  }
  fail_type(key, "an integer");
}

const Json* FieldReader::object(const char* key) const {
  const Json* value = get(key);
  if (value && !value->is_object()) fail_type(key, "an object");
  return value;
}

const Json* FieldReader::array(const char* key) const {
  const Json* value = get(key);
  if (value && !value->is_array()) fail_type(key, "a list");
  return value;
}

std::optional<std::vector<std::string>> FieldReader::string_or_strings(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (value->is_string()) return std::vector<std::string>{value->get<std::string>()};
  if (!value->is_array()) fail_type(key, "a string or a list of strings");
  std::vector<std::string> strings;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_string()) {
      throw_bad_request(fmt::format("{}[{}] must be a string, got {} ({})", name(key), i,
                                    quote_json_value(item), describe_json_type(item)));
    }
    strings.push_back(item.get<std::string>());
  }
  return strings;
}

std::optional<std::vector<int64_t>> FieldReader::integers(const char* key) const {
  const Json* value = get(key);
  if (!value) return std::nullopt;
  if (!value->is_array()) fail_type(key, "a list of integers");
  std::vector<int64_t> numbers;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_number_integer() && !item.is_number_unsigned()) {
      throw_bad_request(fmt::format("{}[{}] must be an integer, got {} ({})", name(key), i,
                                    quote_json_value(item), describe_json_type(item)));
    }
    numbers.push_back(item.get<int64_t>());
  }
  return numbers;
}

std::vector<int32_t> read_token_ids(const Json& list, const std::string& path,
                                    int32_t vocab_size) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& id = list[i];
    if (!id.is_number_integer() && !id.is_number_unsigned()) {
      throw_bad_request(fmt::format("{}[{}] must be a token id (an integer), got {}", path, i,
                                    quote_json_value(id)));
    }
    const int64_t value = id.get<int64_t>();
    if (value < 0 || value >= vocab_size) {
      throw_bad_request(fmt::format("{}[{}] is {}, which is not a token id in [0, {}]", path, i,
                                    value, vocab_size - 1));
    }
    ids.push_back(static_cast<int32_t>(value));
  }
  return ids;
}

}  // namespace glyph::server
