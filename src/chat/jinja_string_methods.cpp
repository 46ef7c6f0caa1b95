#include "chat/jinja_string_methods.h"

#include <algorithm>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_format.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

using Text = std::u32string;

// Python's slice bounds for the start and end arguments of find/count/startswith.
std::pair<size_t, size_t> slice_bounds(size_t length, const Value& start, const Value& end) {
  const auto adjust = [&](const Value& bound, int64_t default_value) {
    if (bound.is_none()) return default_value;
    int64_t value = require_int("slice", bound);
    if (value < 0) value = std::max<int64_t>(0, value + static_cast<int64_t>(length));
    return std::min<int64_t>(value, static_cast<int64_t>(length));
  };
  const int64_t first = adjust(start, 0);
  const int64_t last = adjust(end, static_cast<int64_t>(length));
  return {static_cast<size_t>(first), static_cast<size_t>(std::max(first, last))};
}

// str.find / str.rfind on code points; returns -1 when absent. A start past
// the end finds nothing, even an empty needle.
int64_t find_in(const Text& text, const Text& needle, const Value& start, const Value& end, bool reverse) {
  if (!start.is_none() && require_int("find", start) > static_cast<int64_t>(text.size())) return -1;
  const auto [first, last] = slice_bounds(text.size(), start, end);
  if (needle.size() > last - first) return -1;
  const Text window = text.substr(first, last - first);
  const size_t found = reverse ? window.rfind(needle) : window.find(needle);
  return found == Text::npos ? -1 : static_cast<int64_t>(first + found);
}

bool is_whitespace_strip(char32_t c, const std::optional<Text>& chars) {
  if (!chars) return is_space(c);
  return chars->find(c) != Text::npos;
}

std::string justify(const Value& self, int64_t width, const Value& fill_value, char align) {
  const std::string& fill = require_string("fill", fill_value);
  const Text fill_text = decode_utf8(fill);
  if (fill_text.size() != 1) throw_render_error("The fill character must be exactly one character long");
  const std::string& text = self.text();
  const int64_t padding = std::max<int64_t>(0, width - static_cast<int64_t>(count_code_points(text)));
  std::string pad;
  for (int64_t i = 0; i < padding; ++i) append_utf8(pad, fill_text[0]);
  if (align == '<') return text + pad;
  if (align == '>') return pad + text;
  return python_center(text, width, fill_text[0]);
}

bool all_code_points(const std::string& text, bool (*predicate)(char32_t)) {
  if (text.empty()) return false;
  for (char32_t c : decode_utf8(text)) {
    if (!predicate(c)) return false;
  }
  return true;
}

bool python_istitle(const std::string& text) {
  bool cased_seen = false;
  bool previous_cased = false;
  for (char32_t c : decode_utf8(text)) {
    if (is_upper(c)) {
      if (previous_cased) return false;
      previous_cased = cased_seen = true;
    } else if (is_lower(c)) {
      if (!previous_cased) return false;
      previous_cased = cased_seen = true;
    } else {
      previous_cased = false;
    }
  }
  return cased_seen;
}

bool has_only_case(std::string_view text, bool upper_case) {
  bool cased = false;
  for (char32_t c : decode_utf8(text)) {
    if (upper_case ? is_lower(c) : is_upper(c)) return false;
    if (upper_case ? is_upper(c) : is_lower(c)) cased = true;
  }
  return cased;
}

// startswith/endswith accept one prefix or a tuple of them.
bool matches_affix(const Value& self, const Arguments& arguments, const char* name, bool at_end) {
  const auto values = bind_arguments(name, arguments, {{"prefix", std::nullopt}, {"start", Value()}, {"end", Value()}});
  const Text text = decode_utf8(self.text());
  const auto [first, last] = slice_bounds(text.size(), values[1], values[2]);
  if (!values[1].is_none() && require_int(name, values[1]) > static_cast<int64_t>(text.size())) return false;
  const Text window = text.substr(first, last - first);
  std::vector<Value> candidates;
  if (values[0].is_tuple()) {
    candidates = values[0].items();
  } else {
    candidates.push_back(values[0]);
  }
  for (const Value& candidate : candidates) {
    if (!candidate.is_string()) {
      throw_render_error(fmt::format("{} first arg must be str or a tuple of str, not {}", name,
                                     python_type_name(candidate)));
    }
    const Text affix = decode_utf8(candidate.text());
    if (affix.size() > window.size()) continue;
    if (at_end ? window.compare(window.size() - affix.size(), affix.size(), affix) == 0
               : window.compare(0, affix.size(), affix) == 0) {
      return true;
    }
  }
  return false;
}

