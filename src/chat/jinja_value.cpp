#include "chat/jinja_value.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {

void throw_render_error(std::string message) { throw RenderError{std::move(message)}; }

// ---- Dict ----

const Value* Dict::find(const Value& key) const {
  for (const auto& [existing, value] : entries) {
    if (python_equal(existing, key)) return &value;
  }
  return nullptr;
}

const Value* Dict::find_string_key(std::string_view key) const {
  for (const auto& [existing, value] : entries) {
    if (existing.is_string() && existing.text() == key) return &value;
  }
  return nullptr;
}

void Dict::set(Value key, Value value) {
  for (auto& [existing, old_value] : entries) {
    if (python_equal(existing, key)) {
      old_value = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

// ---- Value ----

Value Value::undefined(std::string message) {
  Value value;
  value.type_ = Type::kUndefined;
  value.text_ = std::move(message);
  return value;
}

Value Value::markup(std::string text) {
  Value value(std::move(text));
  value.markup_ = true;
  return value;
}

Value Value::list(std::vector<Value> items, SequenceKind kind) {
  auto sequence = std::make_shared<Sequence>();
  sequence->items = std::move(items);
  sequence->kind = kind;
  return Value(std::move(sequence));
}

Value Value::range(int64_t start, int64_t stop, int64_t step) {
  std::vector<Value> items;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) items.emplace_back(i);
  auto sequence = std::make_shared<Sequence>();
  sequence->items = std::move(items);
  sequence->kind = SequenceKind::kRange;
  sequence->range_start = start;
  sequence->range_stop = stop;
  sequence->range_step = step;
  return Value(std::move(sequence));
}

Value Value::from_json(const nlohmann::ordered_json& json, int depth) {
  constexpr int kMaxDepth = 512;
  if (depth > kMaxDepth) throw_render_error(fmt::format("chat template input is nested more than {} levels deep", kMaxDepth));
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t number = json.get<uint64_t>();
      if (number > static_cast<uint64_t>(INT64_MAX)) {
        throw_render_error(fmt::format(
            "integer {} is larger than 2**63-1, the largest integer the template engine supports",
            number));
      }
      return Value(static_cast<int64_t>(number));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(from_json(item, depth + 1));
      return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto dict = std::make_shared<Dict>();
      dict->entries.reserve(json.size());
      for (const auto& [key, item] : json.items()) dict->entries.emplace_back(Value(key), from_json(item, depth + 1));
      return Value(std::move(dict));
    }
    default:
      throw_render_error("binary JSON values cannot be passed to a chat template");
  }
}

bool Value::is_indexable_sequence() const {
  if (!is_sequence()) return false;
  const SequenceKind kind = sequence_->kind;
  return kind == SequenceKind::kList || kind == SequenceKind::kTuple || kind == SequenceKind::kRange;
}

double Value::as_double() const {
  if (is_float()) return float_;
  return static_cast<double>(as_int());
}

bool Value::truthy() const {
  switch (type_) {
    case Type::kUndefined:
    case Type::kNone:
      return false;
    case Type::kBool:
      return bool_;
    case Type::kInt:
      return int_ != 0;
    case Type::kFloat:
      return float_ != 0.0;
    case Type::kString:
      return !text_.empty();
    case Type::kSequence:
      // A generator is always true in Python, even when it yields nothing.
      return sequence_->kind == SequenceKind::kGenerator || !sequence_->items.empty();
    case Type::kDict:
      return !dict_->entries.empty();
    case Type::kObject:
      return true;
  }
  return false;
}

namespace {

const char* sequence_type_name(SequenceKind kind) {
  switch (kind) {
    case SequenceKind::kList:
      return "list";
    case SequenceKind::kTuple:
      return "tuple";
    case SequenceKind::kGenerator:
      return "generator";
    case SequenceKind::kDictKeys:
      return "dict_keys";
    case SequenceKind::kDictValues:
      return "dict_values";
    case SequenceKind::kDictItems:
      return "dict_items";
    case SequenceKind::kRange:
      return "range";
  }
  return "list";
}

}  // namespace

std::string python_type_name(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return "Undefined";
    case Value::Type::kNone:
      return "NoneType";
    case Value::Type::kBool:
      return "bool";
    case Value::Type::kInt:
      return "int";
    case Value::Type::kFloat:
      return "float";
    case Value::Type::kString:
      return value.is_markup() ? "Markup" : "str";
    case Value::Type::kSequence:
      return sequence_type_name(value.sequence().kind);
    case Value::Type::kDict:
      return "dict";
    case Value::Type::kObject:
      return value.object()->type_name();
  }
  return "object";
}

