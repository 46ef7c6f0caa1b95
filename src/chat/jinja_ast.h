// The syntax tree the parser builds and the interpreter walks. Node kinds
// follow jinja2.nodes, minus what chat templates cannot use (template
// inheritance and imports parse into an Unsupported node that raises).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_lexer.h"
#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

struct Expression;
struct Statement;
using ExpressionPtr = std::unique_ptr<Expression>;
using StatementPtr = std::unique_ptr<Statement>;
using Body = std::vector<StatementPtr>;

// A filter or test implementation: the value it applies to and the call's
// arguments, as jinja2 passes them.
using FilterFunction = Value (*)(Interpreter&, const Value&, Arguments&);
using TestFunction = bool (*)(Interpreter&, const Value&, Arguments&);

// ---- Expressions ----

struct Expression {
  enum class Kind {
    kLiteral,
    kName,
    kList,
    kTuple,
    kDict,
    kGetAttribute,
    kGetItem,
    kSlice,
    kUnary,
    kBinary,
    kConcat,
    kCompare,
    kAnd,
    kOr,
    kConditional,
    kCall,
    kFilter,
    kTest,
  };
  Expression(Kind kind, SourceLocation location) : kind(kind), location(location) {}
  virtual ~Expression() = default;

  Kind kind;
  SourceLocation location;
};

struct LiteralExpression : Expression {
  LiteralExpression(Value value, SourceLocation location) : Expression(Kind::kLiteral, location), value(std::move(value)) {}
  Value value;
};

struct NameExpression : Expression {
  NameExpression(std::string name, SourceLocation location) : Expression(Kind::kName, location), name(std::move(name)) {}
  std::string name;
};

// List and tuple literals.
struct SequenceExpression : Expression {
  using Expression::Expression;
  std::vector<ExpressionPtr> items;
};

struct DictExpression : Expression {
  explicit DictExpression(SourceLocation location) : Expression(Kind::kDict, location) {}
  std::vector<std::pair<ExpressionPtr, ExpressionPtr>> entries;
};

// object.name: a Python attribute first, then the item of that name.
struct GetAttributeExpression : Expression {
  GetAttributeExpression(ExpressionPtr object, std::string name, SourceLocation location)
      : Expression(Kind::kGetAttribute, location), object(std::move(object)), name(std::move(name)) {}
  ExpressionPtr object;
  std::string name;
};

// object[index]: the item first, then the attribute of that name.
struct GetItemExpression : Expression {
  GetItemExpression(ExpressionPtr object, ExpressionPtr index, SourceLocation location)
      : Expression(Kind::kGetItem, location), object(std::move(object)), index(std::move(index)) {}
  ExpressionPtr object;
  ExpressionPtr index;
};

// start:stop:step inside brackets; each part may be missing.
struct SliceExpression : Expression {
  explicit SliceExpression(SourceLocation location) : Expression(Kind::kSlice, location) {}
  ExpressionPtr start, stop, step;
};

struct UnaryExpression : Expression {
  enum class Op { kNegate, kPlus, kNot };
  UnaryExpression(Op op, ExpressionPtr operand, SourceLocation location)
      : Expression(Kind::kUnary, location), op(op), operand(std::move(operand)) {}
  Op op;
  ExpressionPtr operand;
};

enum class BinaryOp { kAdd, kSubtract, kMultiply, kDivide, kFloorDivide, kModulo, kPower };

struct BinaryExpression : Expression {
  BinaryExpression(BinaryOp op, ExpressionPtr left, ExpressionPtr right, SourceLocation location)
      : Expression(Kind::kBinary, location), op(op), left(std::move(left)), right(std::move(right)) {}
  BinaryOp op;
  ExpressionPtr left, right;
};

// a ~ b ~ c: str() of each part, joined.
struct ConcatExpression : Expression {
  explicit ConcatExpression(SourceLocation location) : Expression(Kind::kConcat, location) {}
  std::vector<ExpressionPtr> parts;
};

enum class CompareOp { kEqual, kNotEqual, kLess, kLessEqual, kGreater, kGreaterEqual, kIn, kNotIn };

// a < b <= c: chained like Python, each operand evaluated once.
struct CompareExpression : Expression {
  explicit CompareExpression(SourceLocation location) : Expression(Kind::kCompare, location) {}
  ExpressionPtr first;
  std::vector<std::pair<CompareOp, ExpressionPtr>> rest;
};

// `and` / `or`, returning an operand as Python does (kind kAnd or kOr).
struct LogicalExpression : Expression {
  LogicalExpression(Kind kind, ExpressionPtr left, ExpressionPtr right, SourceLocation location)
      : Expression(kind, location), left(std::move(left)), right(std::move(right)) {}
  ExpressionPtr left, right;
};

// `a if test else b`; without else, a false test yields Undefined.
struct ConditionalExpression : Expression {
  explicit ConditionalExpression(SourceLocation location) : Expression(Kind::kConditional, location) {}
  ExpressionPtr test, then_value, else_value;
};

// Arguments as written in a call, filter or test: f(a, b, *rest, k=v, **more).
struct CallArguments {
  std::vector<ExpressionPtr> positional;
  std::vector<std::pair<std::string, ExpressionPtr>> keyword;
  ExpressionPtr star_args;
  ExpressionPtr star_kwargs;
};

struct CallExpression : Expression {
  CallExpression(ExpressionPtr callee, SourceLocation location)
      : Expression(Kind::kCall, location), callee(std::move(callee)) {}
  ExpressionPtr callee;
  CallArguments arguments;
};

