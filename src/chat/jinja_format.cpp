#include "chat/jinja_format.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

bool is_digit_char(char c) { return c >= '0' && c <= '9'; }

// The sign Python prints before a number: "-" when negative, otherwise the
// "+" or " " that the sign flag selects.
std::string sign_prefix(bool negative, char sign_flag) {
  if (negative) return "-";
  if (sign_flag == '+' || sign_flag == ' ') return std::string(1, sign_flag);
  return "";
}

std::string repeat_char(char32_t c, int64_t count) {
  std::string out;
  for (int64_t i = 0; i < count; ++i) append_utf8(out, c);
  return out;
}

// Lays out sign, prefix (0x) and digits in width: left-aligned, zero-padded
// after the sign, or right-aligned with spaces.
std::string pad_number(const std::string& sign, const std::string& prefix, const std::string& body, int64_t width,
                       bool left, bool zero) {
  const int64_t length = static_cast<int64_t>(sign.size() + prefix.size() + count_code_points(body));
  const int64_t padding = std::max<int64_t>(0, width - length);
  if (left) return sign + prefix + body + std::string(padding, ' ');
  if (zero) return sign + prefix + std::string(padding, '0') + body;
  return std::string(padding, ' ') + sign + prefix + body;
}

std::string integer_digits(uint64_t magnitude, char type) {
  switch (type) {
    case 'o':
      return fmt::format("{:o}", magnitude);
    case 'x':
      return fmt::format("{:x}", magnitude);
    case 'X':
      return fmt::format("{:X}", magnitude);
    case 'b':
      return fmt::format("{:b}", magnitude);
    default:
      return std::to_string(magnitude);
  }
}

uint64_t magnitude_of(int64_t value) {
  return value < 0 ? static_cast<uint64_t>(-(value + 1)) + 1 : static_cast<uint64_t>(value);
}

// C's printf agrees with Python for e, f and g with an explicit precision.
std::string c_float_format(double value, char type, int precision, bool alternate) {
  const std::string spec = std::string("%") + (alternate ? "#" : "") + ".*" + type;
  const int size = std::snprintf(nullptr, 0, spec.c_str(), precision, value);
  std::string out(static_cast<size_t>(size) + 1, '\0');
  std::snprintf(out.data(), out.size(), spec.c_str(), precision, value);
  out.resize(static_cast<size_t>(size));
  return out;
}

double to_float_argument(const Value& value, char type) {
  if (value.is_number()) return value.as_double();
  throw_render_error(fmt::format("must be real number, not {}", python_type_name(value)));
}

int64_t to_int_argument(const Value& value, char type) {
  if (value.is_int() || value.is_bool()) return value.as_int();
  if (value.is_float()) {
    const double number = std::trunc(value.as_double());
    if (!std::isfinite(number) || std::fabs(number) >= 9.2e18) throw_render_error("cannot convert float to a 64-bit integer");
    return static_cast<int64_t>(number);
  }
  throw_render_error(fmt::format("%{} format: a real number is required, not {}", type, python_type_name(value)));
}

// ---- printf-style ----

struct PercentSpec {
  bool left = false, zero = false, plus = false, space = false, alternate = false;
  int64_t width = 0;
  int64_t precision = -1;
  char type = 's';
};