std::optional<std::string> optional_chars(const Value& value, const char* function) {
  if (value.is_none()) return std::nullopt;
  return require_string(function, value);
}

Value string_list(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& part : parts) items.emplace_back(std::move(part));
  return Value::list(std::move(items));
}

Value partition(const std::string& text, const Value& separator_value, bool from_right) {
  const std::string& separator = require_string("partition", separator_value);
  if (separator.empty()) throw_render_error("empty separator");
  const size_t found = from_right ? text.rfind(separator) : text.find(separator);
  if (found == std::string::npos) {
    return from_right ? Value::tuple({Value(""), Value(""), Value(text)}) : Value::tuple({Value(text), Value(""), Value("")});
  }
  return Value::tuple({Value(text.substr(0, found)), Value(separator), Value(text.substr(found + separator.size()))});
}

Value method_strip(const Value& self, const Arguments& arguments, const char* name, StripSide side) {
  const auto values = bind_arguments(name, arguments, {{"chars", Value()}});
  return Value(python_strip(self.text(), optional_chars(values[0], name), side));
}

Value method_split(const Value& self, const Arguments& arguments, const std::string& name) {
  const auto values = bind_arguments(name, arguments, {{"sep", Value()}, {"maxsplit", Value(-1)}});
  return string_list(python_split(self.text(), optional_chars(values[0], name.c_str()), require_int(name, values[1]),
                                  name == "rsplit"));
}

Value method_replace(const Value& self, const Arguments& arguments) {
  const auto values = bind_arguments("replace", arguments, {{"old", std::nullopt}, {"new", std::nullopt}, {"count", Value(-1)}});
  return Value(python_replace(self.text(), require_string("replace", values[0]), require_string("replace", values[1]),
                              require_int("replace", values[2])));
}

// find, rfind, index and rindex; the index forms raise when absent.
Value method_find(const Value& self, const Arguments& arguments, const std::string& name) {
  const auto values = bind_arguments(name, arguments, {{"sub", std::nullopt}, {"start", Value()}, {"end", Value()}});
  const bool reverse = name[0] == 'r';
  const Text needle = decode_utf8(require_string(name, values[0]));
  const int64_t found = find_in(decode_utf8(self.text()), needle, values[1], values[2], reverse);
  if (found < 0 && (name == "index" || name == "rindex")) throw_render_error("substring not found");
  return Value(found);
}

// Non-overlapping occurrences; an empty needle matches between every character.
Value method_count(const Value& self, const Arguments& arguments) {
  const auto values = bind_arguments("count", arguments, {{"sub", std::nullopt}, {"start", Value()}, {"end", Value()}});
  const Text whole = decode_utf8(self.text());
  const Text needle = decode_utf8(require_string("count", values[0]));
  if (!values[1].is_none() && require_int("count", values[1]) > static_cast<int64_t>(whole.size())) return Value(0);

  const auto [first, last] = slice_bounds(whole.size(), values[1], values[2]);
  const Text window = whole.substr(first, last - first);
  if (needle.empty()) return Value(static_cast<int64_t>(window.size() + 1));
  int64_t count = 0;
  for (size_t pos = window.find(needle); pos != Text::npos; pos = window.find(needle, pos + needle.size())) ++count;
  return Value(count);
}

