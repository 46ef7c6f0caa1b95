// Expression grammar of jinja2/parser.py, from loosest to tightest binding:
// conditional, or, and, not, comparisons, + -, ~, * / // %, **, unary - +,
// then primaries with their postfix subscripts and calls, then filters and tests.
#include <algorithm>

#include "chat/jinja_builtins.h"
#include "chat/jinja_parser.h"

namespace glyph::chat::jinja {

bool Parser::is_tuple_end(const std::vector<std::string_view>& extra_end_names) const {
  const TokenType type = current().type;
  if (type == TokenType::kVariableEnd || type == TokenType::kBlockEnd || type == TokenType::kEnd || at_operator(")")) {
    return true;
  }
  return type == TokenType::kName &&
         std::find(extra_end_names.begin(), extra_end_names.end(), current().value) != extra_end_names.end();
}

// Comma-separated expressions make a tuple; a single one without a comma is
// returned as is. simplified parses primaries only (assignment targets).
ExpressionPtr Parser::parse_tuple(bool simplified, bool with_conditional, std::vector<std::string_view> extra_end_names,
                                  bool explicit_parentheses, bool with_namespace) {
  const SourceLocation location = current().location;
  std::vector<ExpressionPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) expect_operator(",");
    if (is_tuple_end(extra_end_names)) break;
    items.push_back(simplified ? parse_primary(with_namespace) : parse_expression(with_conditional));
    if (at_operator(",")) {
      is_tuple = true;
    } else {
      break;
    }
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) {
      if (current().type == TokenType::kEnd) fail_end_of_template();
      fail("expected an expression, got " + (current().type == TokenType::kName || current().type == TokenType::kOperator
                                                   ? "'" + current().value + "'"
                                                   : std::string("end of tag")));
    }
  }
  auto tuple = std::make_unique<SequenceExpression>(Expression::Kind::kTuple, location);
  tuple->items = std::move(items);
  return tuple;
}

ExpressionPtr Parser::parse_expression(bool with_conditional) {
  const NestingGuard guard(*this);
  return with_conditional ? parse_conditional() : parse_or();
}

// jinja2 defers unknown filter and test names in all three parts of a
// conditional expression, including the value parsed before "if".
ExpressionPtr Parser::parse_conditional() {
  const bool saved_defer = defer_unknown_names_;
  const size_t first_unknown = unknown_names_.size();
  SourceLocation location = current().location;
  auto value = parse_or();
  while (skip_name("if")) {
    for (size_t i = first_unknown; i < unknown_names_.size(); ++i) unknown_names_[i].deferred = true;
    defer_unknown_names_ = true;
    auto conditional = std::make_unique<ConditionalExpression>(location);
    conditional->test = parse_or();
    if (skip_name("else")) conditional->else_value = parse_conditional();
    conditional->then_value = std::move(value);
    value = std::move(conditional);
    location = current().location;
  }
  defer_unknown_names_ = saved_defer;
  return value;
}

ExpressionPtr Parser::parse_or() {
  SourceLocation location = current().location;
  auto left = parse_and();
  while (skip_name("or")) {
    left = std::make_unique<LogicalExpression>(Expression::Kind::kOr, std::move(left), parse_and(), location);
    location = current().location;
  }
  return left;
}

ExpressionPtr Parser::parse_and() {
  SourceLocation location = current().location;
  auto left = parse_not();
  while (skip_name("and")) {
    left = std::make_unique<LogicalExpression>(Expression::Kind::kAnd, std::move(left), parse_not(), location);
    location = current().location;
  }
  return left;
}

ExpressionPtr Parser::parse_not() {
  const NestingGuard guard(*this);
  if (at_name("not")) {
    const SourceLocation location = advance().location;
    return std::make_unique<UnaryExpression>(UnaryExpression::Op::kNot, parse_not(), location);
  }
  return parse_compare();
}