std::string format_percent_value(const PercentSpec& spec, const Value& value) {
  const char type = spec.type;
  if (type == 's' || type == 'r' || type == 'a') {
    std::string text = type == 's' ? to_python_str(value) : to_python_repr(value);
    if (spec.precision >= 0) text = encode_utf8(decode_utf8(text).substr(0, static_cast<size_t>(spec.precision)));
    return pad_number("", "", text, spec.width, spec.left, false);
  }
  if (type == 'c') {
    std::string text;
    if (value.is_string() && count_code_points(value.text()) == 1) {
      text = value.text();
    } else if (value.is_int()) {
      append_utf8(text, static_cast<char32_t>(value.as_int()));
    } else {
      throw_render_error("%c requires int or char");
    }
    return pad_number("", "", text, spec.width, spec.left, false);
  }
  char sign_flag = 0;
  if (spec.plus) {
    sign_flag = '+';
  } else if (spec.space) {
    sign_flag = ' ';
  }
  if (type == 'd' || type == 'i' || type == 'u' || type == 'o' || type == 'x' || type == 'X') {
    const int64_t number = to_int_argument(value, type);
    std::string prefix;
    if (spec.alternate && type == 'o') prefix = "0o";
    if (spec.alternate && (type == 'x' || type == 'X')) prefix = type == 'x' ? "0x" : "0X";
    std::string digits = integer_digits(magnitude_of(number), type);
    if (spec.precision > static_cast<int64_t>(digits.size())) digits.insert(0, spec.precision - digits.size(), '0');
    return pad_number(sign_prefix(number < 0, sign_flag), prefix, digits, spec.width, spec.left, spec.zero);
  }
  if (type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' || type == 'G') {
    const double number = to_float_argument(value, type);
    std::string body = c_float_format(std::fabs(number), type, spec.precision < 0 ? 6 : static_cast<int>(spec.precision),
                                      spec.alternate);
    const bool negative = std::signbit(number) && !std::isnan(number);
    const bool finite = std::isfinite(number);
    return pad_number(sign_prefix(negative, sign_flag), "", body, spec.width, spec.left, spec.zero && finite);
  }
  throw_render_error(fmt::format("unsupported format character '{}'", type));
}

// ---- format-spec mini-language ----

struct FormatSpec {
  char32_t fill = ' ';
  char align = 0;  // < > ^ =, or 0 for the type's default
  char sign = '-';
  bool alternate = false;
  int64_t width = 0;
  char grouping = 0;
  int64_t precision = -1;
  char type = 0;
};

FormatSpec parse_format_spec(std::string_view spec) {
  FormatSpec out;
  const std::u32string text = decode_utf8(spec);
  size_t i = 0;
  const auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (text.size() >= 2 && is_align(text[1])) {
    out.fill = text[0];
    out.align = static_cast<char>(text[1]);
    i = 2;
  } else if (!text.empty() && is_align(text[0])) {
    out.align = static_cast<char>(text[0]);
    i = 1;
  }

  if (i < text.size() && (text[i] == '+' || text[i] == '-' || text[i] == ' ')) out.sign = static_cast<char>(text[i++]);
  if (i < text.size() && text[i] == '#') {
    out.alternate = true;
    ++i;
  }
  if (i < text.size() && text[i] == '0') {
    if (out.align == 0) {
      out.fill = '0';
      out.align = '=';
    }
    ++i;
  }

  while (i < text.size() && text[i] >= '0' && text[i] <= '9') out.width = out.width * 10 + (text[i++] - '0');
  if (i < text.size() && (text[i] == ',' || text[i] == '_')) out.grouping = static_cast<char>(text[i++]);
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (i >= text.size() || text[i] < '0' || text[i] > '9') throw_render_error("Format specifier missing precision");
    out.precision = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') out.precision = out.precision * 10 + (text[i++] - '0');
  }

  if (i < text.size()) out.type = static_cast<char>(text[i++]);
  if (i < text.size()) throw_render_error("Invalid format specifier '" + std::string(spec) + "'");
  return out;
}

std::string group_digits(const std::string& digits, char separator) {
  if (separator == 0) return digits;
  std::string out;
  const size_t length = digits.size();
  for (size_t i = 0; i < length; ++i) {
    if (i > 0 && (length - i) % 3 == 0) out += separator;
    out += digits[i];
  }
  return out;
}

