// Filters over strings and numbers, and the registry of every filter. Each
// follows the jinja2 3.1 filter of the same name; tojson follows the one
// transformers installs (json.dumps with ensure_ascii=False by default).
#include "chat/jinja_filters.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_format.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_json.h"
#include "chat/jinja_operators.h"
#include "chat/jinja_string_methods.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

// soft_str: a str (or Markup) as it is, anything else through str().
std::string soft_string(const Value& value) { return value.is_string() ? value.text() : to_python_str(value); }

// Digits of a Python numeric literal: single underscores between digits.
bool valid_digit_run(std::string_view digits, int base) {
  if (digits.empty() || digits.front() == '_' || digits.back() == '_') return false;
  for (size_t i = 0; i < digits.size(); ++i) {
    const char c = digits[i];
    if (c == '_') {
      if (digits[i + 1] == '_') return false;
      continue;
    }
    const char lower = static_cast<char>(c | 0x20);
    const int digit = (c >= '0' && c <= '9') ? c - '0' : (lower >= 'a' && lower <= 'z') ? lower - 'a' + 10 : 99;
    if (digit >= base) return false;
  }
  return true;
}

std::string without_underscores(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != '_') out += c;
  }
  return out;
}

// The base that a 0x, 0o or 0b prefix selects, or 0 for any other letter.
int prefix_to_base(char letter) {
  switch (letter | 0x20) {
    case 'x':
      return 16;
    case 'o':
      return 8;
    case 'b':
      return 2;
    default:
      return 0;
  }
}

// Python's int(text, base), or nullopt where it raises ValueError.
std::optional<int64_t> parse_python_int(std::string_view text, int base) {
  const std::string stripped = python_strip(text, std::nullopt, StripSide::kBoth);
  std::string_view digits = stripped;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.size() > 2 && digits[0] == '0') {
    const int prefix_base = prefix_to_base(digits[1]);
    if (prefix_base != 0 && (base == prefix_base || base == 0)) {
      base = prefix_base;
      digits.remove_prefix(2);
      if (!digits.empty() && digits[0] == '_') digits.remove_prefix(1);
    }
  }
  if (base == 0) base = 10;
  if (!valid_digit_run(digits, base)) return std::nullopt;
  errno = 0;
  const std::string clean = without_underscores(digits);
  const unsigned long long magnitude = std::strtoull(clean.c_str(), nullptr, base);
  if (errno == ERANGE || magnitude > static_cast<unsigned long long>(INT64_MAX) + (negative ? 1 : 0)) {
    throw_render_error("integer " + stripped + " is outside the range of 64-bit integers, which the template engine supports");
  }
  return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

// Python's float(text), or nullopt where it raises ValueError.
std::optional<double> parse_python_float(std::string_view text) {
  const std::string stripped = python_strip(text, std::nullopt, StripSide::kBoth);
  std::string_view body = stripped;
  std::string sign;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body.substr(0, 1);
    body.remove_prefix(1);
  }
  const std::string lowered = lower(body);
  if (lowered == "inf" || lowered == "infinity") return sign == "-" ? -INFINITY : INFINITY;
  if (lowered == "nan") return NAN;

  // digits [. digits] | . digits, then an optional exponent.
  const size_t exponent = lowered.find('e');
  const std::string_view mantissa = std::string_view(lowered).substr(0, exponent);
  const size_t point = mantissa.find('.');
  const std::string_view whole = mantissa.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view() : mantissa.substr(point + 1);
  if (whole.empty() && fraction.empty()) return std::nullopt;
  if (!whole.empty() && !valid_digit_run(whole, 10)) return std::nullopt;
  if (!fraction.empty() && !valid_digit_run(fraction, 10)) return std::nullopt;
  if (exponent != std::string::npos) {
    std::string_view power = std::string_view(lowered).substr(exponent + 1);
    if (!power.empty() && (power[0] == '+' || power[0] == '-')) power.remove_prefix(1);
    if (!valid_digit_run(power, 10)) return std::nullopt;
  }
  return std::strtod((sign + without_underscores(lowered)).c_str(), nullptr);
}

