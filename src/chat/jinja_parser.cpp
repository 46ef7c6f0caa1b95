#include "chat/jinja_parser.h"

#include <algorithm>

#include "core/error.h"

namespace glyph::chat::jinja {
namespace {

std::string describe(const Token& token) {
  switch (token.type) {
    case TokenType::kText:
      return "template data";
    case TokenType::kVariableBegin:
      return "begin of print statement";
    case TokenType::kVariableEnd:
      return "end of print statement";
    case TokenType::kBlockBegin:
      return "begin of statement block";
    case TokenType::kBlockEnd:
      return "end of statement block";
    case TokenType::kString:
      return "string";
    case TokenType::kEnd:
      return "end of template";
    default:
      return "'" + token.value + "'";
  }
}

std::string quote_list(const std::vector<std::string_view>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += " or ";
    out += '\'';
    out += names[i];
    out += '\'';
  }
  return out;
}

// Each level of parentheses counts three (expression, not, unary), so this
// allows about 95 levels. jinja2 3.1 already fails between 50 and 80 levels
// under Python's default recursion limit.
constexpr int kMaxNestingDepth = 300;

}  // namespace

Parser::NestingGuard::NestingGuard(Parser& parser) : parser_(parser) {
  if (++parser_.nesting_depth_ > kMaxNestingDepth) {
    --parser_.nesting_depth_;
    parser_.fail("expressions or blocks are nested more than " + std::to_string(kMaxNestingDepth) + " levels deep");
  }
}

Template parse_template(const std::string& source) { return Parser(tokenize(source)).parse(); }

Template Parser::parse() {
  Template result;
  result.body = parse_body({});
  if (current().type != TokenType::kEnd) fail_unexpected();
  for (const UnknownName& unknown : unknown_names_) {
    if (!unknown.deferred) fail_at(unknown.location, unknown.message);
  }
  return result;
}

// ---- token stream ----

const Token& Parser::peek() const { return tokens_[std::min(position_ + 1, tokens_.size() - 1)]; }

const Token& Parser::advance() {
  const Token& token = tokens_[position_];
  if (position_ + 1 < tokens_.size()) ++position_;
  return token;
}

bool Parser::at_operator(std::string_view op) const {
  return current().type == TokenType::kOperator && current().value == op;
}

bool Parser::at_name(std::string_view name) const {
  return current().type == TokenType::kName && current().value == name;
}

bool Parser::skip_operator(std::string_view op) {
  if (!at_operator(op)) return false;
  advance();
  return true;
}

bool Parser::skip_name(std::string_view name) {
  if (!at_name(name)) return false;
  advance();
  return true;
}

void Parser::expect_operator(std::string_view op) {
  if (!skip_operator(op)) fail("expected '" + std::string(op) + "', got " + describe(current()));
}

void Parser::expect_name(std::string_view name) {
  if (!skip_name(name)) fail("expected '" + std::string(name) + "', got " + describe(current()));
}

std::string Parser::expect_identifier() {
  if (current().type != TokenType::kName) fail("expected a name, got " + describe(current()));
  return advance().value;
}

void Parser::expect_block_end() {
  if (current().type == TokenType::kEnd) fail_end_of_template();
  if (current().type != TokenType::kBlockEnd) fail("expected end of statement block, got " + describe(current()));
  advance();
}

void Parser::fail(const std::string& message) const { fail_at(current().location, message); }

void Parser::fail_at(const SourceLocation& location, const std::string& message) const {
  throw_syntax_error(location, message);
}

void Parser::fail_unexpected() const {
  if (current().type == TokenType::kEnd) fail_end_of_template();
  fail("unexpected " + describe(current()));
}

void Parser::fail_end_of_template() const {
  std::string message = "unexpected end of template";
  if (!end_tag_stack_.empty()) message += "; expected " + quote_list(end_tag_stack_.back());
  if (!open_tags_.empty()) message += " to close the '" + open_tags_.back() + "' block";
  fail(message);
}

// ---- statements ----

// Parses template data, {{ }} and statements until a block tag whose name
// is one of end_tags; the current token is then that name.
Body Parser::parse_body(std::vector<std::string_view> end_tags) {
  const NestingGuard guard(*this);
  Body body;
  if (!end_tags.empty()) end_tag_stack_.push_back(end_tags);
  while (true) {
    const Token& token = current();
    if (token.type == TokenType::kEnd) break;
    if (token.type == TokenType::kText) {
      body.push_back(std::make_unique<TextStatement>(token.value, token.location));
      advance();
    } else if (token.type == TokenType::kVariableBegin) {
      advance();
      auto expression = parse_tuple(false, true, {}, false, false);
      if (current().type == TokenType::kEnd) fail_end_of_template();
      if (current().type != TokenType::kVariableEnd) fail("expected end of print statement, got " + describe(current()));
      advance();
      body.push_back(std::make_unique<OutputStatement>(std::move(expression), token.location));
    } else if (token.type == TokenType::kBlockBegin) {
      advance();
      if (current().type == TokenType::kName &&
          std::find(end_tags.begin(), end_tags.end(), current().value) != end_tags.end()) {
        end_tag_stack_.pop_back();
        return body;
      }
      parse_statement(body);
      expect_block_end();
    } else {
      fail_unexpected();
    }
  }
  if (!end_tags.empty()) fail_end_of_template();
  return body;
}

