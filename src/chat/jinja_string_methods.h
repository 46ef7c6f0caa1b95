// Python's str methods on UTF-8 text, shared by the str.* methods that
// templates call and the filters built on them (trim, replace, center, title).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

enum class StripSide { kLeft, kRight, kBoth };

// str.strip(chars): chars nullopt strips whitespace.
std::string python_strip(std::string_view text, const std::optional<std::string>& chars, StripSide side);
// str.split(sep, maxsplit) and str.rsplit; sep nullopt splits on whitespace runs.
std::vector<std::string> python_split(std::string_view text, const std::optional<std::string>& separator,
                                      int64_t max_split, bool from_right);
std::vector<std::string> python_splitlines(std::string_view text, bool keep_ends);
std::string python_replace(std::string_view text, std::string_view old_text, std::string_view new_text, int64_t count);
// str.islower() and str.isupper(): some cased character, none of the other case.
bool python_islower(std::string_view text);
bool python_isupper(std::string_view text);
std::string python_center(std::string_view text, int64_t width, char32_t fill);

// The str method `name` bound to text, or nullopt when str has no such method.
std::optional<Value> find_string_method(const Value& text, const std::string& name);

}  // namespace glyph::chat::jinja
