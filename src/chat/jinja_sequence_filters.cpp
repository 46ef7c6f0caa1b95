#include <algorithm>

#include <fmt/format.h>

#include "chat/jinja_arguments.h"
#include "chat/jinja_filters.h"
#include "chat/jinja_interpreter.h"
#include "chat/jinja_operators.h"
#include "chat/jinja_unicode.h"

namespace glyph::chat::jinja {
namespace {

// The result of a jinja2 filter that returns a Python generator (map,
// select, unique, batch, ...). It is computed eagerly, but prints, indexes
// and measures like a generator: only iteration, list and join work on it.
Value generator(std::vector<Value> items) { return Value::list(std::move(items), SequenceKind::kGenerator); }

// jinja2's ignore_case: strings compare in lower case unless case_sensitive.
Value ignore_case(const Value& value) { return value.is_string() ? Value(lower(value.text())) : value; }

// make_attrgetter: "a.b.0" looks up a, then b, then item 0, with get_item
// rules. An integer attribute is a single index.
class AttributeGetter {
 public:
  AttributeGetter(Interpreter& interpreter, const Value& attribute) : interpreter_(interpreter) {
    if (attribute.is_none()) return;
    if (!attribute.is_string()) {
      parts_.push_back(attribute);
      return;
    }
    size_t start = 0;
    const std::string& path = attribute.text();
    while (true) {
      const size_t dot = path.find('.', start);
      const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      const std::optional<int64_t> index = parse_decimal(part);
      parts_.push_back(index ? Value(*index) : Value(part));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }

  Value operator()(Value item, const Value* default_value = nullptr) const {
    for (const Value& part : parts_) {
      item = interpreter_.get_item(item, part);
      if (default_value != nullptr && !default_value->is_none() && item.is_undefined()) item = *default_value;
    }
    return item;
  }

 private:
  Interpreter& interpreter_;
  std::vector<Value> parts_;
};

// make_multi_attrgetter: "age,name" yields a list key [age, name].
Value sort_key(Interpreter& interpreter, const Value& item, const Value& attribute, bool case_sensitive) {
  const auto postprocess = [&](Value value) { return case_sensitive ? value : ignore_case(value); };
  if (!attribute.is_string() || attribute.text().find(',') == std::string::npos) {
    return postprocess(AttributeGetter(interpreter, attribute)(item));
  }
  std::vector<Value> keys;
  size_t start = 0;
  const std::string& text = attribute.text();
  while (true) {
    const size_t comma = text.find(',', start);
    const Value part(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    keys.push_back(postprocess(AttributeGetter(interpreter, part)(item)));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return Value::list(std::move(keys));
}

// Python's sorted(items, key=..., reverse=...): stable in both directions.
void sort_by_keys(std::vector<Value>& items, std::vector<Value>& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? python_less(keys[b], keys[a]) : python_less(keys[a], keys[b]);
  });
  std::vector<Value> sorted;
  sorted.reserve(items.size());
  for (size_t index : order) sorted.push_back(std::move(items[index]));
  items = std::move(sorted);
}

// select/reject and their attr forms: the test is args[offset] with the
// remaining arguments; without a test, the item's truth value.
Value select_or_reject(Interpreter& interpreter, const Value& value, Arguments& arguments, bool select,
                       bool with_attribute, const char* name) {
  if (!value.truthy()) return generator({});
  Value attribute;
  size_t offset = 0;
  if (with_attribute) {
    if (arguments.positional.empty()) throw_render_error("Missing parameter for attribute name");
    attribute = arguments.positional[0];
    offset = 1;
  }
  std::string test_name;
  Arguments test_arguments;
  const bool has_test = arguments.positional.size() > offset;
  if (has_test) {
    test_name = require_string(name, arguments.positional[offset]);
    test_arguments.positional.assign(arguments.positional.begin() + offset + 1, arguments.positional.end());
    test_arguments.keyword = arguments.keyword;
  }
  const AttributeGetter getter(interpreter, attribute);
  std::vector<Value> kept;
  for (const Value& item : iterate(value)) {
    const Value subject = with_attribute ? getter(item) : item;
    const bool passed = has_test ? interpreter.call_test(test_name, subject, test_arguments) : subject.truthy();
    if (passed == select) kept.push_back(item);
  }
  return generator(std::move(kept));
}

Value min_or_max(Interpreter& interpreter, const Value& value, Arguments& arguments, bool maximum) {
  const char* name = maximum ? "max" : "min";
  const auto values = bind_arguments(name, arguments, {{"case_sensitive", Value(false)}, {"attribute", Value()}});
  const std::vector<Value> items = iterate(value);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  const AttributeGetter getter(interpreter, values[1]);
  const auto key = [&](const Value& item) {
    Value result = getter(item);
    return values[0].truthy() ? result : ignore_case(result);
  };
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value candidate = key(items[i]);
    if (maximum ? python_less(best_key, candidate) : python_less(candidate, best_key)) {
      best = i;
      best_key = std::move(candidate);
    }
  }
  return items[best];
}

}  // namespace

Value filter_batch(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("batch", arguments, {{"linecount", std::nullopt}, {"fill_with", Value()}});
  const int64_t line_count = require_int("batch", values[0]);
  if (line_count <= 0) throw_render_error("batch() needs a positive linecount");
  std::vector<Value> batches;
  std::vector<Value> current;
  for (const Value& item : iterate(value)) {
    if (static_cast<int64_t>(current.size()) == line_count) {
      batches.push_back(Value::list(std::move(current)));
      current.clear();
    }
    current.push_back(item);
  }
  if (!current.empty()) {
    if (!values[1].is_none()) {
      while (static_cast<int64_t>(current.size()) < line_count) current.push_back(values[1]);
    }
    batches.push_back(Value::list(std::move(current)));
  }
  return generator(std::move(batches));
}

Value filter_dictsort(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("dictsort", arguments,
                                     {{"case_sensitive", Value(false)}, {"by", Value("key")}, {"reverse", Value(false)}});
  size_t position = 0;
  if (values[1].is_string() && values[1].text() == "value") {
    position = 1;
  } else if (!values[1].is_string() || values[1].text() != "key") {
    throw_render_error("You can only sort by either \"key\" or \"value\"");
  }
  value.require_defined();
  if (!value.is_dict()) throw_render_error(fmt::format("'{}' object has no attribute 'items'", python_type_name(value)));
  std::vector<Value> items;
  std::vector<Value> keys;
  for (const auto& [key, item] : value.dict_entries().entries) {
    items.push_back(Value::tuple({key, item}));
    const Value& sort_value = position == 0 ? key : item;
    keys.push_back(values[0].truthy() ? sort_value : ignore_case(sort_value));
  }
  sort_by_keys(items, keys, values[2].truthy());
  return Value::list(std::move(items));
}

Value filter_first(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("first", arguments, {});
  const std::vector<Value> items = iterate(value);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value filter_last(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("last", arguments, {});
  if (value.is_sequence_kind(SequenceKind::kGenerator)) throw_render_error("'generator' object is not reversible");
  const std::vector<Value> items = iterate(value);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value filter_items(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("items", arguments, {});
  if (value.is_undefined()) return generator({});
  if (!value.is_dict()) throw_render_error("Can only get item pairs from a mapping.");
  std::vector<Value> items;
  for (const auto& [key, item] : value.dict_entries().entries) items.push_back(Value::tuple({key, item}));
  return generator(std::move(items));
}

Value filter_join(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("join", arguments, {{"d", Value("")}, {"attribute", Value()}});
  const std::string separator = to_python_str(values[0]);
  const AttributeGetter getter(interpreter, values[1]);
  std::string out;
  bool first = true;
  for (const Value& item : iterate(value)) {
    if (!first) out += separator;
    first = false;
    out += to_python_str(values[1].is_none() ? item : getter(item));
  }
  return Value(std::move(out));
}

Value filter_list(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("list", arguments, {});
  return Value::list(iterate(value));
}

// map('filter', args...) applies a filter; map(attribute='a', default=x)
// looks up an attribute of each item.
Value filter_map(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  std::vector<Value> mapped;
  if (!value.truthy()) return generator({});  // jinja2 checks `if value` before anything else
  const auto attribute = std::find_if(arguments.keyword.begin(), arguments.keyword.end(),
                                      [](const auto& entry) { return entry.first == "attribute"; });
  if (arguments.positional.empty() && attribute != arguments.keyword.end()) {
    Value default_value;
    for (const auto& [name, item] : arguments.keyword) {
      if (name == "default") {
        default_value = item;
      } else if (name != "attribute") {
        throw_render_error("Unexpected keyword argument '" + name + "'");
      }
    }
    const AttributeGetter getter(interpreter, attribute->second);
    for (const Value& item : iterate(value)) mapped.push_back(getter(item, &default_value));
    return generator(std::move(mapped));
  }
  if (arguments.positional.empty()) throw_render_error("map requires a filter argument");
  const std::string name = require_string("map", arguments.positional[0]);
  Arguments filter_arguments;
  filter_arguments.positional.assign(arguments.positional.begin() + 1, arguments.positional.end());
  filter_arguments.keyword = arguments.keyword;
  for (const Value& item : iterate(value)) mapped.push_back(interpreter.call_filter(name, item, filter_arguments));
  return generator(std::move(mapped));
}

Value filter_max(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return min_or_max(interpreter, value, arguments, true);
}

Value filter_min(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return min_or_max(interpreter, value, arguments, false);
}

Value filter_select(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return select_or_reject(interpreter, value, arguments, true, false, "select");
}

Value filter_reject(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return select_or_reject(interpreter, value, arguments, false, false, "reject");
}

Value filter_selectattr(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return select_or_reject(interpreter, value, arguments, true, true, "selectattr");
}

Value filter_rejectattr(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  return select_or_reject(interpreter, value, arguments, false, true, "rejectattr");
}

// A str reverses to a str; other sequences to an iterator, like reversed().
Value filter_reverse(Interpreter&, const Value& value, Arguments& arguments) {
  bind_arguments("reverse", arguments, {});
  if (value.is_string()) {
    std::u32string text = decode_utf8(value.text());
    std::reverse(text.begin(), text.end());
    return Value(encode_utf8(text));
  }
  const bool reversible = value.is_sequence() && !value.is_sequence_kind(SequenceKind::kGenerator);
  std::vector<Value> items = iterate(value);
  std::reverse(items.begin(), items.end());
  if (reversible || value.is_dict()) return generator(std::move(items));
  return Value::list(std::move(items));  // jinja2 falls back to a reversed list
}

Value filter_slice(Interpreter&, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("slice", arguments, {{"slices", std::nullopt}, {"fill_with", Value()}});
  const int64_t slices = require_int("slice", values[0]);
  if (slices <= 0) throw_render_error("slice() needs a positive number of slices");
  const std::vector<Value> items = iterate(value);
  const int64_t length = static_cast<int64_t>(items.size());
  const int64_t per_slice = length / slices;
  const int64_t with_extra = length % slices;
  std::vector<Value> result;
  int64_t offset = 0;
  for (int64_t slice = 0; slice < slices; ++slice) {
    const int64_t start = offset + slice * per_slice;
    if (slice < with_extra) ++offset;
    const int64_t end = offset + (slice + 1) * per_slice;
    std::vector<Value> part(items.begin() + start, items.begin() + end);
    if (!values[1].is_none() && slice >= with_extra) part.push_back(values[1]);
    result.push_back(Value::list(std::move(part)));
  }
  return generator(std::move(result));
}

Value filter_sort(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("sort", arguments,
                                     {{"reverse", Value(false)}, {"case_sensitive", Value(false)}, {"attribute", Value()}});
  std::vector<Value> items = iterate(value);
  std::vector<Value> keys;
  keys.reserve(items.size());
  for (const Value& item : items) keys.push_back(sort_key(interpreter, item, values[2], values[1].truthy()));
  sort_by_keys(items, keys, values[0].truthy());
  return Value::list(std::move(items));
}

Value filter_sum(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("sum", arguments, {{"attribute", Value()}, {"start", Value(0)}});
  const AttributeGetter getter(interpreter, values[0]);
  Value total = values[1];
  for (const Value& item : iterate(value)) {
    total = binary_operation(BinaryOp::kAdd, total, values[0].is_none() ? item : getter(item));
  }
  return total;
}

Value filter_unique(Interpreter& interpreter, const Value& value, Arguments& arguments) {
  const auto values = bind_arguments("unique", arguments, {{"case_sensitive", Value(false)}, {"attribute", Value()}});
  const AttributeGetter getter(interpreter, values[1]);
  std::vector<Value> seen;
  std::vector<Value> kept;
  for (const Value& item : iterate(value)) {
    Value key = getter(item);
    if (!values[0].truthy()) key = ignore_case(key);
    if (std::none_of(seen.begin(), seen.end(), [&](const Value& other) { return python_equal(other, key); })) {
      seen.push_back(std::move(key));
      kept.push_back(item);
    }
  }
  return generator(std::move(kept));
}

}  // namespace glyph::chat::jinja
