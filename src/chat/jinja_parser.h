// Builds the syntax tree from tokens with jinja2's grammar and operator
// precedence (jinja2/parser.py): filters bind tighter than any binary
// operator, unary minus tighter than **, and ~ between + and *.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_lexer.h"

namespace glyph::chat::jinja {

// Throws glyph::Error(kBadModel) with line and column on a syntax error,
// including an unknown filter or test name outside an if branch (jinja2
// rejects those when it compiles the template).
Template parse_template(const std::string& source);

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  Template parse();

 private:
  // ---- token stream (jinja_parser.cpp) ----
  const Token& current() const { return tokens_[position_]; }
  const Token& peek() const;
  const Token& advance();
  bool at_operator(std::string_view op) const;
  bool at_name(std::string_view name) const;
  bool skip_operator(std::string_view op);
  bool skip_name(std::string_view name);
  void expect_operator(std::string_view op);
  void expect_name(std::string_view name);
  std::string expect_identifier();
  void expect_block_end();
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail_at(const SourceLocation& location, const std::string& message) const;
  [[noreturn]] void fail_unexpected() const;
  [[noreturn]] void fail_end_of_template() const;

  // ---- statements (jinja_parser.cpp) ----
  Body parse_body(std::vector<std::string_view> end_tags);
  Body parse_block_body(std::vector<std::string_view> end_tags);
  void parse_statement(Body& body);
  StatementPtr parse_if();
  StatementPtr parse_for();
  StatementPtr parse_set();
  StatementPtr parse_macro();
  StatementPtr parse_call_block();
  StatementPtr parse_filter_block();
  StatementPtr parse_with();
  StatementPtr parse_scope(std::string_view end_tag);
  StatementPtr parse_unsupported(const std::string& tag);
  void parse_macro_signature(MacroDefinition& macro);
  Body parse_macro_body(MacroDefinition& macro, std::string_view end_tag);
  AssignTarget parse_assign_target(std::vector<std::string_view> extra_end_names, bool with_namespace);
  AssignTarget to_assign_target(const Expression& expression) const;

  // ---- expressions (jinja_expression_parser.cpp) ----
  ExpressionPtr parse_tuple(bool simplified, bool with_conditional, std::vector<std::string_view> extra_end_names,
                            bool explicit_parentheses, bool with_namespace);
  ExpressionPtr parse_expression(bool with_conditional = true);
  ExpressionPtr parse_conditional();
  ExpressionPtr parse_or();
  ExpressionPtr parse_and();
  ExpressionPtr parse_not();
  ExpressionPtr parse_compare();
  ExpressionPtr parse_additive();
  ExpressionPtr parse_concat();
  ExpressionPtr parse_multiplicative();
  ExpressionPtr parse_power();
  ExpressionPtr parse_unary(bool with_filter);
  ExpressionPtr parse_primary(bool with_namespace = false);
  ExpressionPtr parse_list();
  ExpressionPtr parse_dict();
  ExpressionPtr parse_postfix(ExpressionPtr node);
  ExpressionPtr parse_filter_and_test(ExpressionPtr node);
  ExpressionPtr parse_subscript(ExpressionPtr node);
  ExpressionPtr parse_subscribed();
  ExpressionPtr parse_call(ExpressionPtr callee);
  CallArguments parse_call_arguments();
  ExpressionPtr parse_filter(ExpressionPtr node, bool start_inline);
  ExpressionPtr parse_test(ExpressionPtr node);
  std::string parse_dotted_name();
  bool is_tuple_end(const std::vector<std::string_view>& extra_end_names) const;
  void note_name_use(const std::string& name);

  std::vector<Token> tokens_;
  size_t position_ = 0;

  // Block tags still open and the end tags each is waiting for, for messages.
  std::vector<std::string> open_tags_;
  std::vector<std::vector<std::string_view>> end_tag_stack_;
  // Unknown filter and test names. jinja2 rejects them when it compiles the
  // template, except inside an if branch or a conditional expression, where
  // it raises only if they run.
  struct UnknownName {
    SourceLocation location;
    std::string message;
    bool deferred = false;
  };
  std::vector<UnknownName> unknown_names_;
  bool defer_unknown_names_ = false;
  int loop_depth_ = 0;  // for break/continue outside a loop
  // Nesting of expressions and blocks, bounded so that a hostile template
  // cannot exhaust the stack (jinja2 hits Python's recursion limit instead).
  int nesting_depth_ = 0;
  class NestingGuard {
   public:
    explicit NestingGuard(Parser& parser);  // throws past the limit
    ~NestingGuard() { --parser_.nesting_depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };
  std::vector<MacroDefinition*> open_macros_;
};

}  // namespace glyph::chat::jinja