Value filter_abs(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("abs", arguments, {});
  value.require_defined();
  if (value.is_float()) return Value(std::fabs(value.as_double()));
  if (value.is_int() || value.is_bool()) {
    if (value.as_int() == INT64_MIN) throw_render_error("integer result is outside the range of 64-bit integers");
    return Value(value.as_int() < 0 ? -value.as_int() : value.as_int());
  }
  throw_render_error(fmt::format("bad operand type for abs(): '{}'", python_type_name(value)));
}

// attr(name) reads a Python attribute only, never an item.
Value filter_attr(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("attr", arguments, {{"name", std::nullopt}});
  const std::string& name = require_string("attr", values[0]);
  value.require_defined();
  if (!name.empty() && name[0] != '_') {
    if (std::optional<Value> method = find_method(value, name)) return *method;
    if (value.is_object()) {
      if (std::optional<Value> attribute = value.object()->attribute(name)) return *attribute;
    }
  }
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", value.type_description(), name));
}

Value filter_capitalize(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("capitalize", arguments, {});
  return Value(python_capitalize(soft_string(value)));
}

Value filter_center(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("center", arguments, {{"width", Value(80)}});
  return Value(python_center(soft_string(value), require_int("center", values[0]), ' '));
}

Value filter_length(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("length", arguments, {});
  return Value(python_len(value));
}

Value filter_default(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("default", arguments, {{"default_value", Value("")}, {"boolean", Value(false)}});
  if (value.is_undefined() || (values[1].truthy() && !value.truthy())) return values[0];
  return value;
}

Value filter_escape(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("escape", arguments, {});
  if (value.is_markup()) return value;
  return Value::markup(html_escape(to_python_str(value)));
}

Value filter_forceescape(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("forceescape", arguments, {});
  return Value::markup(html_escape(to_python_str(value)));
}

Value filter_float(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("float", arguments, {{"default", Value(0.0)}});
  value.require_defined();
  if (value.is_number()) return Value(value.as_double());
  if (value.is_string()) {
    if (std::optional<double> number = parse_python_float(value.text())) return Value(*number);
  }
  return values[0];
}

Value filter_int(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("int", arguments, {{"default", Value(0)}, {"base", Value(10)}});
  value.require_defined();
  if (value.is_int() || value.is_bool()) return Value(value.as_int());
  if (value.is_float()) {
    const double truncated = std::trunc(value.as_double());
    if (std::isnan(truncated)) return values[0];
    if (std::isinf(truncated)) throw_render_error("cannot convert float infinity to integer");
    if (std::fabs(truncated) >= 9.2e18) throw_render_error("integer is outside the range of 64-bit integers");
    return Value(static_cast<int64_t>(truncated));
  }
  if (value.is_string()) {
    const int64_t base = require_int("int", values[1]);
    if (std::optional<int64_t> number = parse_python_int(value.text(), static_cast<int>(base))) return Value(*number);
    // jinja2 then tries int(float(value)).
    if (std::optional<double> number = parse_python_float(value.text())) {
      if (std::isfinite(*number) && std::fabs(*number) < 9.2e18) return Value(static_cast<int64_t>(std::trunc(*number)));
    }
  }
  return values[0];
}

Value filter_format(Interpreter&, const Value& value, Arguments& arguments) {
  if (!arguments.positional.empty() && !arguments.keyword.empty()) {
    throw_render_error("can't handle positional and keyword arguments at the same time");
  }
  if (!arguments.keyword.empty()) {
    auto dict = std::make_shared<Dict>();
    for (const auto& [name, item] : arguments.keyword) dict->set(Value(name), item);
    return Value(percent_format(soft_string(value), Value(std::move(dict))));
  }
  return Value(percent_format(soft_string(value), Value::tuple(arguments.positional)));
}

Value filter_indent(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values =
      bind_arguments("indent", arguments, {{"width", Value(4)}, {"first", Value(false)}, {"blank", Value(false)}});
  value.require_defined();
  if (!value.is_string()) {
    throw_render_error(fmt::format("unsupported operand type(s) for +=: '{}' and 'str'", python_type_name(value)));
  }
  const std::string indentation =
      values[0].is_string() ? values[0].text() : std::string(std::max<int64_t>(0, require_int("indent", values[0])), ' ');

  // jinja2 appends a newline so that splitlines() keeps a trailing empty line.
  const std::vector<std::string> lines = python_splitlines(value.text() + "\n", false);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += "\n";
      if (values[2].truthy() || !lines[i].empty()) out += indentation;
    }
    out += lines[i];
  }
  if (values[1].truthy()) out = indentation + out;
  return value.is_markup() ? Value::markup(out) : Value(out);
}

