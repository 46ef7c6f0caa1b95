// Renders a parsed template with a tree-walking interpreter. Scoping follows
// jinja2: each for-loop iteration, macro call and with block gets its own
// frame, but an if block does not. Attribute, item and call rules follow its
// ImmutableSandboxedEnvironment.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

// Variables of one scope; lookups fall back to the parent.
class Frame {
 public:
  explicit Frame(std::shared_ptr<Frame> parent) : parent_(std::move(parent)) {}
  const Value* find(const std::string& name) const;
  void set(const std::string& name, Value value);
  void clear();

 private:
  std::shared_ptr<Frame> parent_;
  std::vector<std::pair<std::string, Value>> variables_;
};

// A macro bound to the frame it was defined in. Also the `caller` of a
// {% call %} block.
class Macro : public Object {
 public:
  Macro(std::shared_ptr<const MacroDefinition> definition, std::shared_ptr<Frame> closure)
      : definition_(std::move(definition)), closure_(std::move(closure)) {}
  std::string type_name() const override { return "Macro"; }
  std::string repr() const override { return "<Macro '" + definition_->name + "'>"; }
  std::optional<Value> attribute(const std::string& name) const override;
  bool callable() const override { return true; }
  Value call(Interpreter& interpreter, Arguments arguments) const override;

  const MacroDefinition& definition() const { return *definition_; }
  const std::shared_ptr<Frame>& closure() const { return closure_; }

 private:
  std::shared_ptr<const MacroDefinition> definition_;
  std::shared_ptr<Frame> closure_;
};

class Interpreter {
 public:
  // context contains the render variables (messages, tools, ...) and must be a dict.
  Interpreter(const Template& tmpl, const Value& context);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Throws RenderError.
  std::string render();

  // Operations that built-in filters and methods share with the template.
  Value get_attribute(const Value& object, const std::string& name);
  Value get_item(const Value& object, const Value& key);
  Value call(const Value& callee, Arguments arguments);
  Value call_filter(const std::string& name, const Value& value, Arguments arguments);
  bool call_test(const std::string& name, const Value& value, Arguments arguments);

  // Runs a macro's body with its arguments bound; returns the output.
  Value call_macro(const Macro& macro, Arguments arguments);
  // Runs a for loop's body over items; `loop(items)` in a recursive loop
  // calls this with depth0 + 1.
  void run_loop(const ForStatement& loop, const std::shared_ptr<Frame>& frame, std::vector<Value> items, int depth0,
                std::string& out);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  std::shared_ptr<Frame> new_frame(std::shared_ptr<Frame> parent);

  Flow execute(const Body& body, const std::shared_ptr<Frame>& frame, std::string& out);
  Flow execute_statement(const Statement& statement, const std::shared_ptr<Frame>& frame, std::string& out);
  void execute_for(const ForStatement& statement, const std::shared_ptr<Frame>& frame, std::string& out);
  void execute_call_block(const CallBlockStatement& statement, const std::shared_ptr<Frame>& frame, std::string& out);
  Flow render_body(const Body& body, const std::shared_ptr<Frame>& parent, std::string& out);
  void assign(const AssignTarget& target, Value value, Frame& frame);

  Value evaluate(const Expression& expression, Frame& frame);
  Value evaluate_unchecked(const Expression& expression, Frame& frame);
  Value evaluate_name(const NameExpression& expression, Frame& frame);
  Value evaluate_slice(const GetItemExpression& expression, Frame& frame);
  Value evaluate_compare(const CompareExpression& expression, Frame& frame);
  Value evaluate_call(const CallExpression& expression, Frame& frame);
  Value evaluate_filter(const FilterExpression& expression, Frame& frame, const Value* block_output);
  Value evaluate_test(const TestExpression& expression, Frame& frame);
  Arguments evaluate_arguments(const CallArguments& arguments, Frame& frame);

  // Macro calls and recursive loop() calls in progress. Python stops runaway
  // recursion with RecursionError; this keeps the C++ stack bounded the same way.
  class CallDepthGuard;
  int call_depth_ = 0;

  const Template& template_;
  std::shared_ptr<Frame> root_;
  std::vector<std::shared_ptr<Frame>> frames_;  // every frame of this render, cleared at the end
};

}  // namespace glyph::chat::jinja
