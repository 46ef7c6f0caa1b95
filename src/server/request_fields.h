// Typed reads of JSON request fields. A field that is present with the
// wrong type is a 400 whose message names the field, the expected type and
// what was sent. A missing or null field reads as empty, as pydantic's
// Optional fields do in SGLang.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::server {

using Json = nlohmann::ordered_json;

// The JSON type of value as a client would name it: "a string", "a number", ...
std::string describe_json_type(const Json& value);

// A short rendering of value for error messages, cut after about 60 characters.
std::string quote_json_value(const Json& value);

// Reads a list of token ids, each checked to be in [0, vocab_size). path
// names the list in error messages. Throws ApiError(400).
std::vector<int32_t> read_token_ids(const Json& list, const std::string& path, int32_t vocab_size);

// Reads fields of one JSON object; path prefixes field names in messages,
// e.g. "messages[2]." gives "messages[2].role".
class FieldReader {
 public:
  FieldReader(const Json& object, std::string path);

  bool has(const char* key) const;  // Present and not null.
  const Json* get(const char* key) const;  // Present and not null, else nullptr.
  std::string name(const char* key) const { return path_ + key; }

  std::optional<std::string> string(const char* key) const;
  std::optional<bool> boolean(const char* key) const;
  std::optional<double> number(const char* key) const;
  // Accepts integral numbers only (2 and 2.0, not 2.5).
  std::optional<int64_t> integer(const char* key) const;
  const Json* object(const char* key) const;
  const Json* array(const char* key) const;
  // A string or a list of strings, as "stop" is sent.
  std::optional<std::vector<std::string>> string_or_strings(const char* key) const;
  std::optional<std::vector<int64_t>> integers(const char* key) const;

  [[noreturn]] void fail_type(const char* key, const char* expected) const;

 private:
  const Json& object_;
  std::string path_;
};

}  // namespace glyph::server
