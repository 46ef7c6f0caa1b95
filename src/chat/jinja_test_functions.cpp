// The tests of `value is name(args)`, following jinja2 3.1's tests.py.
#include <algorithm>
#include <string_view>

#include "chat/jinja_arguments.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_operators.h"
#include "chat/jinja_string_methods.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

// The one operand of a comparison test such as `x is eq 3`.
const Value& operand(const char* name, Arguments& arguments) {
  if (arguments.positional.size() != 1 || !arguments.keyword.empty()) {
    throw_render_error(std::string(name) + "() takes exactly one argument");
  }
  return arguments.positional[0];
}

void no_arguments(const char* name, Arguments& arguments) { bind_arguments(name, arguments, {}); }

bool test_defined(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("defined", arguments);
  return !value.is_undefined();
}

bool test_undefined(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("undefined", arguments);
  return value.is_undefined();
}

bool test_none(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("none", arguments);
  return value.is_none();
}

bool test_boolean(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("boolean", arguments);
  return value.is_bool();
}

bool test_true(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("true", arguments);
  return value.is_bool() && value.as_bool();
}

bool test_false(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("false", arguments);
  return value.is_bool() && !value.as_bool();
}

bool test_integer(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("integer", arguments);
  return value.is_int();
}

bool test_float(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("float", arguments);
  return value.is_float();
}

// Python's numbers.Number includes bool.
bool test_number(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("number", arguments);
  return value.is_number();
}

bool test_string(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("string", arguments);
  return value.is_string();
}

bool test_mapping(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("mapping", arguments);
  return value.is_dict();
}

// iter(value) succeeds: str, sequences, dicts, and Undefined (which
// iterates as empty).
bool test_iterable(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("iterable", arguments);
  return value.is_undefined() || value.is_string() || value.is_sequence() || value.is_dict();
}

// len(value) and value.__getitem__ both exist. Undefined has both.
bool test_sequence(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("sequence", arguments);
  return value.is_undefined() || value.is_string() || value.is_indexable_sequence() || value.is_dict();
}

// Undefined counts: it has a __call__ (which raises).
bool test_callable(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("callable", arguments);
  return value.is_undefined() || (value.is_object() && value.object()->callable());
}

// value % 2 with Python's %, so 2.5 is neither odd nor even and a str
// raises (it formats).
bool test_odd(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("odd", arguments);
  return python_equal(binary_operation(BinaryOp::kModulo, value, Value(2)), Value(1));
}

bool test_even(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("even", arguments);
  return python_equal(binary_operation(BinaryOp::kModulo, value, Value(2)), Value(0));
}

bool test_divisibleby(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("divisibleby", arguments, {{"num", std::nullopt}});
  const Value remainder = binary_operation(BinaryOp::kModulo, value, values[0]);
  return python_equal(remainder, Value(0));
}

bool test_lower(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("lower", arguments);
  return python_islower(to_python_str(value));
}

bool test_upper(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("upper", arguments);
  return python_isupper(to_python_str(value));
}

bool test_escaped(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("escaped", arguments);
  return value.is_markup();
}

bool test_in(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("in", arguments, {{"seq", std::nullopt}});
  return contains(values[0], value);
}

// `is sameas`: Python identity. Singletons and small ints are identical when
// equal, containers and objects only when they are the same one. Equal
// strings count as identical, as CPython's interned literals are, although
// two equal strings built at run time are not identical in Python.
bool test_sameas(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("sameas", arguments, {{"other", std::nullopt}});
  const Value& other = values[0];
  if (value.type() != other.type()) return false;
  switch (value.type()) {
    case Value::Type::kNone:
    case Value::Type::kUndefined:
      return true;
    case Value::Type::kBool:
      return value.as_bool() == other.as_bool();
    case Value::Type::kInt:
      return value.as_int() == other.as_int() && value.as_int() >= -5 && value.as_int() <= 256;
    case Value::Type::kString:
      return value.text() == other.text();
    case Value::Type::kSequence:
      return &value.sequence() == &other.sequence();
    case Value::Type::kDict:
      return &value.dict_entries() == &other.dict_entries();
    case Value::Type::kObject:
      return value.object() == other.object();
    default:
      return false;
  }
}

bool test_filter(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("filter", arguments);
  return value.is_string() && find_filter(value.text()) != nullptr;
}

bool test_test(Interpreter&, const Value& value, Arguments& arguments) {
  no_arguments("test", arguments);
  return value.is_string() && find_test(value.text()) != nullptr;
}

bool test_equal(Interpreter&, const Value& value, Arguments& arguments) {
  return python_equal(value, operand("eq", arguments));
}

bool test_not_equal(Interpreter&, const Value& value, Arguments& arguments) {
  return !python_equal(value, operand("ne", arguments));
}

bool test_less(Interpreter&, const Value& value, Arguments& arguments) {
  return python_less(value, operand("lt", arguments));
}

bool test_less_equal(Interpreter&, const Value& value, Arguments& arguments) {
  const Value& other = operand("le", arguments);
  return python_less(value, other) || python_equal(value, other);
}

bool test_greater(Interpreter&, const Value& value, Arguments& arguments) {
  return python_less(operand("gt", arguments), value);
}

bool test_greater_equal(Interpreter&, const Value& value, Arguments& arguments) {
  const Value& other = operand("ge", arguments);
  return python_less(other, value) || python_equal(value, other);
}

struct TestEntry {
  std::string_view name;
  TestFunction function;
};

constexpr TestEntry kTests[] = {
    {"odd", test_odd},
    {"even", test_even},
    {"divisibleby", test_divisibleby},
    {"defined", test_defined},
    {"undefined", test_undefined},
    {"filter", test_filter},
    {"test", test_test},
    {"none", test_none},
    {"boolean", test_boolean},
    {"false", test_false},
    {"true", test_true},
    {"integer", test_integer},
    {"float", test_float},
    {"lower", test_lower},
    {"upper", test_upper},
    {"string", test_string},
    {"mapping", test_mapping},
    {"number", test_number},
    {"sequence", test_sequence},
    {"iterable", test_iterable},
    {"callable", test_callable},
    {"sameas", test_sameas},
    {"escaped", test_escaped},
    {"in", test_in},
    {"==", test_equal},
    {"eq", test_equal},
    {"equalto", test_equal},
    {"!=", test_not_equal},
    {"ne", test_not_equal},
    {">", test_greater},
    {"gt", test_greater},
    {"greaterthan", test_greater},
    {"ge", test_greater_equal},
    {">=", test_greater_equal},
    {"<", test_less},
    {"lt", test_less},
    {"lessthan", test_less},
    {"<=", test_less_equal},
    {"le", test_less_equal},
};

}  // namespace

TestFunction find_test(std::string_view name) {
  for (const TestEntry& entry : kTests) {
    if (entry.name == name) return entry.function;
  }
  return nullptr;
}

}  // namespace glyph::chat::jinja
