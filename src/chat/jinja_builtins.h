// The built-in filters, tests, globals and Python methods that chat templates
// call, looked up by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

// nullptr when no filter or test has that name.
FilterFunction find_filter(std::string_view name);
TestFunction find_test(std::string_view name);

// jinja2 filters this engine does not implement (random, pprint, urlize,
// wordwrap, xmlattr, filesizeformat, groupby, striptags). A template may name
// them; using one raises at render time.
bool is_unsupported_filter(std::string_view name);

// range, dict, namespace, cycler, joiner, lipsum, and transformers'
// raise_exception and strftime_now; nullopt for any other name.
std::optional<Value> find_global(const std::string& name);

// The Python method `name` bound to value (str.split, dict.items, ...), or
// nullopt when the type has no such method. Methods that would modify the
// value (list.append, dict.update) return an Undefined that raises when
// called, as jinja2's sandbox does.
std::optional<Value> find_method(const Value& value, const std::string& name);

}  // namespace glyph::chat::jinja
