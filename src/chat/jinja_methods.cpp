// Python methods of dict, list, tuple and range that templates call, and the
// sandbox rule for the ones that would modify them.
#include <algorithm>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_builtins.h"
#include "chat/jinja_string_methods.h"

namespace glyph::chat::jinja {
namespace {

// jinja2's ImmutableSandboxedEnvironment hides these: reading one gives an
// Undefined that raises SecurityError when called.
constexpr std::string_view kMutatingDictMethods[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kMutatingListMethods[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};

template <size_t N>
bool contains_name(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

Value unsafe_method(const Value& self, const std::string& name) {
  return Value::undefined(fmt::format("access to attribute '{}' of '{}' object is unsafe.", name, python_type_name(self)));
}

Value bound(const std::string& name, Function::Body body) { return Value(std::make_shared<Function>(name, std::move(body))); }

std::optional<Value> find_dict_method(const Value& self, const std::string& name) {
  if (contains_name(kMutatingDictMethods, name)) return unsafe_method(self, name);
  if (name == "items" || name == "keys" || name == "values") {
    return bound(name, [self, name](Interpreter&, Arguments& arguments) {
      bind_arguments(name, arguments, {});
      std::vector<Value> items;
      for (const auto& [key, value] : self.dict_entries().entries) {
        if (name == "items") {
          items.push_back(Value::tuple({key, value}));
        } else {
          items.push_back(name == "keys" ? key : value);
        }
      }
      const SequenceKind kind = name == "items"  ? SequenceKind::kDictItems
                                : name == "keys" ? SequenceKind::kDictKeys
                                                 : SequenceKind::kDictValues;
      return Value::list(std::move(items), kind);
    });
  }
  if (name == "get") {
    return bound(name, [self](Interpreter&, Arguments& arguments) {
      const auto values = bind_arguments("get", arguments, {{"key", std::nullopt}, {"default", Value()}});
      const Value* found = self.dict_entries().find(values[0]);
      return found != nullptr ? *found : values[1];
    });
  }
  if (name == "copy") {
    return bound(name, [self](Interpreter&, Arguments& arguments) {
      bind_arguments("copy", arguments, {});
      return Value(std::make_shared<Dict>(self.dict_entries()));
    });
  }
  return std::nullopt;
}

std::optional<Value> find_sequence_method(const Value& self, const std::string& name) {
  const bool is_list = self.is_list();
  if (!is_list && !self.is_tuple() && !self.is_sequence_kind(SequenceKind::kRange)) return std::nullopt;
  if (is_list && contains_name(kMutatingListMethods, name)) return unsafe_method(self, name);
  if (name == "count") {
    return bound(name, [self](Interpreter&, Arguments& arguments) {
      const auto values = bind_arguments("count", arguments, {{"value", std::nullopt}});
      const auto& items = self.items();
      return Value(static_cast<int64_t>(
          std::count_if(items.begin(), items.end(), [&](const Value& item) { return python_equal(item, values[0]); })));
    });
  }
  if (name == "index") {
    return bound(name, [self](Interpreter&, Arguments& arguments) {
      const auto values = bind_arguments("index", arguments, {{"value", std::nullopt}});
      const auto& items = self.items();
      for (size_t i = 0; i < items.size(); ++i) {
        if (python_equal(items[i], values[0])) return Value(static_cast<int64_t>(i));
      }
      throw_render_error(fmt::format("{} is not in list", to_python_repr(values[0])));
    });
  }
  if (is_list && name == "copy") {
    return bound(name, [self](Interpreter&, Arguments& arguments) {
      bind_arguments("copy", arguments, {});
      return Value::list(self.items());
    });
  }
  return std::nullopt;
}

}  // namespace

std::optional<Value> find_method(const Value& value, const std::string& name) {
  switch (value.type()) {
    case Value::Type::kString:
      return find_string_method(value, name);
    case Value::Type::kDict:
      return find_dict_method(value, name);
    case Value::Type::kSequence:
      return find_sequence_method(value, name);
    default:
      return std::nullopt;
  }
}

}  // namespace glyph::chat::jinja