Value method_join(const Value& self, const Arguments& arguments) {
  const auto values = bind_arguments("join", arguments, {{"iterable", std::nullopt}});
  std::string out;
  size_t index = 0;
  for (const Value& item : iterate(values[0])) {
    if (!item.is_string()) {
      throw_render_error(fmt::format("sequence item {}: expected str instance, {} found", index, python_type_name(item)));
    }
    if (index++ > 0) out += self.text();
    out += item.text();
  }
  return Value(std::move(out));
}

Value method_justify(const Value& self, const Arguments& arguments, const std::string& name) {
  const auto values = bind_arguments(name, arguments, {{"width", std::nullopt}, {"fillchar", Value(" ")}});
  char align = '^';
  if (name == "ljust") {
    align = '<';
  } else if (name == "rjust") {
    align = '>';
  }
  return Value(justify(self, require_int(name, values[0]), values[1], align));
}

// Pads with zeros after a leading sign.
Value method_zfill(const Value& self, const Arguments& arguments) {
  const auto values = bind_arguments("zfill", arguments, {{"width", std::nullopt}});
  const std::string& text = self.text();
  const int64_t width = require_int("zfill", values[0]);
  const int64_t padding = std::max<int64_t>(0, width - static_cast<int64_t>(count_code_points(text)));
  const bool has_sign = !text.empty() && (text[0] == '+' || text[0] == '-');
  if (has_sign) return Value(text.substr(0, 1) + std::string(padding, '0') + text.substr(1));
  return Value(std::string(padding, '0') + text);
}

Value method_remove_affix(const Value& self, const Arguments& arguments, const std::string& name) {
  const auto values = bind_arguments(name, arguments, {{"affix", std::nullopt}});
  const std::string& text = self.text();
  const std::string& affix = require_string(name, values[0]);
  if (name == "removeprefix") return Value(text.rfind(affix, 0) == 0 ? text.substr(affix.size()) : text);
  const bool ends = text.size() >= affix.size() && text.compare(text.size() - affix.size(), affix.size(), affix) == 0;
  return Value(ends ? text.substr(0, text.size() - affix.size()) : text);
}

// isdigit, isalpha and the other character-class predicates.
Value method_predicate(const Value& self, const Arguments& arguments, const std::string& name) {
  bind_arguments(name, arguments, {});
  const std::string& text = self.text();
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") return Value(all_code_points(text, is_digit));
  if (name == "isalpha") return Value(all_code_points(text, is_alpha));
  if (name == "isalnum") return Value(all_code_points(text, is_alnum));
  if (name == "isspace") return Value(all_code_points(text, is_space));
  if (name == "isascii") return Value(is_ascii(text));
  if (name == "islower") return Value(python_islower(text));
  if (name == "isupper") return Value(python_isupper(text));
  if (name == "istitle") return Value(python_istitle(text));
  throw_render_error("str." + name + "() is not supported by this template engine");
}

Value method_case(const Value& self, const Arguments& arguments, const std::string& name) {
  bind_arguments(name, arguments, {});
  if (name == "upper") return Value(upper(self.text()));
  if (name == "lower") return Value(lower(self.text()));
  if (name == "title") return Value(python_title(self.text()));
  if (name == "capitalize") return Value(python_capitalize(self.text()));
  return Value(swapcase(self.text()));
}