std::string Value::type_description() const {
  if (is_none()) return "None";
  return python_type_name(*this) + " object";
}

void Value::require_defined() const {
  if (is_undefined()) throw_render_error(text_);
}

// ---- Objects ----

std::string Object::repr() const { return fmt::format("<{} object>", type_name()); }

std::optional<Value> Object::attribute(const std::string&) const { return std::nullopt; }

Value Object::call(Interpreter&, Arguments) const {
  throw_render_error(fmt::format("'{}' object is not callable", type_name()));
}

Value Function::call(Interpreter& interpreter, Arguments arguments) const {
  return body_(interpreter, arguments);
}

std::string Namespace::repr() const {
  return "<Namespace " + to_python_repr(Value(std::make_shared<Dict>(attributes_))) + ">";
}

std::optional<Value> Namespace::attribute(const std::string& name) const {
  if (const Value* value = attributes_.find_string_key(name)) return *value;
  return std::nullopt;
}

void Namespace::set_attribute(const std::string& name, Value value) {
  attributes_.set(Value(name), std::move(value));
}

// ---- str() and repr() ----

// Python's repr(float): the shortest digits that round-trip, in positional
// notation when the decimal exponent is in [-4, 16), otherwise scientific
// with a two-digit minimum exponent ("1e-05", "1e+16").
std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";

  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string_view scientific(buffer, result.ptr - buffer);

  // scientific is "[-]d[.ddd]e(+|-)xx".
  const size_t exponent_pos = scientific.find('e');
  std::string_view mantissa = scientific.substr(0, exponent_pos);
  int exponent = 0;
  std::from_chars(scientific.data() + exponent_pos + 1 + (scientific[exponent_pos + 1] == '+'),
                  scientific.data() + scientific.size(), exponent);
  const bool negative = !mantissa.empty() && mantissa[0] == '-';
  if (negative) mantissa.remove_prefix(1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }

  std::string out = negative ? "-" : "";
  const int point = exponent + 1;  // digits before the decimal point
  if (point <= -4 || point > 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    out += fmt::format("e{}{:02d}", exponent < 0 ? '-' : '+', std::abs(exponent));
  } else if (point <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-point), '0');
    out += digits;
  } else if (point >= static_cast<int>(digits.size())) {
    out += digits;
    out.append(point - digits.size(), '0');
    out += ".0";
  } else {
    out.append(digits, 0, point);
    out += '.';
    out.append(digits, point);
  }
  return out;
}

std::string python_string_repr(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';

  std::string out(1, quote);
  for (char32_t c : decode_utf8(text)) {
    if (c == static_cast<char32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (is_printable(c)) {
      append_utf8(out, c);
    } else if (c <= 0xFF) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    } else if (c <= 0xFFFF) {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    } else {
      out += fmt::format("\\U{:08x}", static_cast<unsigned>(c));
    }
  }
  out += quote;
  return out;
}

namespace {

std::string join_reprs(const std::vector<Value>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    out += to_python_repr(items[i]);
  }
  return out;
}

std::string sequence_repr(const Sequence& sequence) {
  switch (sequence.kind) {
    case SequenceKind::kList:
      return fmt::format("[{}]", join_reprs(sequence.items));
    case SequenceKind::kTuple:
      if (sequence.items.size() == 1) return fmt::format("({},)", to_python_repr(sequence.items[0]));
      return fmt::format("({})", join_reprs(sequence.items));
    case SequenceKind::kDictKeys:
    case SequenceKind::kDictValues:
    case SequenceKind::kDictItems:
      return fmt::format("{}([{}])", sequence_type_name(sequence.kind), join_reprs(sequence.items));
    case SequenceKind::kRange:
      if (sequence.range_step == 1) return fmt::format("range({}, {})", sequence.range_start, sequence.range_stop);
      return fmt::format("range({}, {}, {})", sequence.range_start, sequence.range_stop, sequence.range_step);
    case SequenceKind::kGenerator:
      // Python prints "<generator object ... at 0x...>", an address no
      // template can rely on; refusing is clearer than printing something else.
      throw_render_error(
          "cannot convert a generator (the result of a filter such as map, select or unique) "
          "to a string; apply the list filter first");
  }
  return "";
}

}  // namespace

