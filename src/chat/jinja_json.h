// Python's json.dumps for template values, byte for byte: chat templates
// print tool schemas and tool-call arguments with the tojson filter, and the
// model was trained on exactly that text.
#pragma once

#include <optional>
#include <string>

#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = true;           // json.dumps' own default; transformers' tojson passes False
  std::optional<std::string> indent;  // the indent string; nullopt prints on one line
  std::string item_separator = ", ";  // json.dumps uses "," when indent is set
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// Throws a RenderError (Python's TypeError) for values JSON cannot hold:
// Undefined, generators, dict views, ranges, macros and other objects.
std::string python_json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace glyph::chat::jinja
