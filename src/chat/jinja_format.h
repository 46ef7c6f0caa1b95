// Python's string formatting: printf-style `str % args` (also the format
// filter), str.format(), and format(value, spec) for its replacement fields.
#pragma once

#include <string>
#include <string_view>

#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

// format % args. args is a tuple of positional values, a dict for
// %(name)s fields, or a single value.
std::string percent_format(std::string_view format, const Value& args);

// format(value, spec) with the format-spec mini-language:
// [[fill]align][sign][#][0][width][,|_][.precision][type].
std::string format_with_spec(const Value& value, std::string_view spec);

// format.format(*positional, **keyword). Field names may use .attribute and
// [key] lookups, which go through the sandbox like template expressions.
std::string str_format(Interpreter& interpreter, std::string_view format, const Arguments& arguments);

}  // namespace glyph::chat::jinja
