// Python's operators on template values: arithmetic with int/float promotion,
// sequence concatenation and repetition, `in`, and str % args formatting.
// Each throws a RenderError with Python's message where Python raises.
#pragma once

#include <string>
#include <string_view>

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

Value binary_operation(BinaryOp op, const Value& left, const Value& right);
Value negate(const Value& value);
Value unary_plus(const Value& value);

// Python's `item in container`.
bool contains(const Value& container, const Value& item);

// markupsafe.escape: & < > " ' as HTML entities.
std::string html_escape(std::string_view text);

}  // namespace glyph::chat::jinja
