// UTF-8 checks and the lossy conversion that Hugging Face tokenizers applies
// when decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace glyph::text {

// Returns the byte offset of the first invalid or truncated UTF-8 sequence in
// `bytes`, or nullopt when all of it is valid UTF-8.
std::optional<size_t> find_invalid_utf8(std::string_view bytes);

// Appends `bytes` to `out` with every invalid sequence replaced by U+FFFD,
// exactly as Rust's String::from_utf8_lossy does: one U+FFFD per maximal
// subpart of an ill-formed sequence (the Unicode "substitution of maximal
// subparts" practice), a truncated sequence at the end included.
void append_utf8_lossy(std::string_view bytes, std::string& out);

// Returns the length of the trailing bytes of `bytes` that begin a UTF-8
// character without completing it yet (0 to 3). More bytes could complete
// them into a valid character, so a streaming decoder keeps them back.
size_t incomplete_utf8_suffix(std::string_view bytes);

// Returns the byte count of the UTF-8 sequence that `lead` starts, from its
// high bits alone (1 for ASCII and for bytes that cannot start a sequence).
size_t utf8_sequence_length(uint8_t lead);

// Decodes the code point that starts at `bytes[pos]`, which must be valid
// UTF-8, and advances `pos` past it.
char32_t decode_utf8(std::string_view bytes, size_t& pos);

// Decodes the last code point of valid UTF-8 `bytes`, which must not be empty.
char32_t last_code_point(std::string_view bytes);

// Appends the UTF-8 encoding of `code_point`.
void append_utf8(char32_t code_point, std::string& out);

// Returns whether `code_point` has the Unicode White_Space property, the set
// that Rust's char::is_whitespace and regex `\s` use.
bool is_white_space(char32_t code_point);

}  // namespace glyph::text
