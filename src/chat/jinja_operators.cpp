#include "chat/jinja_operators.h"

#include <cmath>

#include <fmt/format.h>

#include "chat/jinja_format.h"

namespace glyph::chat::jinja {
namespace {

[[noreturn]] void throw_overflow() {
  throw_render_error("integer result is outside the range of 64-bit integers, which the template engine supports");
}

// Integer arithmetic that raises instead of overflowing int64. Python's int
// has no limit, so results past 2**63-1 are reported as unsupported.
int64_t checked_add(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_add_overflow(a, b, &result)) throw_overflow();
  return result;
}

int64_t checked_subtract(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_sub_overflow(a, b, &result)) throw_overflow();
  return result;
}

int64_t checked_multiply(int64_t a, int64_t b) {
  int64_t result = 0;
  if (__builtin_mul_overflow(a, b, &result)) throw_overflow();
  return result;
}

// Python's float // and %: the remainder takes the divisor's sign and the
// quotient is floored, as divmod() defines them.
double python_float_floor_divide(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floor_div = std::floor(div);
  if (div - floor_div > 0.5) floor_div += 1.0;
  return floor_div;
}

double python_float_modulo(double a, double b) {
  double mod = std::fmod(a, b);
  if (mod != 0) {
    if ((b < 0) != (mod < 0)) mod += b;
  } else {
    mod = std::copysign(0.0, b);
  }
  return mod;
}

const char* operator_symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kFloorDivide:
      return "//";
    case BinaryOp::kModulo:
      return "%";
    case BinaryOp::kPower:
      return "** or pow()";
  }
  return "?";
}

[[noreturn]] void throw_unsupported(BinaryOp op, const Value& left, const Value& right) {
  throw_render_error(fmt::format("unsupported operand type(s) for {}: '{}' and '{}'", operator_symbol(op),
                                 python_type_name(left), python_type_name(right)));
}

int64_t python_int_floor_divide(int64_t a, int64_t b) {
  if (b == 0) throw_render_error("integer division or modulo by zero");
  if (a == INT64_MIN && b == -1) throw_overflow();
  int64_t quotient = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
  return quotient;
}

int64_t python_int_modulo(int64_t a, int64_t b) {
  if (b == 0) throw_render_error("integer division or modulo by zero");
  if (b == -1) return 0;
  int64_t remainder = a % b;
  if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
  return remainder;
}

Value integer_power(int64_t base, int64_t exponent) {
  if (exponent < 0) {
    if (base == 0) throw_render_error("0.0 cannot be raised to a negative power");
    return Value(std::pow(static_cast<double>(base), static_cast<double>(exponent)));
  }
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = checked_multiply(result, base);
    exponent >>= 1;
    if (exponent > 0) base = checked_multiply(base, base);
  }
  return Value(result);
}

Value float_power(double base, double exponent) {
  if (base == 0.0 && exponent < 0) throw_render_error("0.0 cannot be raised to a negative power");
  if (base < 0 && exponent != std::floor(exponent)) {
    throw_render_error("a negative number raised to a fractional power is a complex number, which templates do not support");
  }
  return Value(std::pow(base, exponent));
}

// A sequence or str repeated count times; a count of zero or less is empty.
Value repeat(const Value& sequence, int64_t count) {
  if (count <= 0) return sequence.is_string() ? Value(std::string()) : Value::list({}, sequence.sequence().kind);
  if (sequence.is_string()) {
    std::string out;
    out.reserve(sequence.text().size() * count);
    for (int64_t i = 0; i < count; ++i) out += sequence.text();
    return sequence.is_markup() ? Value::markup(out) : Value(out);
  }
  std::vector<Value> items;
  for (int64_t i = 0; i < count; ++i) items.insert(items.end(), sequence.items().begin(), sequence.items().end());
  return Value::list(std::move(items), sequence.sequence().kind);
}

bool is_repeatable(const Value& value) { return value.is_string() || value.is_list() || value.is_tuple(); }

// str + str, where a Markup operand escapes the other (markupsafe's rule).
Value add_strings(const Value& left, const Value& right) {
  if (left.is_markup() || right.is_markup()) {
    const std::string a = left.is_markup() ? left.text() : html_escape(left.text());
    const std::string b = right.is_markup() ? right.text() : html_escape(right.text());
    return Value::markup(a + b);
  }
  return Value(left.text() + right.text());
}