// The body of a block statement: an optional ':' and the end of the opening
// tag, then statements up to one of end_tags (left as the current token).
Body Parser::parse_block_body(std::vector<std::string_view> end_tags) {
  skip_operator(":");
  expect_block_end();
  return parse_body(std::move(end_tags));
}

void Parser::parse_statement(Body& body) {
  const Token& token = current();
  if (token.type != TokenType::kName) fail("expected a tag name, got " + describe(token));
  const std::string tag = token.value;
  const SourceLocation location = token.location;

  open_tags_.push_back(tag);
  if (tag == "if") {
    body.push_back(parse_if());
  } else if (tag == "for") {
    body.push_back(parse_for());
  } else if (tag == "set") {
    body.push_back(parse_set());
  } else if (tag == "macro") {
    body.push_back(parse_macro());
  } else if (tag == "call") {
    body.push_back(parse_call_block());
  } else if (tag == "filter") {
    body.push_back(parse_filter_block());
  } else if (tag == "with") {
    body.push_back(parse_with());
  } else if (tag == "block") {
    advance();
    expect_identifier();
    skip_name("scoped");
    skip_name("required");
    body.push_back(parse_scope("endblock"));
    if (current().type == TokenType::kName) advance();  // {% endblock name %}
  } else if (tag == "generation") {  // transformers' assistant-token marker
    advance();
    body.push_back(parse_scope("endgeneration"));
  } else if (tag == "print") {
    advance();
    bool first = true;
    while (current().type != TokenType::kBlockEnd) {
      if (!first) expect_operator(",");
      first = false;
      body.push_back(std::make_unique<OutputStatement>(parse_expression(), location));
    }
  } else if (tag == "break" || tag == "continue") {
    if (loop_depth_ == 0) fail("'" + tag + "' outside loop");
    advance();
    body.push_back(std::make_unique<Statement>(tag == "break" ? Statement::Kind::kBreak : Statement::Kind::kContinue,
                                               location));
  } else if (tag == "include" || tag == "import" || tag == "from" || tag == "extends" || tag == "autoescape") {
    body.push_back(parse_unsupported(tag));
  } else {
    open_tags_.pop_back();
    std::string message = "unknown tag '" + tag + "'";
    if (!end_tag_stack_.empty()) message += "; expected " + quote_list(end_tag_stack_.back());
    if (!open_tags_.empty()) message += " to close the '" + open_tags_.back() + "' block";
    fail(message);
  }
  open_tags_.pop_back();
}

StatementPtr Parser::parse_if() {
  auto statement = std::make_unique<IfStatement>(advance().location);
  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = true;
  while (true) {
    auto test = parse_tuple(false, false, {}, false, false);
    Body branch = parse_block_body({"elif", "else", "endif"});
    statement->branches.emplace_back(std::move(test), std::move(branch));
    const std::string tag = advance().value;
    if (tag == "elif") continue;
    if (tag == "else") {
      statement->else_body = parse_block_body({"endif"});
      advance();
    }
    break;
  }
  defer_unknown_names_ = saved_defer;
  return statement;
}

StatementPtr Parser::parse_for() {
  auto statement = std::make_unique<ForStatement>(advance().location);
  statement->target = parse_assign_target({"in"}, false);
  expect_name("in");
  statement->iterable = parse_tuple(false, false, {"recursive"}, false, false);

  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = false;
  if (skip_name("if")) statement->filter = parse_expression();
  statement->recursive = skip_name("recursive");
  ++loop_depth_;
  statement->body = parse_block_body({"endfor", "else"});
  --loop_depth_;
  if (advance().value == "else") {
    statement->else_body = parse_block_body({"endfor"});
    advance();
  }
  defer_unknown_names_ = saved_defer;
  return statement;
}

StatementPtr Parser::parse_set() {
  const SourceLocation location = advance().location;
  AssignTarget target = parse_assign_target({}, true);
  if (skip_operator("=")) {
    auto statement = std::make_unique<SetStatement>(location);
    statement->target = std::move(target);
    statement->value = parse_tuple(false, true, {}, false, false);
    return statement;
  }

  auto statement = std::make_unique<SetBlockStatement>(location);
  statement->target = std::move(target);
  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = false;
  statement->filter = parse_filter(nullptr, false);
  statement->body = parse_block_body({"endset"});
  advance();
  defer_unknown_names_ = saved_defer;
  return statement;
}

void Parser::parse_macro_signature(MacroDefinition& macro) {
  expect_operator("(");
  while (!at_operator(")")) {
    if (!macro.parameters.empty()) expect_operator(",");
    MacroParameter parameter;
    parameter.name = expect_identifier();
    if (skip_operator("=")) {
      parameter.default_value = parse_expression();
    } else if (!macro.parameters.empty() && macro.parameters.back().default_value) {
      fail("non-default argument follows default argument");
    }
    macro.parameters.push_back(std::move(parameter));
  }
  expect_operator(")");
}

