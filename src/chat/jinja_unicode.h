// UTF-8 and code point helpers for the Jinja engine. Python strings are
// sequences of code points, so len(), indexing, slicing and the case methods
// work on decoded text; everything else keeps UTF-8 bytes.
#pragma once

#include <string>
#include <string_view>

namespace glyph::chat::jinja {

bool is_ascii(std::string_view text);

// Decodes UTF-8. Invalid bytes decode to U+FFFD, because template inputs that
// reach here have already been validated (JSON strings, template source).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);
void append_utf8(std::string& out, char32_t code_point);

// Decodes the code point that starts at byte pos; sets length to its size in
// bytes (1 for an invalid byte, which decodes to U+FFFD).
char32_t decode_at(std::string_view text, size_t pos, size_t& length);

// Number of code points, as Python's len(str) counts them.
size_t count_code_points(std::string_view text);

// Byte offset where the first invalid UTF-8 sequence starts, or npos.
size_t find_invalid_utf8(std::string_view text);

// Character classes as Python's str methods define them. Letters and case
// mappings come from the C library's C.UTF-8 tables, which use simple
// one-to-one mappings (see the NOTEs in the .cpp).
bool is_space(char32_t c);
bool is_alpha(char32_t c);
bool is_digit(char32_t c);
bool is_alnum(char32_t c);
bool is_lower(char32_t c);
bool is_upper(char32_t c);
bool is_cased(char32_t c);
bool is_printable(char32_t c);
bool is_line_break(char32_t c);
char32_t to_lower(char32_t c);
char32_t to_upper(char32_t c);

// Python's str.lower(), str.upper() and friends on UTF-8 text.
std::string lower(std::string_view text);
std::string upper(std::string_view text);
std::string swapcase(std::string_view text);
std::string python_title(std::string_view text);
std::string python_capitalize(std::string_view text);

}  // namespace glyph::chat::jinja