Value add(const Value& left, const Value& right) {
  if (left.is_number() && right.is_number()) {
    if (left.is_float() || right.is_float()) return Value(left.as_double() + right.as_double());
    return Value(checked_add(left.as_int(), right.as_int()));
  }
  if (left.is_string() && right.is_string()) return add_strings(left, right);
  if (left.is_string()) {
    throw_render_error(fmt::format("can only concatenate str (not \"{}\") to str", python_type_name(right)));
  }
  const bool both_lists = left.is_list() && right.is_list();
  const bool both_tuples = left.is_tuple() && right.is_tuple();
  if (both_lists || both_tuples) {
    std::vector<Value> items = left.items();
    items.insert(items.end(), right.items().begin(), right.items().end());
    return Value::list(std::move(items), left.sequence().kind);
  }
  if (left.is_list() && right.is_sequence()) {
    throw_render_error(fmt::format("can only concatenate list (not \"{}\") to list", python_type_name(right)));
  }
  throw_unsupported(BinaryOp::kAdd, left, right);
}

Value arithmetic(BinaryOp op, const Value& left, const Value& right) {
  if (!left.is_number() || !right.is_number()) throw_unsupported(op, left, right);
  const bool use_float = left.is_float() || right.is_float();
  const double a = left.as_double();
  const double b = right.as_double();
  switch (op) {
    case BinaryOp::kSubtract:
      if (use_float) return Value(a - b);
      return Value(checked_subtract(left.as_int(), right.as_int()));
    case BinaryOp::kDivide:
      if (b == 0) throw_render_error(use_float ? "float division by zero" : "division by zero");
      return Value(a / b);
    case BinaryOp::kFloorDivide:
      if (use_float) {
        if (b == 0) throw_render_error("float floor division by zero");
        return Value(python_float_floor_divide(a, b));
      }
      return Value(python_int_floor_divide(left.as_int(), right.as_int()));
    case BinaryOp::kModulo:
      if (use_float) {
        if (b == 0) throw_render_error("float modulo");
        return Value(python_float_modulo(a, b));
      }
      return Value(python_int_modulo(left.as_int(), right.as_int()));
    case BinaryOp::kPower:
      if (use_float) return float_power(a, b);
      return integer_power(left.as_int(), right.as_int());
    default:
      throw_unsupported(op, left, right);
  }
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Value binary_operation(BinaryOp op, const Value& left, const Value& right) {
  left.require_defined();
  // str % Undefined formats with str(Undefined), which is empty.
  if (!(op == BinaryOp::kModulo && left.is_string())) right.require_defined();
  switch (op) {
    case BinaryOp::kAdd:
      return add(left, right);
    case BinaryOp::kMultiply:
      if (is_repeatable(left) && (right.is_int() || right.is_bool())) return repeat(left, right.as_int());
      if (is_repeatable(right) && (left.is_int() || left.is_bool())) return repeat(right, left.as_int());
      if (!left.is_number() || !right.is_number()) throw_unsupported(op, left, right);
      if (left.is_float() || right.is_float()) return Value(left.as_double() * right.as_double());
      return Value(checked_multiply(left.as_int(), right.as_int()));
    case BinaryOp::kModulo:
      if (left.is_string()) {
        std::string formatted = percent_format(left.text(), right);
        return left.is_markup() ? Value::markup(std::move(formatted)) : Value(std::move(formatted));
      }
      return arithmetic(op, left, right);
    default:
      return arithmetic(op, left, right);
  }
}

Value negate(const Value& value) {
  value.require_defined();
  if (value.is_float()) return Value(-value.as_double());
  if (value.is_int() || value.is_bool()) {
    if (value.as_int() == INT64_MIN) throw_overflow();
    return Value(-value.as_int());
  }
  throw_render_error(fmt::format("bad operand type for unary -: '{}'", python_type_name(value)));
}

Value unary_plus(const Value& value) {
  value.require_defined();
  if (value.is_float()) return value;
  if (value.is_int() || value.is_bool()) return Value(value.as_int());
  throw_render_error(fmt::format("bad operand type for unary +: '{}'", python_type_name(value)));
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::kUndefined:
      return false;  // Undefined iterates as empty
    case Value::Type::kString:
      if (!item.is_string()) {
        item.require_defined();
        throw_render_error(fmt::format("'in <string>' requires string as left operand, not {}", python_type_name(item)));
      }
      return container.text().find(item.text()) != std::string::npos;
    case Value::Type::kSequence:
      for (const Value& element : container.items()) {
        if (python_equal(element, item)) return true;
      }
      return false;
    case Value::Type::kDict:
      if (item.is_dict() || item.is_list()) {
        throw_render_error(fmt::format("unhashable type: '{}'", python_type_name(item)));
      }
      return container.dict_entries().find(item) != nullptr;
    default:
      throw_render_error(fmt::format("argument of type '{}' is not iterable", python_type_name(container)));
  }
}

}  // namespace glyph::chat::jinja
