#include "chat/jinja_interpreter.h"

#include <fmt/format.h>


namespace glyph::chat::jinja {
namespace {

// The `loop` variable of one for-loop iteration. Iterations of one loop
// share the items and the state of loop.changed().
class LoopContext : public Object {
 public:
  struct Shared {
    const ForStatement* statement = nullptr;
    std::shared_ptr<Frame> frame;  // where the for statement runs, for recursion
    std::vector<Value> items;
    int depth0 = 0;
    std::optional<Value> last_changed;
  };

  LoopContext(std::shared_ptr<Shared> shared, int64_t index0) : shared_(std::move(shared)), index0_(index0) {}

  std::string type_name() const override { return "LoopContext"; }
  std::string repr() const override { return fmt::format("<LoopContext {}/{}>", index0_ + 1, length()); }
  bool callable() const override { return true; }

  std::optional<Value> attribute(const std::string& name) const override {
    const int64_t length = this->length();
    if (name == "index") return Value(index0_ + 1);
    if (name == "index0") return Value(index0_);
    if (name == "revindex") return Value(length - index0_);
    if (name == "revindex0") return Value(length - index0_ - 1);
    if (name == "first") return Value(index0_ == 0);
    if (name == "last") return Value(index0_ == length - 1);
    if (name == "length") return Value(length);
    if (name == "depth") return Value(static_cast<int64_t>(shared_->depth0 + 1));
    if (name == "depth0") return Value(static_cast<int64_t>(shared_->depth0));
    if (name == "previtem") {
      if (index0_ == 0) return Value::undefined("there is no previous item");
      return shared_->items[index0_ - 1];
    }
    if (name == "nextitem") {
      if (index0_ + 1 >= length) return Value::undefined("there is no next item");
      return shared_->items[index0_ + 1];
    }
    if (name == "cycle") return cycle_function();
    if (name == "changed") return changed_function();
    return std::nullopt;
  }

  // loop(items) in a `recursive` loop renders the loop body over items.
  Value call(Interpreter& interpreter, Arguments arguments) const override {
    if (!shared_->statement->recursive) {
      throw_render_error("The loop must have the 'recursive' marker to be called recursively.");
    }
    if (arguments.positional.size() != 1 || !arguments.keyword.empty()) {
      throw_render_error("loop() takes exactly one argument, the items to iterate");
    }
    std::string out;
    interpreter.run_loop(*shared_->statement, shared_->frame, iterate(arguments.positional[0]), shared_->depth0 + 1, out);
    return Value(std::move(out));
  }

 private:
  int64_t length() const { return static_cast<int64_t>(shared_->items.size()); }

  Value cycle_function() const {
    const int64_t index0 = index0_;
    return Value(std::make_shared<Function>("cycle", [index0](Interpreter&, Arguments& arguments) -> Value {
      if (arguments.positional.empty()) throw_render_error("no items for cycling given");
      return arguments.positional[index0 % static_cast<int64_t>(arguments.positional.size())];
    }));
  }

  // loop.changed(*values) is true on the first call and whenever the values
  // differ from the previous call's.
  Value changed_function() const {
    auto shared = shared_;
    return Value(std::make_shared<Function>("changed", [shared](Interpreter&, Arguments& arguments) -> Value {
      Value values = Value::list(arguments.positional);
      if (shared->last_changed && python_equal(*shared->last_changed, values)) return Value(false);
      shared->last_changed = std::move(values);
      return Value(true);
    }));
  }

  std::shared_ptr<Shared> shared_;
  int64_t index0_;
};

// jinja2 3.1 under Python's default recursion limit (1000 frames) fails
// between 150 and 200 nested macro calls, so every template it renders fits.
// 300 levels ran within a 512 KiB thread stack in a GCC 12 -O2 build.
constexpr int kMaxCallDepth = 300;

}  // namespace

class Interpreter::CallDepthGuard {
 public:
  explicit CallDepthGuard(int& depth) : depth_(depth) {
    if (++depth_ > kMaxCallDepth) {
      --depth_;
      throw_render_error(fmt::format("maximum recursion depth exceeded ({} nested macro or loop() calls)", kMaxCallDepth));
    }
  }
  ~CallDepthGuard() { --depth_; }
  CallDepthGuard(const CallDepthGuard&) = delete;
  CallDepthGuard& operator=(const CallDepthGuard&) = delete;

