// Expression evaluation of the interpreter, and the attribute, item and call
// rules of jinja2's ImmutableSandboxedEnvironment that it applies.
#include <fmt/format.h>

#include "chat/jinja_builtins.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_operators.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

// Python's slice.indices(length): the first index and the end index.
std::pair<int64_t, int64_t> slice_bounds(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                         int64_t step) {
  const auto adjust = [&](std::optional<int64_t> index, int64_t default_value) {
    if (!index) return default_value;
    int64_t value = *index;
    if (value < 0) {
      value += length;
      if (value < 0) value = step < 0 ? -1 : 0;
    } else if (value >= length) {
      value = step < 0 ? length - 1 : length;
    }
    return value;
  };
  return {adjust(start, step < 0 ? length - 1 : 0), adjust(stop, step < 0 ? -1 : length)};
}

// The indices a slice visits, in order.
std::vector<int64_t> slice_indices(int64_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                   int64_t step) {
  const auto [first, end] = slice_bounds(length, start, stop, step);
  std::vector<int64_t> indices;
  for (int64_t i = first; step > 0 ? i < end : i > end; i += step) indices.push_back(i);
  return indices;
}

}  // namespace

// ---- Attribute, item and call rules of jinja2's sandbox ----

// obj.name: a Python attribute (a method of str, dict or list) first, then
// the item of that name; Undefined when neither exists.
Value Interpreter::get_attribute(const Value& object, const std::string& name) {
  object.require_defined();
  if (!name.empty() && name[0] != '_') {
    if (std::optional<Value> method = find_method(object, name)) return *method;
    if (object.is_object()) {
      if (std::optional<Value> attribute = object.object()->attribute(name)) return *attribute;
    }
  }
  if (object.is_dict()) {
    if (const Value* value = object.dict_entries().find_string_key(name)) return *value;
  }
  return Value::undefined(fmt::format("'{}' has no attribute '{}'", object.type_description(), name));
}

