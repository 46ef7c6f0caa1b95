// JSON text of tool-call arguments, byte for byte as Python's
// json.dumps(obj, ensure_ascii=False) writes it: separators ", " and ": ",
// non-ASCII characters kept, floats as Python's repr.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace glyph::chat {

// Serialises a parsed argument value, through the Jinja engine's json.dumps.
// NOTE: integers above 2**63-1 fall back to nlohmann's formatting, which
// differs from Python's for floats and separators in the same value.
std::string dump_argument_json(const nlohmann::ordered_json& value);

// Appends the escaped body of a JSON string, without quotes, as json.dumps
// with ensure_ascii=False escapes it: '"', '\\' and control characters are
// escaped, every other byte is copied. Because it works byte by byte, the
// escaped pieces of a string join to the escaped whole, however it is split,
// even inside a UTF-8 character.
void append_json_string_body(std::string& out, std::string_view text);

// Returns text as a quoted JSON string, escaped as above.
std::string quote_json_string(std::string_view text);

}  // namespace glyph::chat