// value|name(arguments). operand is null inside {% filter %} blocks and
// {% set x | f %}, where the filtered value is the block's output. function
// is null for an unknown or unsupported name, which raises if it runs (the
// parser rejects unknown names outside if branches, as jinja2 does).
struct FilterExpression : Expression {
  explicit FilterExpression(SourceLocation location) : Expression(Kind::kFilter, location) {}
  ExpressionPtr operand;
  std::string name;
  FilterFunction function = nullptr;
  CallArguments arguments;
};

// value is [not] name(arguments). Negation is a separate kNot node, and
// function is null for an unknown name, as for filters.
struct TestExpression : Expression {
  explicit TestExpression(SourceLocation location) : Expression(Kind::kTest, location) {}
  ExpressionPtr operand;
  std::string name;
  TestFunction function = nullptr;
  CallArguments arguments;
};

// ---- Statements ----

struct Statement {
  enum class Kind {
    kText,
    kOutput,
    kIf,
    kFor,
    kSet,
    kSetBlock,
    kMacro,
    kCallBlock,
    kFilterBlock,
    kWith,
    kBreak,
    kContinue,
    kScope,
    kUnsupported,
  };
  Statement(Kind kind, SourceLocation location) : kind(kind), location(location) {}
  virtual ~Statement() = default;

  Kind kind;
  SourceLocation location;
};

struct TextStatement : Statement {
  TextStatement(std::string text, SourceLocation location) : Statement(Kind::kText, location), text(std::move(text)) {}
  std::string text;
};

// {{ expression }} and {% print expression %}.
struct OutputStatement : Statement {
  OutputStatement(ExpressionPtr expression, SourceLocation location)
      : Statement(Kind::kOutput, location), expression(std::move(expression)) {}
  ExpressionPtr expression;
};

struct IfStatement : Statement {
  explicit IfStatement(SourceLocation location) : Statement(Kind::kIf, location) {}
  std::vector<std::pair<ExpressionPtr, Body>> branches;  // if, then each elif
  Body else_body;
};

// The left side of `set` and `for`: a name, a namespace attribute
// (ns.attr) or a tuple of targets to unpack.
struct AssignTarget {
  enum class Kind { kName, kNamespaceAttribute, kTuple };
  Kind kind = Kind::kName;
  std::string name;
  std::string attribute;  // kNamespaceAttribute
  std::vector<AssignTarget> items;  // kTuple
  SourceLocation location;
};

struct ForStatement : Statement {
  explicit ForStatement(SourceLocation location) : Statement(Kind::kFor, location) {}
  AssignTarget target;
  ExpressionPtr iterable;
  ExpressionPtr filter;  // for x in y if filter
  bool recursive = false;
  Body body;
  Body else_body;
};

struct SetStatement : Statement {
  explicit SetStatement(SourceLocation location) : Statement(Kind::kSet, location) {}
  AssignTarget target;
  ExpressionPtr value;
};

// {% set x %}...{% endset %}, optionally {% set x | filter %}.
struct SetBlockStatement : Statement {
  explicit SetBlockStatement(SourceLocation location) : Statement(Kind::kSetBlock, location) {}
  AssignTarget target;
  ExpressionPtr filter;  // a FilterExpression chain whose innermost operand is null
  Body body;
};

struct MacroParameter {
  std::string name;
  ExpressionPtr default_value;  // null when required
};

// A macro definition, also the body of a {% call %} block (the caller).
struct MacroDefinition {
  std::string name;
  std::vector<MacroParameter> parameters;
  Body body;
  // Whether the body reads these names, which jinja2 uses to decide whether
  // extra arguments are accepted.
  bool uses_varargs = false;
  bool uses_kwargs = false;
  bool uses_caller = false;
};

struct MacroStatement : Statement {
  explicit MacroStatement(SourceLocation location) : Statement(Kind::kMacro, location) {}
  std::shared_ptr<MacroDefinition> macro;
};

// {% call(params) macro(args) %}body{% endcall %}: calls the macro with
// `caller` bound to the body.
struct CallBlockStatement : Statement {
  explicit CallBlockStatement(SourceLocation location) : Statement(Kind::kCallBlock, location) {}
  ExpressionPtr call;  // a CallExpression
  std::shared_ptr<MacroDefinition> caller;
};

struct FilterBlockStatement : Statement {
  explicit FilterBlockStatement(SourceLocation location) : Statement(Kind::kFilterBlock, location) {}
  ExpressionPtr filter;  // a FilterExpression chain whose innermost operand is null
  Body body;
};

struct WithStatement : Statement {
  explicit WithStatement(SourceLocation location) : Statement(Kind::kWith, location) {}
  std::vector<std::pair<AssignTarget, ExpressionPtr>> assignments;
  Body body;
};

// A body rendered in place: {% block %} without inheritance, and
// transformers' {% generation %} marker.
struct ScopeStatement : Statement {
  explicit ScopeStatement(SourceLocation location) : Statement(Kind::kScope, location) {}
  Body body;
};

// include, import, from and extends need a template loader, which the chat
// template environment lacks, so jinja2 raises when they run and so does
// this. autoescape parses too but raises, because this engine never escapes.
struct UnsupportedStatement : Statement {
  UnsupportedStatement(std::string message, SourceLocation location)
      : Statement(Kind::kUnsupported, location), message(std::move(message)) {}
  std::string message;
};

struct Template {
  Body body;
};

}  // namespace glyph::chat::jinja