Value call_string_method(Interpreter& interpreter, const std::string& name, const Value& self, const Arguments& arguments) {
  if (name == "strip") return method_strip(self, arguments, "strip", StripSide::kBoth);
  if (name == "lstrip") return method_strip(self, arguments, "lstrip", StripSide::kLeft);
  if (name == "rstrip") return method_strip(self, arguments, "rstrip", StripSide::kRight);
  if (name == "split" || name == "rsplit") return method_split(self, arguments, name);
  if (name == "splitlines") {
    const auto values = bind_arguments(name, arguments, {{"keepends", Value(false)}});
    return string_list(python_splitlines(self.text(), values[0].truthy()));
  }
  if (name == "startswith") return Value(matches_affix(self, arguments, "startswith", false));
  if (name == "endswith") return Value(matches_affix(self, arguments, "endswith", true));
  if (name == "replace") return method_replace(self, arguments);
  if (name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "swapcase") {
    return method_case(self, arguments, name);
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex") return method_find(self, arguments, name);
  if (name == "count") return method_count(self, arguments);
  if (name == "join") return method_join(self, arguments);
  if (name == "format") return Value(str_format(interpreter, self.text(), arguments));
  if (name == "center" || name == "ljust" || name == "rjust") return method_justify(self, arguments, name);
  if (name == "zfill") return method_zfill(self, arguments);
  if (name == "partition" || name == "rpartition") {
    const auto values = bind_arguments(name, arguments, {{"sep", std::nullopt}});
    return partition(self.text(), values[0], name == "rpartition");
  }
  if (name == "removeprefix" || name == "removesuffix") return method_remove_affix(self, arguments, name);
  return method_predicate(self, arguments, name);
}

constexpr std::string_view kSupportedMethods[] = {
    "strip",   "lstrip",  "rstrip",  "split",  "rsplit",  "splitlines", "startswith", "endswith",
    "replace", "upper",   "lower",   "title",  "capitalize", "swapcase", "find",      "rfind",
    "index",   "rindex",  "count",   "join",   "format",  "center",     "ljust",      "rjust",
    "zfill",   "partition", "rpartition", "removeprefix", "removesuffix", "isdigit", "isdecimal",
    "isnumeric", "isalpha", "isalnum", "isspace", "isascii", "islower", "isupper", "istitle",
};

// Methods of Python's str that this engine does not implement; calling one
// raises instead of returning a wrong result.
constexpr std::string_view kUnsupportedMethods[] = {
    "casefold", "encode", "expandtabs", "format_map", "isidentifier", "isprintable", "maketrans", "translate",
};

}  // namespace

bool python_islower(std::string_view text) { return has_only_case(text, false); }

bool python_isupper(std::string_view text) { return has_only_case(text, true); }

std::string python_strip(std::string_view text, const std::optional<std::string>& chars, StripSide side) {
  const Text decoded = decode_utf8(text);
  std::optional<Text> char_set;
  if (chars) char_set = decode_utf8(*chars);
  size_t first = 0;
  size_t last = decoded.size();
  if (side != StripSide::kRight) {
    while (first < last && is_whitespace_strip(decoded[first], char_set)) ++first;
  }
  if (side != StripSide::kLeft) {
    while (last > first && is_whitespace_strip(decoded[last - 1], char_set)) --last;
  }
  return encode_utf8(std::u32string_view(decoded).substr(first, last - first));
}