std::string align_text(const FormatSpec& spec, const std::string& sign, const std::string& body, char default_align) {
  const int64_t length = static_cast<int64_t>(count_code_points(sign) + count_code_points(body));
  const int64_t padding = std::max<int64_t>(0, spec.width - length);
  switch (spec.align ? spec.align : default_align) {
    case '<':
      return sign + body + repeat_char(spec.fill, padding);
    case '^':
      return repeat_char(spec.fill, padding / 2) + sign + body + repeat_char(spec.fill, padding - padding / 2);
    case '=':
      return sign + repeat_char(spec.fill, padding) + body;
    default:
      return repeat_char(spec.fill, padding) + sign + body;
  }
}

std::string format_float_spec(const FormatSpec& spec, double number) {
  const std::string sign = sign_prefix(std::signbit(number) && !std::isnan(number), spec.sign);
  const double magnitude = std::fabs(number);
  std::string body;
  char type = spec.type;
  if (type == 0 && spec.precision < 0) {
    body = python_float_repr(magnitude);
  } else if (type == '%') {
    body = c_float_format(magnitude * 100, 'f', spec.precision < 0 ? 6 : static_cast<int>(spec.precision), spec.alternate) + "%";
  } else {
    const bool general = type == 0;
    if (general) type = 'g';
    body = c_float_format(magnitude, type, spec.precision < 0 ? 6 : static_cast<int>(spec.precision), spec.alternate);
    // With no type, Python keeps at least one digit after the point.
    if (general && std::isfinite(magnitude) && body.find_first_of(".e") == std::string::npos) body += ".0";
  }
  if (spec.grouping && std::isfinite(magnitude)) {
    const size_t digits_end = body.find_first_not_of("0123456789");
    body = group_digits(body.substr(0, digits_end), spec.grouping) + (digits_end == std::string::npos ? "" : body.substr(digits_end));
  }
  return align_text(spec, sign, body, '>');
}

std::string format_int_spec(const FormatSpec& spec, int64_t number) {
  const std::string sign = sign_prefix(number < 0, spec.sign);
  const char type = spec.type == 0 || spec.type == 'n' ? 'd' : spec.type;
  if (type == 'c') {
    std::string body;
    append_utf8(body, static_cast<char32_t>(number));
    return align_text(spec, "", body, '<');
  }
  std::string prefix;
  if (spec.alternate && type != 'd') prefix = std::string("0") + type;
  std::string digits = integer_digits(magnitude_of(number), type);
  digits = group_digits(digits, spec.grouping);
  return align_text(spec, sign + prefix, digits, '>');
}

}  // namespace

std::string percent_format(std::string_view format, const Value& args) {
  std::vector<Value> positional;
  const Dict* mapping = nullptr;
  if (args.is_tuple()) {
    positional = args.items();
  } else {
    positional.push_back(args);
    if (args.is_dict()) mapping = &args.dict_entries();
  }
  size_t next_argument = 0;
  const auto take_argument = [&]() -> const Value& {
    if (next_argument >= positional.size()) throw_render_error("not enough arguments for format string");
    return positional[next_argument++];
  };

  std::string out;
  size_t i = 0;
  while (i < format.size()) {
    const char c = format[i++];
    if (c != '%') {
      out += c;
      continue;
    }
    if (i >= format.size()) throw_render_error("incomplete format");
    const Value* value = nullptr;
    if (format[i] == '(') {
      if (mapping == nullptr) throw_render_error("format requires a mapping");
      const size_t close = format.find(')', i);
      if (close == std::string_view::npos) throw_render_error("incomplete format key");
      const std::string key(format.substr(i + 1, close - i - 1));
      value = mapping->find_string_key(key);
      if (value == nullptr) throw_render_error("KeyError: " + python_string_repr(key));
      i = close + 1;
    }
    PercentSpec spec;
    for (; i < format.size(); ++i) {
      const char flag = format[i];
      if (flag == '-') {
        spec.left = true;
      } else if (flag == '0') {
        spec.zero = true;
      } else if (flag == '+') {
        spec.plus = true;
      } else if (flag == ' ') {
        spec.space = true;
      } else if (flag == '#') {
        spec.alternate = true;
      } else {
        break;
      }
    }
    if (i < format.size() && format[i] == '*') {
      spec.width = take_argument().as_int();
      ++i;
    } else {
      while (i < format.size() && is_digit_char(format[i])) spec.width = spec.width * 10 + (format[i++] - '0');
    }
    if (i < format.size() && format[i] == '.') {
      ++i;
      spec.precision = 0;
      if (i < format.size() && format[i] == '*') {
        spec.precision = take_argument().as_int();
        ++i;
      } else {
        while (i < format.size() && is_digit_char(format[i])) spec.precision = spec.precision * 10 + (format[i++] - '0');
      }
    }
    while (i < format.size() && (format[i] == 'h' || format[i] == 'l' || format[i] == 'L')) ++i;
    if (i >= format.size()) throw_render_error("incomplete format");
    spec.type = format[i++];
    if (spec.type == '%') {
      out += '%';
      continue;
    }
    if (value == nullptr) value = &take_argument();
    out += format_percent_value(spec, *value);
  }
  // Python skips this check when the argument supports item access (a list,
  // a range, a dict, Undefined), treating it as a possible mapping.
  const bool item_access =
      args.is_list() || args.is_sequence_kind(SequenceKind::kRange) || args.is_dict() || args.is_undefined();
  if (next_argument < positional.size() && !item_access) {
    throw_render_error("not all arguments converted during string formatting");
  }
  return out;
}