Value filter_lower(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("lower", arguments, {});
  return Value(lower(soft_string(value)));
}

Value filter_upper(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("upper", arguments, {});
  return Value(upper(soft_string(value)));
}

Value filter_replace(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("replace", arguments, {{"old", std::nullopt}, {"new", std::nullopt}, {"count", Value()}});
  const int64_t count = values[2].is_none() ? -1 : require_int("replace", values[2]);
  return Value(python_replace(to_python_str(value), to_python_str(values[0]), to_python_str(values[1]), count));
}

// Python's round(x, ndigits): correctly rounded, ties to even.
double python_round(double value, int64_t digits) {
  if (!std::isfinite(value)) return value;
  if (digits >= 0) {
    if (digits > 300) return value;
    const std::string text = fmt::format("{:.{}f}", value, digits);
    return std::strtod(text.c_str(), nullptr);
  }
  const double scale = std::pow(10.0, static_cast<double>(-digits));
  return std::nearbyint(value / scale) * scale;
}

Value filter_round(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("round", arguments, {{"precision", Value(0)}, {"method", Value("common")}});
  const int64_t precision = require_int("round", values[0]);
  const std::string method = values[1].is_string() ? values[1].text() : "";
  if (method != "common" && method != "ceil" && method != "floor") {
    throw_render_error("method must be common, ceil or floor");
  }
  value.require_defined();
  if (!value.is_number()) {
    throw_render_error(fmt::format("type {} doesn't define __round__ method", python_type_name(value)));
  }
  if (method == "common") {
    if (!value.is_float()) {
      if (precision >= 0) return Value(value.as_int());
      return Value(static_cast<int64_t>(python_round(value.as_double(), precision)));
    }
    return Value(python_round(value.as_double(), precision));
  }
  const double scale = std::pow(10.0, static_cast<double>(precision));
  const double scaled = value.as_double() * scale;
  return Value((method == "ceil" ? std::ceil(scaled) : std::floor(scaled)) / scale);
}

Value filter_safe(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("safe", arguments, {});
  return Value::markup(to_python_str(value));
}

Value filter_string(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("string", arguments, {});
  if (value.is_string()) return value;
  return Value(to_python_str(value));
}

