// Values of the Jinja engine, with Python's semantics: the types a chat
// template works with (None, bool, int, float, str, list, tuple, dict), jinja2's
// Undefined, and objects such as macros, namespaces and the loop variable.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace glyph::chat::jinja {

class Interpreter;
class Object;
class Value;

// A failure while rendering, where jinja2 raises a Python exception. The
// message follows Python's or jinja2's wording. line is the template line, or
// 0 until the interpreter fills it in as the error passes a node.
struct RenderError {
  std::string message;
  int line = 0;
  bool from_raise_exception = false;  // raise_exception(): message is the template's own
};

[[noreturn]] void throw_render_error(std::string message);

// Python's list-like types. Filters such as map and select return
// generators, dict.items() returns a view and range() a range object. Each
// prints and behaves differently from a list, so the kind is kept.
enum class SequenceKind { kList, kTuple, kGenerator, kDictKeys, kDictValues, kDictItems, kRange };

struct Sequence {
  std::vector<Value> items;
  SequenceKind kind = SequenceKind::kList;
  int64_t range_start = 0, range_stop = 0, range_step = 1;  // kRange only
};

// A Python dict: insertion-ordered; keys compare with Python's ==.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;

  const Value* find(const Value& key) const;
  const Value* find_string_key(std::string_view key) const;
  void set(Value key, Value value);
};

// Positional and keyword arguments of a call, filter or test.
struct Arguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

class Value {
 public:
  enum class Type { kUndefined, kNone, kBool, kInt, kFloat, kString, kSequence, kDict, kObject };

  Value() : type_(Type::kNone) {}
  Value(bool value) : type_(Type::kBool), bool_(value) {}
  Value(int value) : type_(Type::kInt), int_(value) {}
  Value(int64_t value) : type_(Type::kInt), int_(value) {}
  Value(double value) : type_(Type::kFloat), float_(value) {}
  Value(std::string value) : type_(Type::kString), text_(std::move(value)) {}
  Value(const char* value) : type_(Type::kString), text_(value) {}
  Value(std::shared_ptr<Sequence> value) : type_(Type::kSequence), sequence_(std::move(value)) {}
  Value(std::shared_ptr<Dict> value) : type_(Type::kDict), dict_(std::move(value)) {}
  Value(std::shared_ptr<Object> value) : type_(Type::kObject), object_(std::move(value)) {}

  // jinja2's Undefined; message is what an operation on it raises, such as
  // "'x' is undefined".
  static Value undefined(std::string message);
  static Value markup(std::string text);  // jinja2's Markup: an HTML-safe str
  static Value list(std::vector<Value> items, SequenceKind kind = SequenceKind::kList);
  static Value tuple(std::vector<Value> items) { return list(std::move(items), SequenceKind::kTuple); }
  static Value range(int64_t start, int64_t stop, int64_t step);
  // Throws a RenderError for integers above 2**63-1 and for nesting deeper
  // than 512 levels.
  static Value from_json(const nlohmann::ordered_json& json, int depth = 0);

  Type type() const { return type_; }
  bool is_undefined() const { return type_ == Type::kUndefined; }
  bool is_none() const { return type_ == Type::kNone; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_int() const { return type_ == Type::kInt; }  // Python int, not bool
  bool is_float() const { return type_ == Type::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return type_ == Type::kString; }
  bool is_markup() const { return type_ == Type::kString && markup_; }
  bool is_sequence() const { return type_ == Type::kSequence; }
  bool is_list() const { return is_sequence_kind(SequenceKind::kList); }
  bool is_tuple() const { return is_sequence_kind(SequenceKind::kTuple); }
  bool is_dict() const { return type_ == Type::kDict; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_sequence_kind(SequenceKind kind) const { return is_sequence() && sequence_->kind == kind; }
  // Lists, tuples and ranges support len() and indexing; views and generators do not.
  bool is_indexable_sequence() const;

  bool as_bool() const { return bool_; }
  int64_t as_int() const { return is_bool() ? static_cast<int64_t>(bool_) : int_; }  // int or bool
  double as_double() const;                                            // any number
  const std::string& text() const { return text_; }                    // str or Undefined message
  const std::vector<Value>& items() const { return sequence_->items; }
  const Sequence& sequence() const { return *sequence_; }
  const Dict& dict_entries() const { return *dict_; }
  const std::shared_ptr<Object>& object() const { return object_; }
  template <typename T>
  T* object_as() const { return dynamic_cast<T*>(object_.get()); }

  // Python's bool(value).
  bool truthy() const;
  // Python's type name as jinja2 prints it in messages: "dict object", "None".
  std::string type_description() const;

  // Throws the Undefined's message; call before any operation on an undefined
  // value that jinja2 does not allow (arithmetic, attribute access, calls).
  void require_defined() const;

 private:
  Type type_;
  bool markup_ = false;
  bool bool_ = false;
  int64_t int_ = 0;
  double float_ = 0;
  std::string text_;
  std::shared_ptr<Sequence> sequence_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Object> object_;
};

// Base of macros, namespaces, loop contexts and built-in functions.
class Object {
 public:
  virtual ~Object() = default;
  // Python's type name, for messages ("Namespace", "Macro", "LoopContext").
  virtual std::string type_name() const = 0;
  virtual std::string repr() const;
  // The attribute's value, or nullopt when the object has none.
  virtual std::optional<Value> attribute(const std::string& name) const;
  virtual bool callable() const { return false; }
  virtual Value call(Interpreter& interpreter, Arguments arguments) const;
};

// A built-in function or bound method such as range, namespace or str.split.
class Function : public Object {
 public:
  using Body = std::function<Value(Interpreter&, Arguments&)>;
  Function(std::string name, Body body) : name_(std::move(name)), body_(std::move(body)) {}
  std::string type_name() const override { return "builtin_function_or_method"; }
  std::string repr() const override { return "<built-in function " + name_ + ">"; }
  bool callable() const override { return true; }
  Value call(Interpreter& interpreter, Arguments arguments) const override;

 private:
  std::string name_;
  Body body_;
};

// jinja2's namespace(): the one object a template may modify, with
// `{% set ns.attr = value %}`.
class Namespace : public Object {
 public:
  std::string type_name() const override { return "Namespace"; }
  std::string repr() const override;
  std::optional<Value> attribute(const std::string& name) const override;
  void set_attribute(const std::string& name, Value value);

 private:
  Dict attributes_;
};

// Python's str(), repr(), ==, < and len() for template values.
std::string to_python_str(const Value& value);
std::string to_python_repr(const Value& value);
std::string python_string_repr(std::string_view text);
std::string python_float_repr(double value);
// Python's type(value).__name__: "str", "dict", "NoneType", "generator".
std::string python_type_name(const Value& value);

bool python_equal(const Value& left, const Value& right);
// Python's <; throws a TypeError-style RenderError for unorderable types.
bool python_less(const Value& left, const Value& right);

// Python's iter(value) materialised: the items a for loop visits (the keys of
// a dict, the characters of a str). Undefined iterates as empty.
std::vector<Value> iterate(const Value& value);

// Python's len(); throws for types without one.
int64_t python_len(const Value& value);

}  // namespace glyph::chat::jinja