std::string format_with_spec(const Value& value, std::string_view spec_text) {
  if (spec_text.empty()) return to_python_str(value);
  const FormatSpec spec = parse_format_spec(spec_text);
  if (value.is_string()) {
    if (spec.type != 0 && spec.type != 's') {
      throw_render_error(fmt::format("Unknown format code '{}' for object of type 'str'", spec.type));
    }
    std::string text = value.text();
    if (spec.precision >= 0) text = encode_utf8(decode_utf8(text).substr(0, static_cast<size_t>(spec.precision)));
    return align_text(spec, "", text, '<');
  }
  if (value.is_int() || value.is_bool()) {
    const char type = spec.type;
    if (type == 'e' || type == 'E' || type == 'f' || type == 'F' || type == 'g' || type == 'G' || type == '%') {
      return format_float_spec(spec, value.as_double());
    }
    if (type != 0 && std::string_view("bcdoxXn").find(type) == std::string_view::npos) {
      throw_render_error(fmt::format("Unknown format code '{}' for object of type 'int'", type));
    }
    return format_int_spec(spec, value.as_int());
  }
  if (value.is_float()) {
    if (spec.type != 0 && std::string_view("eEfFgGn%").find(spec.type) == std::string_view::npos) {
      throw_render_error(fmt::format("Unknown format code '{}' for object of type 'float'", spec.type));
    }
    return format_float_spec(spec, value.as_double());
  }
  throw_render_error(fmt::format("unsupported format string passed to {}.__format__", python_type_name(value)));
}