// jinja2's title: the first character of each word upper case, the rest
// lower case, where words start after whitespace or one of - ( { [ <.
Value filter_title(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("title", arguments, {});
  const std::u32string text = decode_utf8(soft_string(value));
  const auto is_boundary = [](char32_t c) { return is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<'; };
  std::string out;
  bool word_start = true;
  for (char32_t c : text) {
    if (is_boundary(c)) {
      append_utf8(out, c);
      word_start = true;
    } else if (word_start) {
      out += upper(encode_utf8(std::u32string(1, c)));
      word_start = false;
    } else {
      append_utf8(out, to_lower(c));
    }
  }
  return Value(std::move(out));
}

// transformers' tojson: json.dumps(x, ensure_ascii=False, indent=None,
// separators=None, sort_keys=False), taking the same arguments in that order.
Value filter_tojson(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("tojson", arguments,
                                     {{"ensure_ascii", Value(false)}, {"indent", Value()}, {"separators", Value()},
                                      {"sort_keys", Value(false)}});
  JsonDumpOptions options;
  options.ensure_ascii = values[0].truthy();
  options.sort_keys = values[3].truthy();
  const Value& indent = values[1];
  if (indent.is_string()) {
    options.indent = indent.text();
  } else if (!indent.is_none()) {
    options.indent = std::string(std::max<int64_t>(0, require_int("tojson", indent)), ' ');
  }
  if (options.indent) options.item_separator = ",";
  if (!values[2].is_none()) {
    const std::vector<Value> separators = iterate(values[2]);
    if (separators.size() != 2 || !separators[0].is_string() || !separators[1].is_string()) {
      throw_render_error("separators must be a pair of strings: (item_separator, key_separator)");
    }
    options.item_separator = separators[0].text();
    options.key_separator = separators[1].text();
  }
  return Value(python_json_dumps(value, options));
}

Value filter_trim(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("trim", arguments, {{"chars", Value()}});
  std::optional<std::string> chars;
  if (!values[0].is_none()) chars = require_string("trim", values[0]);
  return Value(python_strip(soft_string(value), chars, StripSide::kBoth));
}

Value filter_truncate(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("truncate", arguments,
                                     {{"length", Value(255)}, {"killwords", Value(false)}, {"end", Value("...")},
                                      {"leeway", Value()}});
  const int64_t length = require_int("truncate", values[0]);
  const std::u32string end = decode_utf8(require_string("truncate", values[2]));
  const int64_t leeway = values[3].is_none() ? 5 : require_int("truncate", values[3]);  // jinja2's default policy
  if (length < static_cast<int64_t>(end.size())) {
    throw_render_error(fmt::format("expected length >= {}, got {}", end.size(), length));
  }
  if (leeway < 0) throw_render_error(fmt::format("expected leeway >= 0, got {}", leeway));
  // jinja2 measures the value itself: a short list passes through, a number raises.
  if (!value.is_string()) {
    if (python_len(value) <= length + leeway) return value;
    throw_render_error(fmt::format("truncate needs a str, got {}", python_type_name(value)));
  }
  const std::u32string text = decode_utf8(value.text());
  if (static_cast<int64_t>(text.size()) <= length + leeway) return Value(encode_utf8(text));
  std::u32string kept = text.substr(0, static_cast<size_t>(length) - end.size());
  if (!values[1].truthy()) {
    const size_t space = kept.rfind(U' ');
    if (space != std::u32string::npos) kept.resize(space);
  }
  return Value(encode_utf8(kept + end));
}

// Counts runs of word characters, like len(re.findall(r"\w+", s)).
Value filter_wordcount(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("wordcount", arguments, {});
  int64_t count = 0;
  bool in_word = false;
  for (char32_t c : decode_utf8(soft_string(value))) {
    const bool word_char = is_alnum(c) || c == '_';
    if (word_char && !in_word) ++count;
    in_word = word_char;
  }
  return Value(count);
}

struct FilterEntry {
  std::string_view name;
  FilterFunction function;
};

constexpr FilterEntry kFilters[] = {
    {"abs", filter_abs},
    {"attr", filter_attr},
    {"batch", filter_batch},
    {"capitalize", filter_capitalize},
    {"center", filter_center},
    {"count", filter_length},
    {"d", filter_default},
    {"default", filter_default},
    {"dictsort", filter_dictsort},
    {"e", filter_escape},
    {"escape", filter_escape},
    {"first", filter_first},
    {"float", filter_float},
    {"forceescape", filter_forceescape},
    {"format", filter_format},
    {"indent", filter_indent},
    {"int", filter_int},
    {"items", filter_items},
    {"join", filter_join},
    {"last", filter_last},
    {"length", filter_length},
    {"list", filter_list},
    {"lower", filter_lower},
    {"map", filter_map},
    {"max", filter_max},
    {"min", filter_min},
    {"reject", filter_reject},
    {"rejectattr", filter_rejectattr},
    {"replace", filter_replace},
    {"reverse", filter_reverse},
    {"round", filter_round},
    {"safe", filter_safe},
    {"select", filter_select},
    {"selectattr", filter_selectattr},
    {"slice", filter_slice},
    {"sort", filter_sort},
    {"string", filter_string},
    {"sum", filter_sum},
    {"title", filter_title},
    {"tojson", filter_tojson},
    {"trim", filter_trim},
    {"truncate", filter_truncate},
    {"unique", filter_unique},
    {"upper", filter_upper},
    {"wordcount", filter_wordcount},
};

constexpr std::string_view kUnsupportedFilters[] = {
    "filesizeformat", "groupby", "pprint", "random", "striptags", "urlencode", "urlize", "wordwrap", "xmlattr",
};

}  // namespace

FilterFunction find_filter(std::string_view name) {
  for (const FilterEntry& entry : kFilters) {
    if (entry.name == name) return entry.function;
  }
  return nullptr;
}

bool is_unsupported_filter(std::string_view name) {
  return std::find(std::begin(kUnsupportedFilters), std::end(kUnsupportedFilters), name) != std::end(kUnsupportedFilters);
}

}  // namespace glyph::chat::jinja