// obj[key]: the item first, then for a str key the attribute of that name.
Value Interpreter::get_item(const Value& object, const Value& key) {
  object.require_defined();
  if (object.is_dict()) {
    if (const Value* value = object.dict_entries().find(key)) return *value;
  } else if ((object.is_indexable_sequence() || object.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t index = key.as_int();
    if (object.is_string()) {
      const std::u32string text = decode_utf8(object.text());
      if (index < 0) index += static_cast<int64_t>(text.size());
      if (index >= 0 && index < static_cast<int64_t>(text.size())) {
        std::string character;
        append_utf8(character, text[index]);
        return Value(std::move(character));
      }
    } else {
      const auto& items = object.items();
      if (index < 0) index += static_cast<int64_t>(items.size());
      if (index >= 0 && index < static_cast<int64_t>(items.size())) return items[index];
    }
  }
  if (key.is_string()) {
    Value attribute = get_attribute(object, key.text());
    if (!attribute.is_undefined()) return attribute;
  }
  if (key.is_string()) {
    return Value::undefined(fmt::format("'{}' has no attribute '{}'", object.type_description(), key.text()));
  }
  return Value::undefined(fmt::format("'{}' has no element {}", object.type_description(), to_python_repr(key)));
}

Value Interpreter::call(const Value& callee, Arguments arguments) {
  callee.require_defined();
  if (callee.is_object() && callee.object()->callable()) return callee.object()->call(*this, std::move(arguments));
  throw_render_error(fmt::format("'{}' object is not callable", python_type_name(callee)));
}

Value Interpreter::call_filter(const std::string& name, const Value& value, Arguments arguments) {
  const FilterFunction function = find_filter(name);
  if (function == nullptr) throw_render_error("No filter named '" + name + "'.");
  return function(*this, value, arguments);
}

bool Interpreter::call_test(const std::string& name, const Value& value, Arguments arguments) {
  const TestFunction function = find_test(name);
  if (function == nullptr) throw_render_error("No test named '" + name + "'.");
  return function(*this, value, arguments);
}

// ---- Expressions ----

Value Interpreter::evaluate(const Expression& expression, Frame& frame) {
  try {
    return evaluate_unchecked(expression, frame);
  } catch (RenderError& error) {
    if (error.line == 0) error.line = expression.location.line;
    throw;
  }
}

Value Interpreter::evaluate_unchecked(const Expression& expression, Frame& frame) {
  switch (expression.kind) {
    case Expression::Kind::kLiteral:
      return static_cast<const LiteralExpression&>(expression).value;
    case Expression::Kind::kName:
      return evaluate_name(static_cast<const NameExpression&>(expression), frame);
    case Expression::Kind::kList:
    case Expression::Kind::kTuple: {
      std::vector<Value> items;
      for (const auto& item : static_cast<const SequenceExpression&>(expression).items) {
        items.push_back(evaluate(*item, frame));
      }
      return Value::list(std::move(items),
                         expression.kind == Expression::Kind::kList ? SequenceKind::kList : SequenceKind::kTuple);
    }
    case Expression::Kind::kDict: {
      auto dict = std::make_shared<Dict>();
      for (const auto& [key, value] : static_cast<const DictExpression&>(expression).entries) {
        Value key_value = evaluate(*key, frame);
        if (key_value.is_sequence() && !key_value.is_tuple()) {
          throw_render_error(fmt::format("unhashable type: '{}'", python_type_name(key_value)));
        }
        if (key_value.is_dict()) throw_render_error("unhashable type: 'dict'");
        dict->set(std::move(key_value), evaluate(*value, frame));
      }
      return Value(std::move(dict));
    }
    case Expression::Kind::kGetAttribute: {
      const auto& get = static_cast<const GetAttributeExpression&>(expression);
      return get_attribute(evaluate(*get.object, frame), get.name);
    }
    case Expression::Kind::kGetItem: {
      const auto& get = static_cast<const GetItemExpression&>(expression);
      if (get.index->kind == Expression::Kind::kSlice) return evaluate_slice(get, frame);
      const Value object = evaluate(*get.object, frame);
      return get_item(object, evaluate(*get.index, frame));
    }
    case Expression::Kind::kSlice:
      throw_render_error("a slice can only be used as the only index in brackets");
    case Expression::Kind::kUnary: {
      const auto& unary = static_cast<const UnaryExpression&>(expression);
      const Value operand = evaluate(*unary.operand, frame);
      if (unary.op == UnaryExpression::Op::kNot) return Value(!operand.truthy());
      return unary.op == UnaryExpression::Op::kNegate ? negate(operand) : unary_plus(operand);
    }
    case Expression::Kind::kBinary: {
      const auto& binary = static_cast<const BinaryExpression&>(expression);
      const Value left = evaluate(*binary.left, frame);
      return binary_operation(binary.op, left, evaluate(*binary.right, frame));
    }
    case Expression::Kind::kConcat: {
      std::string out;
      for (const auto& part : static_cast<const ConcatExpression&>(expression).parts) {
        out += to_python_str(evaluate(*part, frame));
      }
      return Value(std::move(out));
    }
    case Expression::Kind::kCompare:
      return evaluate_compare(static_cast<const CompareExpression&>(expression), frame);
    case Expression::Kind::kAnd:
    case Expression::Kind::kOr: {
      const auto& logical = static_cast<const LogicalExpression&>(expression);
      Value left = evaluate(*logical.left, frame);
      const bool short_circuit = expression.kind == Expression::Kind::kAnd ? !left.truthy() : left.truthy();
      return short_circuit ? left : evaluate(*logical.right, frame);
    }
    case Expression::Kind::kConditional: {
      const auto& conditional = static_cast<const ConditionalExpression&>(expression);
      if (evaluate(*conditional.test, frame).truthy()) return evaluate(*conditional.then_value, frame);
      if (conditional.else_value) return evaluate(*conditional.else_value, frame);
      return Value::undefined(fmt::format(
          "the inline if-expression on line {} evaluated to false and no else section was defined.",
          expression.location.line));
    }
    case Expression::Kind::kCall:
      return evaluate_call(static_cast<const CallExpression&>(expression), frame);
    case Expression::Kind::kFilter:
      return evaluate_filter(static_cast<const FilterExpression&>(expression), frame, nullptr);
    case Expression::Kind::kTest:
      return evaluate_test(static_cast<const TestExpression&>(expression), frame);
  }
  throw_render_error("unknown expression");
}

Value Interpreter::evaluate_name(const NameExpression& expression, Frame& frame) {
  if (const Value* value = frame.find(expression.name)) return *value;
  if (std::optional<Value> global = find_global(expression.name)) return *global;
  return Value::undefined("'" + expression.name + "' is undefined");
}

Value Interpreter::evaluate_slice(const GetItemExpression& expression, Frame& frame) {
  const Value object = evaluate(*expression.object, frame);
  object.require_defined();
  const auto& slice = static_cast<const SliceExpression&>(*expression.index);

  bool valid = true;
  const auto bound = [&](const ExpressionPtr& part) -> std::optional<int64_t> {
    if (!part) return std::nullopt;
    const Value value = evaluate(*part, frame);
    if (value.is_none()) return std::nullopt;
    if (!value.is_int() && !value.is_bool()) valid = false;
    return value.as_int();
  };
  const std::optional<int64_t> start = bound(slice.start);
  const std::optional<int64_t> stop = bound(slice.stop);
  const std::optional<int64_t> step = bound(slice.step);
  // jinja2 compiles a slice to a plain Python subscript, so unlike an index
  // it raises instead of returning Undefined.
  if (!object.is_string() && !object.is_indexable_sequence()) {
    if (object.is_dict()) throw_render_error("unhashable type: 'slice'");
    throw_render_error(fmt::format("'{}' object is not subscriptable", python_type_name(object)));
  }
  if (!valid) throw_render_error("slice indices must be integers or None or have an __index__ method");
  if (step && *step == 0) throw_render_error("slice step cannot be zero");

  if (object.is_string()) {
    const std::u32string text = decode_utf8(object.text());
    std::u32string out;
    for (int64_t i : slice_indices(static_cast<int64_t>(text.size()), start, stop, step.value_or(1))) out += text[i];
    return Value(encode_utf8(out));
  }
  const auto& source = object.items();
  if (object.is_sequence_kind(SequenceKind::kRange)) {
    // A sliced range is a range: range(10)[2:5] is range(2, 5).
    const Sequence& range = object.sequence();
    const auto [first, end] = slice_bounds(static_cast<int64_t>(source.size()), start, stop, step.value_or(1));
    return Value::range(range.range_start + first * range.range_step, range.range_start + end * range.range_step,
                        range.range_step * step.value_or(1));
  }
  std::vector<Value> items;
  for (int64_t i : slice_indices(static_cast<int64_t>(source.size()), start, stop, step.value_or(1))) {
    items.push_back(source[i]);
  }
  return Value::list(std::move(items), object.is_tuple() ? SequenceKind::kTuple : SequenceKind::kList);
}

Value Interpreter::evaluate_compare(const CompareExpression& expression, Frame& frame) {
  Value left = evaluate(*expression.first, frame);
  for (const auto& [op, operand] : expression.rest) {
    Value right = evaluate(*operand, frame);
    bool result = false;
    switch (op) {
      case CompareOp::kEqual:
        result = python_equal(left, right);
        break;
      case CompareOp::kNotEqual:
        result = !python_equal(left, right);
        break;
      case CompareOp::kLess:
        result = python_less(left, right);
        break;
      case CompareOp::kLessEqual:
        result = python_less(left, right) || python_equal(left, right);
        break;
      case CompareOp::kGreater:
        result = python_less(right, left);
        break;
      case CompareOp::kGreaterEqual:
        result = python_less(right, left) || python_equal(left, right);
        break;
      case CompareOp::kIn:
        result = contains(right, left);
        break;
      case CompareOp::kNotIn:
        result = !contains(right, left);
        break;
    }
    if (!result) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Arguments Interpreter::evaluate_arguments(const CallArguments& call, Frame& frame) {
  Arguments arguments;
  for (const auto& argument : call.positional) arguments.positional.push_back(evaluate(*argument, frame));
  for (const auto& [name, argument] : call.keyword) arguments.keyword.emplace_back(name, evaluate(*argument, frame));
  if (call.star_args) {
    for (Value& item : iterate(evaluate(*call.star_args, frame))) arguments.positional.push_back(std::move(item));
  }
  if (call.star_kwargs) {
    const Value mapping = evaluate(*call.star_kwargs, frame);
    if (!mapping.is_dict()) throw_render_error("argument after ** must be a mapping, not " + python_type_name(mapping));
    for (const auto& [key, value] : mapping.dict_entries().entries) {
      if (!key.is_string()) throw_render_error("keywords must be strings");
      arguments.keyword.emplace_back(key.text(), value);
    }
  }
  return arguments;
}

Value Interpreter::evaluate_call(const CallExpression& expression, Frame& frame) {
  const Value callee = evaluate(*expression.callee, frame);
  return call(callee, evaluate_arguments(expression.arguments, frame));
}

// block_output is the rendered body of a {% filter %} block or a block set,
// which the innermost filter of the chain applies to.
Value Interpreter::evaluate_filter(const FilterExpression& expression, Frame& frame, const Value* block_output) {
  Value value;
  if (!expression.operand) {
    value = *block_output;
  } else if (block_output != nullptr && expression.operand->kind == Expression::Kind::kFilter) {
    value = evaluate_filter(static_cast<const FilterExpression&>(*expression.operand), frame, block_output);
  } else {
    value = evaluate(*expression.operand, frame);
  }
  Arguments arguments = evaluate_arguments(expression.arguments, frame);
  if (expression.function == nullptr) {
    if (is_unsupported_filter(expression.name)) {
      throw_render_error("the " + expression.name + " filter is not supported by this template engine");
    }
    throw_render_error("No filter named '" + expression.name + "' found.");
  }
  try {
    return expression.function(*this, value, arguments);
  } catch (RenderError& error) {
    if (error.line == 0) error.line = expression.location.line;
    throw;
  }
}

Value Interpreter::evaluate_test(const TestExpression& expression, Frame& frame) {
  const Value value = evaluate(*expression.operand, frame);
  Arguments arguments = evaluate_arguments(expression.arguments, frame);
  if (expression.function == nullptr) throw_render_error("No test named '" + expression.name + "' found.");
  return Value(expression.function(*this, value, arguments));
}

}  // namespace glyph::chat::jinja