namespace {

// Field numbering shared by a format string and the fields nested in its
// specs, so that "{:{}}" takes arguments 0 and 1.
struct FieldNumbering {
  int automatic_index = 0;
  bool used_automatic = false;
  bool used_manual = false;
};

std::string format_fields(Interpreter& interpreter, std::string_view format, const Arguments& arguments,
                          FieldNumbering& numbering) {
  std::string out;
  int& automatic_index = numbering.automatic_index;
  bool& used_automatic = numbering.used_automatic;
  bool& used_manual = numbering.used_manual;

  // Resolves "name.attr[key]" or "0[1]" or "" against the arguments.
  const auto resolve_field = [&](std::string_view field) -> Value {
    size_t end = 0;
    while (end < field.size() && field[end] != '.' && field[end] != '[') ++end;
    const std::string_view head = field.substr(0, end);
    Value value;
    if (head.empty() || std::all_of(head.begin(), head.end(), is_digit_char)) {
      size_t index = 0;
      if (head.empty()) {
        if (used_manual) throw_render_error("cannot switch from manual field specification to automatic field numbering");
        used_automatic = true;
        index = static_cast<size_t>(automatic_index++);
      } else {
        if (used_automatic) throw_render_error("cannot switch from automatic field numbering to manual field specification");
        used_manual = true;
        const std::optional<int64_t> parsed = parse_decimal(head);
        index = parsed ? static_cast<size_t>(*parsed) : arguments.positional.size();
      }
      if (index >= arguments.positional.size()) {
        throw_render_error(fmt::format("Replacement index {} out of range for positional args tuple", index));
      }
      value = arguments.positional[index];
    } else {
      const auto it = std::find_if(arguments.keyword.begin(), arguments.keyword.end(),
                                   [&](const auto& entry) { return entry.first == head; });
      if (it == arguments.keyword.end()) throw_render_error("KeyError: " + python_string_repr(head));
      value = it->second;
    }
    size_t pos = end;
    while (pos < field.size()) {
      if (field[pos] == '.') {
        size_t next = pos + 1;
        while (next < field.size() && field[next] != '.' && field[next] != '[') ++next;
        value = interpreter.get_attribute(value, std::string(field.substr(pos + 1, next - pos - 1)));
        pos = next;
      } else {
        const size_t close = field.find(']', pos);
        if (close == std::string_view::npos) throw_render_error("Missing ']' in format string");
        const std::string key(field.substr(pos + 1, close - pos - 1));
        const std::optional<int64_t> index = parse_decimal(key);
        value = interpreter.get_item(value, index ? Value(*index) : Value(key));
        pos = close + 1;
      }
    }
    return value;
  };

  size_t i = 0;
  while (i < format.size()) {
    const char c = format[i];
    if (c == '}') {
      if (i + 1 < format.size() && format[i + 1] == '}') {
        out += '}';
        i += 2;
        continue;
      }
      throw_render_error("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '{') {
      out += '{';
      i += 2;
      continue;
    }
    // Find the matching '}', allowing one level of nested fields in the spec.
    size_t depth = 1;
    size_t close = i + 1;
    while (close < format.size() && depth > 0) {
      if (format[close] == '{') ++depth;
      if (format[close] == '}') --depth;
      if (depth > 0) ++close;
    }
    if (depth != 0) throw_render_error("expected '}' before end of string");
    const std::string_view field = format.substr(i + 1, close - i - 1);
    i = close + 1;

    size_t name_end = 0;
    while (name_end < field.size() && field[name_end] != '!' && field[name_end] != ':') {
      if (field[name_end] == '[') {
        name_end = field.find(']', name_end);
        if (name_end == std::string_view::npos) throw_render_error("Missing ']' in format string");
      }
      ++name_end;
    }
    Value value = resolve_field(field.substr(0, name_end));
    std::string_view rest = field.substr(name_end);
    char conversion = 0;
    if (!rest.empty() && rest[0] == '!') {
      if (rest.size() < 2) throw_render_error("end of string while looking for conversion specifier");
      conversion = rest[1];
      rest.remove_prefix(2);
    }
    std::string spec;
    if (!rest.empty()) {
      if (rest[0] != ':') throw_render_error("expected ':' after conversion specifier");
      spec = format_fields(interpreter, rest.substr(1), arguments, numbering);  // nested fields such as {:{width}}
    }
    if (conversion == 'r' || conversion == 'a') {
      value = Value(to_python_repr(value));
    } else if (conversion == 's') {
      value = Value(to_python_str(value));
    } else if (conversion != 0) {
      throw_render_error(fmt::format("Unknown conversion specifier {}", conversion));
    }
    out += format_with_spec(value, spec);
  }
  return out;
}

}  // namespace

std::string str_format(Interpreter& interpreter, std::string_view format, const Arguments& arguments) {
  FieldNumbering numbering;
  return format_fields(interpreter, format, arguments, numbering);
}

}  // namespace glyph::chat::jinja