ExpressionPtr Parser::parse_compare() {
  const SourceLocation location = current().location;
  auto first = parse_additive();
  auto compare = std::make_unique<CompareExpression>(location);
  while (true) {
    CompareOp op;
    if (at_operator("==")) {
      op = CompareOp::kEqual;
    } else if (at_operator("!=")) {
      op = CompareOp::kNotEqual;
    } else if (at_operator("<")) {
      op = CompareOp::kLess;
    } else if (at_operator("<=")) {
      op = CompareOp::kLessEqual;
    } else if (at_operator(">")) {
      op = CompareOp::kGreater;
    } else if (at_operator(">=")) {
      op = CompareOp::kGreaterEqual;
    } else if (at_name("in")) {
      op = CompareOp::kIn;
    } else if (at_name("not") && peek().type == TokenType::kName && peek().value == "in") {
      advance();
      op = CompareOp::kNotIn;
    } else {
      break;
    }
    advance();
    compare->rest.emplace_back(op, parse_additive());
  }
  if (compare->rest.empty()) return first;
  compare->first = std::move(first);
  return compare;
}

ExpressionPtr Parser::parse_additive() {
  SourceLocation location = current().location;
  auto left = parse_concat();
  while (at_operator("+") || at_operator("-")) {
    const BinaryOp op = advance().value == "+" ? BinaryOp::kAdd : BinaryOp::kSubtract;
    left = std::make_unique<BinaryExpression>(op, std::move(left), parse_concat(), location);
    location = current().location;
  }
  return left;
}

ExpressionPtr Parser::parse_concat() {
  const SourceLocation location = current().location;
  auto first = parse_multiplicative();
  if (!at_operator("~")) return first;
  auto concat = std::make_unique<ConcatExpression>(location);
  concat->parts.push_back(std::move(first));
  while (skip_operator("~")) concat->parts.push_back(parse_multiplicative());
  return concat;
}

ExpressionPtr Parser::parse_multiplicative() {
  SourceLocation location = current().location;
  auto left = parse_power();
  while (true) {
    BinaryOp op;
    if (at_operator("*")) {
      op = BinaryOp::kMultiply;
    } else if (at_operator("/")) {
      op = BinaryOp::kDivide;
    } else if (at_operator("//")) {
      op = BinaryOp::kFloorDivide;
    } else if (at_operator("%")) {
      op = BinaryOp::kModulo;
    } else {
      break;
    }
    advance();
    left = std::make_unique<BinaryExpression>(op, std::move(left), parse_power(), location);
    location = current().location;
  }
  return left;
}

// jinja2 makes ** left-associative and lets unary minus bind tighter:
// -2 ** 2 is 4 and 2 ** 3 ** 2 is 64.
ExpressionPtr Parser::parse_power() {
  SourceLocation location = current().location;
  auto left = parse_unary(true);
  while (skip_operator("**")) {
    left = std::make_unique<BinaryExpression>(BinaryOp::kPower, std::move(left), parse_unary(true), location);
    location = current().location;
  }
  return left;
}

