#include "chat/tool_call_json.h"

#include "chat/jinja_json.h"
#include "chat/jinja_value.h"

namespace glyph::chat {

std::string dump_argument_json(const nlohmann::ordered_json& value) {
  jinja::JsonDumpOptions options;
  options.ensure_ascii = false;
  try {
    return jinja::python_json_dumps(jinja::Value::from_json(value), options);
  } catch (const jinja::RenderError&) {
    // Value::from_json rejects integers above 2**63-1; nothing else parsed from JSON fails.
    return value.dump();
  }
}

void append_json_string_body(std::string& out, std::string_view text) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    switch (byte) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (byte < 0x20) {
      out += "\\u00";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xF];
    } else {
      out += c;
    }
  }
}

std::string quote_json_string(std::string_view text) {
  std::string out = "\"";
  append_json_string_body(out, text);
  out += '"';
  return out;
}

}  // namespace glyph::chat