std::vector<std::string> python_split(std::string_view text, const std::optional<std::string>& separator,
                                      int64_t max_split, bool from_right) {
  std::vector<std::string> parts;
  if (separator) {
    if (separator->empty()) throw_render_error("empty separator");
    if (!from_right) {
      size_t start = 0;
      size_t found = 0;
      while ((max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) &&
             (found = text.find(*separator, start)) != std::string_view::npos) {
        parts.emplace_back(text.substr(start, found - start));
        start = found + separator->size();
      }
      parts.emplace_back(text.substr(start));
      return parts;
    }
    size_t end = text.size();
    while (max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) {
      if (end < separator->size()) break;
      const size_t found = text.rfind(*separator, end - separator->size());
      if (found == std::string_view::npos) break;
      parts.emplace_back(text.substr(found + separator->size(), end - found - separator->size()));
      end = found;
    }
    parts.emplace_back(text.substr(0, end));
    std::reverse(parts.begin(), parts.end());
    return parts;
  }

  // Whitespace runs separate fields and leading or trailing whitespace yields
  // no empty field, but the unsplit remainder keeps its whitespace on the far
  // side: "  a b c  ".split(None, 1) is ["a", "b c  "].
  const Text decoded = decode_utf8(text);
  const int64_t length = static_cast<int64_t>(decoded.size());
  if (!from_right) {
    int64_t i = 0;
    while (true) {
      while (i < length && is_space(decoded[i])) ++i;
      if (i >= length) break;
      if (max_split >= 0 && static_cast<int64_t>(parts.size()) >= max_split) {
        parts.push_back(encode_utf8(std::u32string_view(decoded).substr(i)));
        break;
      }
      int64_t j = i;
      while (j < length && !is_space(decoded[j])) ++j;
      parts.push_back(encode_utf8(std::u32string_view(decoded).substr(i, j - i)));
      i = j;
    }
    return parts;
  }
  int64_t i = length;
  while (true) {
    while (i > 0 && is_space(decoded[i - 1])) --i;
    if (i <= 0) break;
    if (max_split >= 0 && static_cast<int64_t>(parts.size()) >= max_split) {
      parts.push_back(encode_utf8(std::u32string_view(decoded).substr(0, i)));
      break;
    }
    int64_t j = i;
    while (j > 0 && !is_space(decoded[j - 1])) --j;
    parts.push_back(encode_utf8(std::u32string_view(decoded).substr(j, i - j)));
    i = j;
  }
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::vector<std::string> python_splitlines(std::string_view text, bool keep_ends) {
  const Text decoded = decode_utf8(text);
  std::vector<std::string> lines;
  size_t start = 0;
  size_t i = 0;
  while (i < decoded.size()) {
    if (!is_line_break(decoded[i])) {
      ++i;
      continue;
    }
    size_t end_of_break = i + 1;
    if (decoded[i] == '\r' && end_of_break < decoded.size() && decoded[end_of_break] == '\n') ++end_of_break;
    lines.push_back(encode_utf8(std::u32string_view(decoded).substr(start, (keep_ends ? end_of_break : i) - start)));
    start = i = end_of_break;
  }
  if (start < decoded.size()) lines.push_back(encode_utf8(std::u32string_view(decoded).substr(start)));
  return lines;
}

std::string python_replace(std::string_view text, std::string_view old_text, std::string_view new_text, int64_t count) {
  std::string out;
  if (old_text.empty()) {
    // Python inserts the replacement before every character and at the end.
    const Text decoded = decode_utf8(text);
    int64_t done = 0;
    for (char32_t c : decoded) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      append_utf8(out, c);
    }
    if (count < 0 || done < count) out += new_text;
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  size_t found = 0;
  while ((count < 0 || done < count) && (found = text.find(old_text, start)) != std::string_view::npos) {
    out += text.substr(start, found - start);
    out += new_text;
    start = found + old_text.size();
    ++done;
  }
  out += text.substr(start);
  return out;
}

// Python's str.center puts the odd padding character on the left only when
// both the padding and the width are odd.
std::string python_center(std::string_view text, int64_t width, char32_t fill) {
  const int64_t length = static_cast<int64_t>(count_code_points(text));
  if (width <= length) return std::string(text);
  const int64_t margin = width - length;
  const int64_t left = margin / 2 + (margin & width & 1);
  std::string out;
  for (int64_t i = 0; i < left; ++i) append_utf8(out, fill);
  out += text;
  for (int64_t i = 0; i < margin - left; ++i) append_utf8(out, fill);
  return out;
}

std::optional<Value> find_string_method(const Value& self, const std::string& name) {
  const bool supported = std::find(std::begin(kSupportedMethods), std::end(kSupportedMethods), name) != std::end(kSupportedMethods);
  const bool unsupported =
      std::find(std::begin(kUnsupportedMethods), std::end(kUnsupportedMethods), name) != std::end(kUnsupportedMethods);
  if (!supported && !unsupported) return std::nullopt;
  const bool markup = self.is_markup();
  return Value(std::make_shared<Function>(name, [self, name, markup](Interpreter& interpreter, Arguments& arguments) {
    Value result = call_string_method(interpreter, name, self, arguments);
    if (!markup) return result;
    // markupsafe's Markup methods return Markup, also inside lists and tuples.
    // NOTE: they also escape their str arguments, which this does not.
    if (result.is_string()) return Value::markup(result.text());
    if (result.is_list() || result.is_tuple()) {
      std::vector<Value> items;
      for (const Value& item : result.items()) items.push_back(item.is_string() ? Value::markup(item.text()) : item);
      return Value::list(std::move(items), result.sequence().kind);
    }
    return result;
  }));
}

}  // namespace glyph::chat::jinja