ExpressionPtr Parser::parse_unary(bool with_filter) {
  const NestingGuard guard(*this);
  const SourceLocation location = current().location;
  ExpressionPtr node;
  if (skip_operator("-")) {
    node = std::make_unique<UnaryExpression>(UnaryExpression::Op::kNegate, parse_unary(false), location);
  } else if (skip_operator("+")) {
    node = std::make_unique<UnaryExpression>(UnaryExpression::Op::kPlus, parse_unary(false), location);
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_and_test(std::move(node));
  return node;
}

void Parser::note_name_use(const std::string& name) {
  for (MacroDefinition* macro : open_macros_) {
    if (name == "varargs") macro->uses_varargs = true;
    if (name == "kwargs") macro->uses_kwargs = true;
    if (name == "caller") macro->uses_caller = true;
  }
}

ExpressionPtr Parser::parse_primary(bool with_namespace) {
  const Token& token = current();
  const SourceLocation location = token.location;
  switch (token.type) {
    case TokenType::kName: {
      const std::string name = advance().value;
      if (name == "true" || name == "True") return std::make_unique<LiteralExpression>(Value(true), location);
      if (name == "false" || name == "False") return std::make_unique<LiteralExpression>(Value(false), location);
      if (name == "none" || name == "None") return std::make_unique<LiteralExpression>(Value(), location);
      if (with_namespace && at_operator(".")) {
        advance();
        const std::string attribute = expect_identifier();
        return std::make_unique<GetAttributeExpression>(std::make_unique<NameExpression>(name, location), attribute,
                                                        location);
      }
      note_name_use(name);
      return std::make_unique<NameExpression>(name, location);
    }
    case TokenType::kString: {
      std::string text;
      while (current().type == TokenType::kString) text += advance().value;  // 'a' 'b' is 'ab'
      return std::make_unique<LiteralExpression>(Value(std::move(text)), location);
    }
    case TokenType::kInteger:
      return std::make_unique<LiteralExpression>(Value(advance().integer), location);
    case TokenType::kFloat:
      return std::make_unique<LiteralExpression>(Value(advance().number), location);
    case TokenType::kOperator:
      if (token.value == "(") {
        advance();
        auto inner = parse_tuple(false, true, {}, true, false);
        expect_operator(")");
        return inner;
      }
      if (token.value == "[") return parse_list();
      if (token.value == "{") return parse_dict();
      break;
    default:
      break;
  }
  fail_unexpected();
}

ExpressionPtr Parser::parse_list() {
  auto list = std::make_unique<SequenceExpression>(Expression::Kind::kList, advance().location);
  while (!at_operator("]")) {
    if (!list->items.empty()) expect_operator(",");
    if (at_operator("]")) break;
    list->items.push_back(parse_expression());
  }
  expect_operator("]");
  return list;
}

ExpressionPtr Parser::parse_dict() {
  auto dict = std::make_unique<DictExpression>(advance().location);
  while (!at_operator("}")) {
    if (!dict->entries.empty()) expect_operator(",");
    if (at_operator("}")) break;
    auto key = parse_expression();
    expect_operator(":");
    dict->entries.emplace_back(std::move(key), parse_expression());
  }
  expect_operator("}");
  return dict;
}

ExpressionPtr Parser::parse_postfix(ExpressionPtr node) {
  while (true) {
    if (at_operator(".") || at_operator("[")) {
      node = parse_subscript(std::move(node));
    } else if (at_operator("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExpressionPtr Parser::parse_filter_and_test(ExpressionPtr node) {
  while (true) {
    if (at_operator("|")) {
      node = parse_filter(std::move(node), false);
    } else if (at_name("is")) {
      node = parse_test(std::move(node));
    } else if (at_operator("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExpressionPtr Parser::parse_subscript(ExpressionPtr node) {
  const Token& token = advance();
  const SourceLocation location = token.location;
  if (token.value == ".") {
    const Token& attribute = current();
    if (attribute.type == TokenType::kName) {
      return std::make_unique<GetAttributeExpression>(std::move(node), advance().value, location);
    }
    if (attribute.type != TokenType::kInteger) fail("expected a name or number after '.'");
    auto index = std::make_unique<LiteralExpression>(Value(advance().integer), attribute.location);
    return std::make_unique<GetItemExpression>(std::move(node), std::move(index), location);
  }

  std::vector<ExpressionPtr> indexes;
  while (!at_operator("]")) {
    if (!indexes.empty()) expect_operator(",");
    indexes.push_back(parse_subscribed());
  }
  expect_operator("]");
  if (indexes.size() == 1) return std::make_unique<GetItemExpression>(std::move(node), std::move(indexes[0]), location);
  auto tuple = std::make_unique<SequenceExpression>(Expression::Kind::kTuple, location);
  tuple->items = std::move(indexes);
  return std::make_unique<GetItemExpression>(std::move(node), std::move(tuple), location);
}

// One index inside brackets: an expression or a start:stop:step slice.
ExpressionPtr Parser::parse_subscribed() {
  const SourceLocation location = current().location;
  ExpressionPtr start;
  if (!skip_operator(":")) {
    start = parse_expression();
    if (!skip_operator(":")) return start;
  }
  auto slice = std::make_unique<SliceExpression>(location);
  slice->start = std::move(start);
  if (!at_operator(":") && !at_operator("]") && !at_operator(",")) slice->stop = parse_expression();
  if (skip_operator(":") && !at_operator("]") && !at_operator(",")) slice->step = parse_expression();
  return slice;
}

ExpressionPtr Parser::parse_call(ExpressionPtr callee) {
  auto call = std::make_unique<CallExpression>(std::move(callee), current().location);
  call->arguments = parse_call_arguments();
  return call;
}

CallArguments Parser::parse_call_arguments() {
  const SourceLocation location = current().location;
  expect_operator("(");
  CallArguments arguments;
  const auto ensure = [&](bool condition) {
    if (!condition) fail_at(location, "invalid syntax for function call expression");
  };
  bool require_comma = false;
  while (!at_operator(")")) {
    if (require_comma) {
      expect_operator(",");
      if (at_operator(")")) break;  // trailing comma
    }
    if (skip_operator("*")) {
      ensure(!arguments.star_args && !arguments.star_kwargs);
      arguments.star_args = parse_expression();
    } else if (skip_operator("**")) {
      ensure(!arguments.star_kwargs);
      arguments.star_kwargs = parse_expression();
    } else if (current().type == TokenType::kName && peek().type == TokenType::kOperator && peek().value == "=") {
      ensure(!arguments.star_kwargs);
      std::string key = advance().value;
      advance();
      arguments.keyword.emplace_back(std::move(key), parse_expression());
    } else {
      ensure(!arguments.star_args && !arguments.star_kwargs && arguments.keyword.empty());
      arguments.positional.push_back(parse_expression());
    }
    require_comma = true;
  }
  expect_operator(")");
  return arguments;
}

std::string Parser::parse_dotted_name() {
  std::string name = expect_identifier();
  while (skip_operator(".")) {
    name += '.';
    name += expect_identifier();
  }
  return name;
}

// Parses `| name(args)` links; with start_inline the first name has no pipe
// ({% filter name %}). node is null for filter blocks.
ExpressionPtr Parser::parse_filter(ExpressionPtr node, bool start_inline) {
  while (at_operator("|") || start_inline) {
    if (!start_inline) advance();
    start_inline = false;
    auto filter = std::make_unique<FilterExpression>(current().location);
    filter->name = parse_dotted_name();
    filter->function = find_filter(filter->name);
    if (filter->function == nullptr && !is_unsupported_filter(filter->name)) {
      unknown_names_.push_back({filter->location, "no filter named '" + filter->name + "'", defer_unknown_names_});
    }
    if (at_operator("(")) filter->arguments = parse_call_arguments();
    filter->operand = std::move(node);
    node = std::move(filter);
  }
  return node;
}

ExpressionPtr Parser::parse_test(ExpressionPtr node) {
  const SourceLocation location = advance().location;  // "is"
  const bool negated = skip_name("not");
  auto test = std::make_unique<TestExpression>(location);
  const SourceLocation name_location = current().location;
  test->name = parse_dotted_name();
  test->function = find_test(test->name);
  if (test->function == nullptr) {
    unknown_names_.push_back({name_location, "no test named '" + test->name + "'", defer_unknown_names_});
  }

  const Token& next = current();
  const bool starts_argument =
      next.type == TokenType::kName || next.type == TokenType::kString || next.type == TokenType::kInteger ||
      next.type == TokenType::kFloat || (next.type == TokenType::kOperator && (next.value == "[" || next.value == "{"));
  if (at_operator("(")) {
    test->arguments = parse_call_arguments();
  } else if (starts_argument && !at_name("else") && !at_name("or") && !at_name("and")) {
    if (at_name("is")) fail("tests cannot be chained with 'is'");
    test->arguments.positional.push_back(parse_postfix(parse_primary()));
  }
  test->operand = std::move(node);
  if (!negated) return test;
  return std::make_unique<UnaryExpression>(UnaryExpression::Op::kNot, std::move(test), location);
}

}  // namespace glyph::chat::jinja