 private:
  int& depth_;
};

// ---- Frame ----

const Value* Frame::find(const std::string& name) const {
  for (const Frame* frame = this; frame != nullptr; frame = frame->parent_.get()) {
    for (auto it = frame->variables_.rbegin(); it != frame->variables_.rend(); ++it) {
      if (it->first == name) return &it->second;
    }
  }
  return nullptr;
}

void Frame::set(const std::string& name, Value value) {
  for (auto& [existing, old_value] : variables_) {
    if (existing == name) {
      old_value = std::move(value);
      return;
    }
  }
  variables_.emplace_back(name, std::move(value));
}

void Frame::clear() { variables_.clear(); }

// ---- Macro ----

std::optional<Value> Macro::attribute(const std::string& name) const {
  if (name == "name") return Value(definition_->name);
  if (name == "arguments") {
    std::vector<Value> names;
    for (const auto& parameter : definition_->parameters) names.emplace_back(parameter.name);
    return Value::tuple(std::move(names));
  }
  if (name == "catch_kwargs") return Value(definition_->uses_kwargs);
  if (name == "catch_varargs") return Value(definition_->uses_varargs);
  if (name == "caller") return Value(definition_->uses_caller);
  return std::nullopt;
}

Value Macro::call(Interpreter& interpreter, Arguments arguments) const {
  return interpreter.call_macro(*this, std::move(arguments));
}

// ---- Interpreter ----

Interpreter::Interpreter(const Template& tmpl, const Value& context) : template_(tmpl) {
  root_ = new_frame(nullptr);
  for (const auto& [key, value] : context.dict_entries().entries) root_->set(key.text(), value);
}

Interpreter::~Interpreter() {
  // Macros hold their defining frame and frames hold macros; clearing every
  // frame breaks those reference cycles.
  for (const auto& frame : frames_) frame->clear();
}

std::shared_ptr<Frame> Interpreter::new_frame(std::shared_ptr<Frame> parent) {
  auto frame = std::make_shared<Frame>(std::move(parent));
  frames_.push_back(frame);
  return frame;
}

std::string Interpreter::render() {
  std::string out;
  execute(template_.body, new_frame(root_), out);
  return out;
}

Interpreter::Flow Interpreter::execute(const Body& body, const std::shared_ptr<Frame>& frame, std::string& out) {
  for (const auto& statement : body) {
    const Flow flow = execute_statement(*statement, frame, out);
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Interpreter::Flow Interpreter::render_body(const Body& body, const std::shared_ptr<Frame>& parent, std::string& out) {
  return execute(body, new_frame(parent), out);
}

Interpreter::Flow Interpreter::execute_statement(const Statement& statement, const std::shared_ptr<Frame>& frame,
                                                 std::string& out) {
  try {
    switch (statement.kind) {
      case Statement::Kind::kText:
        out += static_cast<const TextStatement&>(statement).text;
        return Flow::kNormal;
      case Statement::Kind::kOutput:
        out += to_python_str(evaluate(*static_cast<const OutputStatement&>(statement).expression, *frame));
        return Flow::kNormal;
      case Statement::Kind::kIf: {
        const auto& if_statement = static_cast<const IfStatement&>(statement);
        for (const auto& [test, branch] : if_statement.branches) {
          if (evaluate(*test, *frame).truthy()) return execute(branch, frame, out);
        }
        return execute(if_statement.else_body, frame, out);
      }
      case Statement::Kind::kFor:
        execute_for(static_cast<const ForStatement&>(statement), frame, out);
        return Flow::kNormal;
      case Statement::Kind::kSet: {
        const auto& set = static_cast<const SetStatement&>(statement);
        assign(set.target, evaluate(*set.value, *frame), *frame);
        return Flow::kNormal;
      }
      case Statement::Kind::kSetBlock: {
        // A break or continue inside the block leaves it at once, unassigned.
        const auto& set = static_cast<const SetBlockStatement&>(statement);
        std::string body;
        if (const Flow flow = render_body(set.body, frame, body); flow != Flow::kNormal) return flow;
        Value value(std::move(body));
        if (set.filter) value = evaluate_filter(static_cast<const FilterExpression&>(*set.filter), *frame, &value);
        assign(set.target, std::move(value), *frame);
        return Flow::kNormal;
      }
      case Statement::Kind::kMacro: {
        const auto& definition = static_cast<const MacroStatement&>(statement).macro;
        frame->set(definition->name, Value(std::make_shared<Macro>(definition, frame)));
        return Flow::kNormal;
      }
      case Statement::Kind::kCallBlock:
        execute_call_block(static_cast<const CallBlockStatement&>(statement), frame, out);
        return Flow::kNormal;
      case Statement::Kind::kFilterBlock: {
        const auto& block = static_cast<const FilterBlockStatement&>(statement);
        std::string body;
        if (const Flow flow = render_body(block.body, frame, body); flow != Flow::kNormal) return flow;
        const Value body_value(std::move(body));
        out += to_python_str(evaluate_filter(static_cast<const FilterExpression&>(*block.filter), *frame, &body_value));
        return Flow::kNormal;
      }
      case Statement::Kind::kWith: {
        // Values are evaluated in the enclosing frame, then bound in a new one.
        const auto& with = static_cast<const WithStatement&>(statement);
        auto inner = new_frame(frame);
        for (const auto& [target, value] : with.assignments) assign(target, evaluate(*value, *frame), *inner);
        return execute(with.body, inner, out);
      }
      case Statement::Kind::kScope:
        return execute(static_cast<const ScopeStatement&>(statement).body, new_frame(frame), out);
      case Statement::Kind::kBreak:
        return Flow::kBreak;
      case Statement::Kind::kContinue:
        return Flow::kContinue;
      case Statement::Kind::kUnsupported:
        throw_render_error(static_cast<const UnsupportedStatement&>(statement).message);
    }
  } catch (RenderError& error) {
    if (error.line == 0) error.line = statement.location.line;
    throw;
  }
  return Flow::kNormal;
}

void Interpreter::execute_for(const ForStatement& statement, const std::shared_ptr<Frame>& frame, std::string& out) {
  const Value iterable = evaluate(*statement.iterable, *frame);
  run_loop(statement, frame, iterate(iterable), 0, out);
}

void Interpreter::run_loop(const ForStatement& loop, const std::shared_ptr<Frame>& frame, std::vector<Value> items,
                           int depth0, std::string& out) {
  const CallDepthGuard guard(call_depth_);
  // `for x in items if test` drops items before the loop counts them, so
  // loop.index and loop.length see only the kept ones.
  if (loop.filter) {
    std::vector<Value> kept;
    for (Value& item : items) {
      auto test_frame = new_frame(frame);
      assign(loop.target, item, *test_frame);
      if (evaluate(*loop.filter, *test_frame).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  if (items.empty()) {
    execute(loop.else_body, new_frame(frame), out);
    return;
  }

  auto shared = std::make_shared<LoopContext::Shared>();
  shared->statement = &loop;
  shared->frame = frame;
  shared->items = std::move(items);
  shared->depth0 = depth0;
  for (size_t i = 0; i < shared->items.size(); ++i) {
    auto iteration = new_frame(frame);
    assign(loop.target, shared->items[i], *iteration);
    iteration->set("loop", Value(std::make_shared<LoopContext>(shared, static_cast<int64_t>(i))));
    if (execute(loop.body, iteration, out) == Flow::kBreak) break;
  }
}

void Interpreter::execute_call_block(const CallBlockStatement& statement, const std::shared_ptr<Frame>& frame,
                                     std::string& out) {
  const auto& call = static_cast<const CallExpression&>(*statement.call);
  const Value callee = evaluate(*call.callee, *frame);
  Arguments arguments = evaluate_arguments(call.arguments, *frame);
  arguments.keyword.emplace_back("caller", Value(std::make_shared<Macro>(statement.caller, frame)));
  out += to_python_str(this->call(callee, std::move(arguments)));
}

void Interpreter::assign(const AssignTarget& target, Value value, Frame& frame) {
  switch (target.kind) {
    case AssignTarget::Kind::kName:
      frame.set(target.name, std::move(value));
      return;
    case AssignTarget::Kind::kNamespaceAttribute: {
      const Value* object = frame.find(target.name);
      Namespace* ns = object != nullptr ? object->object_as<Namespace>() : nullptr;
      if (ns == nullptr) throw_render_error("cannot assign attribute on non-namespace object");
      ns->set_attribute(target.attribute, std::move(value));
      return;
    }
    case AssignTarget::Kind::kTuple: {
      std::vector<Value> items = iterate(value);
      const size_t expected = target.items.size();
      if (items.size() < expected) {
        throw_render_error(fmt::format("not enough values to unpack (expected {}, got {})", expected, items.size()));
      }
      if (items.size() > expected) throw_render_error(fmt::format("too many values to unpack (expected {})", expected));
      for (size_t i = 0; i < expected; ++i) assign(target.items[i], std::move(items[i]), frame);
      return;
    }
  }
}

// jinja2's Macro.__call__: positional arguments first, then keywords and
// defaults (evaluated in the macro's frame, so they may use earlier
// parameters). Extra arguments are an error unless the body reads varargs or
// kwargs.
Value Interpreter::call_macro(const Macro& macro, Arguments arguments) {
  const CallDepthGuard guard(call_depth_);
  const MacroDefinition& definition = macro.definition();
  auto frame = new_frame(macro.closure());
  const size_t parameter_count = definition.parameters.size();
  const size_t consumed = std::min(arguments.positional.size(), parameter_count);
  for (size_t i = 0; i < consumed; ++i) frame->set(definition.parameters[i].name, arguments.positional[i]);

  const auto take_keyword = [&](const std::string& name) -> std::optional<Value> {
    for (auto it = arguments.keyword.begin(); it != arguments.keyword.end(); ++it) {
      if (it->first == name) {
        Value value = std::move(it->second);
        arguments.keyword.erase(it);
        return value;
      }
    }
    return std::nullopt;
  };

  bool found_caller = false;
  for (size_t i = consumed; i < parameter_count; ++i) {
    const MacroParameter& parameter = definition.parameters[i];
    if (parameter.name == "caller") found_caller = true;
    if (std::optional<Value> value = take_keyword(parameter.name)) {
      frame->set(parameter.name, std::move(*value));
    } else if (parameter.default_value) {
      frame->set(parameter.name, evaluate(*parameter.default_value, *frame));
    } else {
      frame->set(parameter.name, Value::undefined("parameter '" + parameter.name + "' was not provided"));
    }
  }
  if (consumed == parameter_count) {
    for (const auto& parameter : definition.parameters) found_caller = found_caller || parameter.name == "caller";
  }

  if (definition.uses_caller && !found_caller) {
    std::optional<Value> caller = take_keyword("caller");
    frame->set("caller", caller ? std::move(*caller) : Value::undefined("No caller defined"));
  }
  if (definition.uses_kwargs) {
    auto kwargs = std::make_shared<Dict>();
    for (auto& [name, value] : arguments.keyword) kwargs->set(Value(name), std::move(value));
    frame->set("kwargs", Value(std::move(kwargs)));
  } else if (!arguments.keyword.empty()) {
    if (arguments.keyword.front().first == "caller") {
      throw_render_error(fmt::format("macro '{}' was invoked with two values for the special caller argument",
                                     definition.name));
    }
    throw_render_error(fmt::format("macro '{}' takes no keyword argument '{}'", definition.name,
                                   arguments.keyword.front().first));
  }
  if (definition.uses_varargs) {
    std::vector<Value> extra;
    for (size_t i = parameter_count; i < arguments.positional.size(); ++i) extra.push_back(arguments.positional[i]);
    frame->set("varargs", Value::tuple(std::move(extra)));
  } else if (arguments.positional.size() > parameter_count) {
    throw_render_error(
        fmt::format("macro '{}' takes not more than {} argument(s)", definition.name, parameter_count));
  }

  std::string out;
  execute(definition.body, frame, out);
  return Value(std::move(out));
}

}  // namespace glyph::chat::jinja