// A macro body is its own scope: break/continue cannot reach an enclosing
// loop, and unknown filters are no longer deferred.
Body Parser::parse_macro_body(MacroDefinition& macro, std::string_view end_tag) {
  const bool saved_defer = defer_unknown_names_;
  const int saved_loop_depth = loop_depth_;
  defer_unknown_names_ = false;
  loop_depth_ = 0;
  open_macros_.push_back(&macro);
  Body body = parse_block_body({end_tag});
  advance();
  open_macros_.pop_back();
  loop_depth_ = saved_loop_depth;
  defer_unknown_names_ = saved_defer;
  return body;
}

StatementPtr Parser::parse_macro() {
  auto statement = std::make_unique<MacroStatement>(advance().location);
  statement->macro = std::make_shared<MacroDefinition>();
  statement->macro->name = expect_identifier();
  parse_macro_signature(*statement->macro);
  statement->macro->body = parse_macro_body(*statement->macro, "endmacro");
  return statement;
}

StatementPtr Parser::parse_call_block() {
  auto statement = std::make_unique<CallBlockStatement>(advance().location);
  statement->caller = std::make_shared<MacroDefinition>();
  statement->caller->name = "caller";
  if (at_operator("(")) parse_macro_signature(*statement->caller);
  statement->call = parse_expression();
  if (statement->call->kind != Expression::Kind::kCall) fail_at(statement->location, "expected a call after 'call'");
  statement->caller->body = parse_macro_body(*statement->caller, "endcall");
  return statement;
}

StatementPtr Parser::parse_filter_block() {
  auto statement = std::make_unique<FilterBlockStatement>(advance().location);
  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = false;
  statement->filter = parse_filter(nullptr, true);
  statement->body = parse_block_body({"endfilter"});
  advance();
  defer_unknown_names_ = saved_defer;
  return statement;
}

StatementPtr Parser::parse_with() {
  auto statement = std::make_unique<WithStatement>(advance().location);
  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = false;
  while (current().type != TokenType::kBlockEnd) {
    if (!statement->assignments.empty()) expect_operator(",");
    AssignTarget target = parse_assign_target({}, false);
    expect_operator("=");
    statement->assignments.emplace_back(std::move(target), parse_expression());
  }
  statement->body = parse_block_body({"endwith"});
  advance();
  defer_unknown_names_ = saved_defer;
  return statement;
}

StatementPtr Parser::parse_scope(std::string_view end_tag) {
  auto statement = std::make_unique<ScopeStatement>(current().location);
  const bool saved_defer = defer_unknown_names_;
  defer_unknown_names_ = false;
  statement->body = parse_block_body({end_tag});
  advance();
  defer_unknown_names_ = saved_defer;
  return statement;
}

// Skips the tag's arguments (they are never evaluated) and, for autoescape,
// its body; running the statement raises.
StatementPtr Parser::parse_unsupported(const std::string& tag) {
  const SourceLocation location = advance().location;
  while (current().type != TokenType::kBlockEnd && current().type != TokenType::kEnd) advance();
  if (tag != "autoescape") {
    return std::make_unique<UnsupportedStatement>(
        "the " + tag + " tag needs a template loader, which chat templates do not have", location);
  }
  parse_block_body({"endautoescape"});
  advance();  // the closing tag's block end is left for parse_body
  return std::make_unique<UnsupportedStatement>("the autoescape tag is not supported by this template engine",
                                                location);
}

AssignTarget Parser::parse_assign_target(std::vector<std::string_view> extra_end_names, bool with_namespace) {
  auto expression = parse_tuple(true, true, std::move(extra_end_names), false, with_namespace);
  return to_assign_target(*expression);
}

AssignTarget Parser::to_assign_target(const Expression& expression) const {
  AssignTarget target;
  target.location = expression.location;
  if (expression.kind == Expression::Kind::kName) {
    target.kind = AssignTarget::Kind::kName;
    target.name = static_cast<const NameExpression&>(expression).name;
    return target;
  }
  if (expression.kind == Expression::Kind::kTuple) {
    target.kind = AssignTarget::Kind::kTuple;
    for (const auto& item : static_cast<const SequenceExpression&>(expression).items) {
      target.items.push_back(to_assign_target(*item));
    }
    return target;
  }
  if (expression.kind == Expression::Kind::kGetAttribute) {
    // Only produced by parse_primary(with_namespace=true) for `set ns.attr`.
    const auto& attribute = static_cast<const GetAttributeExpression&>(expression);
    if (attribute.object->kind == Expression::Kind::kName) {
      target.kind = AssignTarget::Kind::kNamespaceAttribute;
      target.name = static_cast<const NameExpression&>(*attribute.object).name;
      target.attribute = attribute.name;
      return target;
    }
  }
  fail_at(expression.location, "can't assign to this expression");
}

}  // namespace glyph::chat::jinja