std::string to_python_repr(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return "Undefined";
    case Value::Type::kString:
      if (value.is_markup()) return "Markup(" + python_string_repr(value.text()) + ")";
      return python_string_repr(value.text());
    case Value::Type::kSequence:
      return sequence_repr(value.sequence());
    case Value::Type::kDict: {
      std::string out = "{";
      bool first = true;
      for (const auto& [key, item] : value.dict_entries().entries) {
        if (!first) out += ", ";
        first = false;
        out += to_python_repr(key) + ": " + to_python_repr(item);
      }
      return out + "}";
    }
    case Value::Type::kObject:
      return value.object()->repr();
    default:
      return to_python_str(value);
  }
}

std::string to_python_str(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return "";
    case Value::Type::kNone:
      return "None";
    case Value::Type::kBool:
      return value.as_bool() ? "True" : "False";
    case Value::Type::kInt:
      return std::to_string(value.as_int());
    case Value::Type::kFloat:
      return python_float_repr(value.as_double());
    case Value::Type::kString:
      return value.text();
    default:
      return to_python_repr(value);
  }
}

// ---- Comparisons ----

namespace {

bool sequences_comparable(const Value& left, const Value& right) {
  const SequenceKind a = left.sequence().kind;
  const SequenceKind b = right.sequence().kind;
  return a == b && a != SequenceKind::kGenerator;
}

bool dicts_equal(const Dict& left, const Dict& right) {
  if (left.entries.size() != right.entries.size()) return false;
  for (const auto& [key, value] : left.entries) {
    const Value* other = right.find(key);
    if (other == nullptr || !python_equal(value, *other)) return false;
  }
  return true;
}

}  // namespace

bool python_equal(const Value& left, const Value& right) {
  if (left.is_number() && right.is_number()) {
    if (left.is_float() || right.is_float()) return left.as_double() == right.as_double();
    return left.as_int() == right.as_int();
  }
  if (left.type() != right.type()) return false;
  switch (left.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNone:
      return true;
    case Value::Type::kString:
      return left.text() == right.text();
    case Value::Type::kSequence: {
      if (&left.sequence() == &right.sequence()) return true;
      if (!sequences_comparable(left, right)) return false;
      const auto& a = left.items();
      const auto& b = right.items();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!python_equal(a[i], b[i])) return false;
      }
      return true;
    }
    case Value::Type::kDict:
      return dicts_equal(left.dict_entries(), right.dict_entries());
    case Value::Type::kObject:
      return left.object() == right.object();
    default:
      return false;
  }
}

bool python_less(const Value& left, const Value& right) {
  left.require_defined();
  right.require_defined();
  if (left.is_number() && right.is_number()) {
    if (left.is_float() || right.is_float()) return left.as_double() < right.as_double();
    return left.as_int() < right.as_int();
  }
  if (left.is_string() && right.is_string()) return left.text() < right.text();  // UTF-8 order is code point order
  if (left.is_sequence() && right.is_sequence() && sequences_comparable(left, right) &&
      (left.is_list() || left.is_tuple())) {
    const auto& a = left.items();
    const auto& b = right.items();
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (!python_equal(a[i], b[i])) return python_less(a[i], b[i]);
    }
    return a.size() < b.size();
  }
  throw_render_error(fmt::format("'<' not supported between instances of '{}' and '{}'",
                                 python_type_name(left), python_type_name(right)));
}

// ---- Iteration and length ----

std::vector<Value> iterate(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return {};
    case Value::Type::kSequence:
      return value.items();
    case Value::Type::kDict: {
      std::vector<Value> keys;
      keys.reserve(value.dict_entries().entries.size());
      for (const auto& entry : value.dict_entries().entries) keys.push_back(entry.first);
      return keys;
    }
    case Value::Type::kString: {
      std::vector<Value> characters;
      for (char32_t c : decode_utf8(value.text())) {
        std::string character;
        append_utf8(character, c);
        characters.emplace_back(std::move(character));
      }
      return characters;
    }
    default:
      throw_render_error(fmt::format("'{}' object is not iterable", python_type_name(value)));
  }
}

int64_t python_len(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return 0;
    case Value::Type::kString:
      return static_cast<int64_t>(count_code_points(value.text()));
    case Value::Type::kSequence:
      if (value.sequence().kind != SequenceKind::kGenerator) return static_cast<int64_t>(value.items().size());
      break;
    case Value::Type::kDict:
      return static_cast<int64_t>(value.dict_entries().entries.size());
    default:
      break;
  }
  throw_render_error(fmt::format("object of type '{}' has no len()", python_type_name(value)));
}

}  // namespace glyph::chat::jinja
