#include "chat/jinja_json.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

void append_escaped(std::string& out, std::string_view text, bool ensure_ascii) {
  out += '"';
  const auto append_code_unit = [&](unsigned unit) { out += fmt::format("\\u{:04x}", unit); };
  const auto append_char = [&](char32_t c) {
    switch (c) {
      case '"':
        out += "\\\"";
        return;
      case '\\':
        out += "\\\\";
        return;
      case '\n':
        out += "\\n";
        return;
      case '\r':
        out += "\\r";
        return;
      case '\t':
        out += "\\t";
        return;
      case '\b':
        out += "\\b";
        return;
      case '\f':
        out += "\\f";
        return;
      default:
        break;
    }
    if (c < 0x20) {
      append_code_unit(c);
    } else if (!ensure_ascii || c < 0x7F) {
      append_utf8(out, c);
    } else if (c <= 0xFFFF) {
      append_code_unit(c);
    } else {
      const char32_t offset = c - 0x10000;
      append_code_unit(0xD800 + (offset >> 10));
      append_code_unit(0xDC00 + (offset & 0x3FF));
    }
  };

  if (is_ascii(text)) {
    for (char c : text) append_char(static_cast<unsigned char>(c));
  } else {
    for (char32_t c : decode_utf8(text)) append_char(c);
  }
  out += '"';
}

std::string float_json(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return python_float_repr(value);
}

// json.dumps turns str, int, float, bool and None keys into strings and
// rejects every other key type.
std::string key_string(const Value& key) {
  switch (key.type()) {
    case Value::Type::kString:
      return key.text();
    case Value::Type::kFloat:
      return float_json(key.as_double());
    case Value::Type::kBool:
      return key.as_bool() ? "true" : "false";
    case Value::Type::kNone:
      return "null";
    case Value::Type::kInt:
      return std::to_string(key.as_int());
    default:
      throw_render_error(fmt::format("keys must be str, int, float, bool or None, not {}",
                                     python_type_name(key)));
  }
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonDumpOptions& options) : options_(options) {}

  void write(const Value& value, int level) {
    switch (value.type()) {
      case Value::Type::kNone:
        out_ += "null";
        return;
      case Value::Type::kBool:
        out_ += value.as_bool() ? "true" : "false";
        return;
      case Value::Type::kInt:
        out_ += std::to_string(value.as_int());
        return;
      case Value::Type::kFloat:
        out_ += float_json(value.as_double());
        return;
      case Value::Type::kString:
        append_escaped(out_, value.text(), options_.ensure_ascii);
        return;
      case Value::Type::kSequence:
        if (value.is_list() || value.is_tuple()) {
          write_array(value.items(), level);
          return;
        }
        break;
      case Value::Type::kDict:
        write_object(value.dict_entries(), level);
        return;
      default:
        break;
    }
    throw_render_error(fmt::format("Object of type {} is not JSON serializable", python_type_name(value)));
  }

  std::string take() { return std::move(out_); }

 private:
  // Opens a nested level: with an indent, each item starts on its own line.
  std::string separator_for(int level) const {
    if (!options_.indent) return options_.item_separator;
    return options_.item_separator + newline_indent(level);
  }

  std::string newline_indent(int level) const {
    std::string out = "\n";
    for (int i = 0; i < level; ++i) out += *options_.indent;
    return out;
  }

  void write_array(const std::vector<Value>& items, int level) {
    if (items.empty()) {
      out_ += "[]";
      return;
    }
    out_ += '[';
    if (options_.indent) out_ += newline_indent(level + 1);
    const std::string separator = separator_for(level + 1);
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out_ += separator;
      write(items[i], level + 1);
    }
    if (options_.indent) out_ += newline_indent(level);
    out_ += ']';
  }

  void write_object(const Dict& dict, int level) {
    if (dict.entries.empty()) {
      out_ += "{}";
      return;
    }
    std::vector<const std::pair<Value, Value>*> entries;
    for (const auto& entry : dict.entries) entries.push_back(&entry);
    if (options_.sort_keys) {
      std::stable_sort(entries.begin(), entries.end(),
                       [](const auto* a, const auto* b) { return python_less(a->first, b->first); });
    }

    out_ += '{';
    if (options_.indent) out_ += newline_indent(level + 1);
    const std::string separator = separator_for(level + 1);
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out_ += separator;
      append_escaped(out_, key_string(entries[i]->first), options_.ensure_ascii);
      out_ += options_.key_separator;
      write(entries[i]->second, level + 1);
    }
    if (options_.indent) out_ += newline_indent(level);
    out_ += '}';
  }

  const JsonDumpOptions& options_;
  std::string out_;
};

}  // namespace

std::string python_json_dumps(const Value& value, const JsonDumpOptions& options) {
  JsonWriter writer(options);
  writer.write(value, 0);
  return writer.take();
}

}  // namespace glyph::chat::jinja
