// Global functions of the chat-template environment: jinja2's defaults
// (range, dict, namespace, cycler, joiner, lipsum) and the two transformers
// adds (raise_exception, strftime_now).
#include <ctime>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_builtins.h"

namespace glyph::chat::jinja {
namespace {

// jinja2's sandbox refuses ranges longer than this (sandbox.MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value make_range(Interpreter&, Arguments& arguments) {
  if (!arguments.keyword.empty()) throw_render_error("range() takes no keyword arguments");
  const auto& positional = arguments.positional;
  if (positional.empty() || positional.size() > 3) {
    throw_render_error(fmt::format("range expected at most 3 arguments, got {}", positional.size()));
  }
  int64_t start = 0;
  int64_t stop = 0;
  int64_t step = 1;
  if (positional.size() == 1) {
    stop = require_int("range", positional[0]);
  } else {
    start = require_int("range", positional[0]);
    stop = require_int("range", positional[1]);
    if (positional.size() == 3) step = require_int("range", positional[2]);
  }
  if (step == 0) throw_render_error("range() arg 3 must not be zero");
  const int64_t length = step > 0 ? (stop > start ? (stop - start + step - 1) / step : 0)
                                  : (start > stop ? (start - stop - step - 1) / -step : 0);
  if (length > kMaxRange) {
    throw_render_error(
        fmt::format("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange));
  }
  return Value::range(start, stop, step);
}

// dict(mapping_or_pairs, **kwargs), also the argument rule of namespace().
std::shared_ptr<Dict> make_dict_from(const char* function, const Arguments& arguments) {
  if (arguments.positional.size() > 1) {
    throw_render_error(fmt::format("{} expected at most 1 positional argument, got {}", function,
                                   arguments.positional.size()));
  }
  auto dict = std::make_shared<Dict>();
  if (!arguments.positional.empty()) {
    const Value& source = arguments.positional[0];
    if (source.is_dict()) {
      *dict = source.dict_entries();
    } else {
      for (const Value& pair : iterate(source)) {
        std::vector<Value> items = iterate(pair);
        if (items.size() != 2) {
          throw_render_error(fmt::format("dictionary update sequence element has length {}; 2 is required", items.size()));
        }
        dict->set(items[0], items[1]);
      }
    }
  }
  for (const auto& [name, value] : arguments.keyword) dict->set(Value(name), value);
  return dict;
}

// cycler(*items): .next() returns the items in turn, .current the next one
// to come, .reset() starts over.
class Cycler : public Object {
 public:
  explicit Cycler(std::vector<Value> items) : state_(std::make_shared<State>()) { state_->items = std::move(items); }
  std::string type_name() const override { return "Cycler"; }

  std::optional<Value> attribute(const std::string& name) const override {
    auto state = state_;
    if (name == "current") return state->items[state->position];
    if (name == "next") {
      return Value(std::make_shared<Function>("next", [state](Interpreter&, Arguments& arguments) {
        bind_arguments("next", arguments, {});
        Value value = state->items[state->position];
        state->position = (state->position + 1) % state->items.size();
        return value;
      }));
    }
    if (name == "reset") {
      return Value(std::make_shared<Function>("reset", [state](Interpreter&, Arguments& arguments) {
        bind_arguments("reset", arguments, {});
        state->position = 0;
        return Value();
      }));
    }
    if (name == "items") return Value::tuple(state->items);
    return std::nullopt;
  }

 private:
  struct State {
    std::vector<Value> items;
    size_t position = 0;
  };
  std::shared_ptr<State> state_;
};

// joiner(sep): returns "" on the first call and sep afterwards.
class Joiner : public Object {
 public:
  explicit Joiner(Value separator) : separator_(std::move(separator)), used_(std::make_shared<bool>(false)) {}
  std::string type_name() const override { return "Joiner"; }
  bool callable() const override { return true; }
  Value call(Interpreter&, Arguments arguments) const override {
    bind_arguments("joiner", arguments, {});
    if (!*used_) {
      *used_ = true;
      return Value("");
    }
    return separator_;
  }

 private:
  Value separator_;
  std::shared_ptr<bool> used_;
};

Value global_function(const std::string& name, Function::Body body) {
  return Value(std::make_shared<Function>(name, std::move(body)));
}

}  // namespace

std::optional<Value> find_global(const std::string& name) {
  if (name == "range") return global_function(name, make_range);
  if (name == "dict") {
    return global_function(name, [](Interpreter&, Arguments& arguments) { return Value(make_dict_from("dict", arguments)); });
  }
  if (name == "namespace") {
    return global_function(name, [](Interpreter&, Arguments& arguments) {
      auto ns = std::make_shared<Namespace>();
      const std::shared_ptr<Dict> attributes = make_dict_from("namespace", arguments);
      for (const auto& [key, value] : attributes->entries) {
        if (!key.is_string()) throw_render_error("namespace() keywords must be strings");
        ns->set_attribute(key.text(), value);
      }
      return Value(std::static_pointer_cast<Object>(ns));
    });
  }
  if (name == "cycler") {
    return global_function(name, [](Interpreter&, Arguments& arguments) {
      if (arguments.positional.empty()) throw_render_error("at least one item has to be provided");
      return Value(std::static_pointer_cast<Object>(std::make_shared<Cycler>(arguments.positional)));
    });
  }
  if (name == "joiner") {
    return global_function(name, [](Interpreter&, Arguments& arguments) {
      const auto values = bind_arguments("joiner", arguments, {{"sep", Value(", ")}});
      return Value(std::static_pointer_cast<Object>(std::make_shared<Joiner>(values[0])));
    });
  }
  if (name == "lipsum") {
    return global_function(name, [](Interpreter&, Arguments&) -> Value {
      throw_render_error("lipsum() is not supported by this template engine");
    });
  }
  if (name == "raise_exception") {
    return global_function(name, [](Interpreter&, Arguments& arguments) -> Value {
      const auto values = bind_arguments("raise_exception", arguments, {{"message", std::nullopt}});
      RenderError error{to_python_str(values[0])};
      error.from_raise_exception = true;
      throw error;
    });
  }
  if (name == "strftime_now") {
    return global_function(name, [](Interpreter&, Arguments& arguments) {
      const auto values = bind_arguments("strftime_now", arguments, {{"format", std::nullopt}});
      const std::string& format = require_string("strftime_now", values[0]);
      // NOTE: the C library formats the directives. Python's datetime adds %f
      // (microseconds) and its own %z/%Z, which print differently here.
      const std::time_t now = std::time(nullptr);
      std::tm local{};
      localtime_r(&now, &local);
      std::string buffer(256 + format.size() * 8, '\0');
      const size_t length = std::strftime(buffer.data(), buffer.size(), format.c_str(), &local);
      buffer.resize(length);
      return Value(std::move(buffer));
    });
  }
  return std::nullopt;
}

}  // namespace glyph::chat::jinja
