// The GPT-2 byte-level alphabet: every byte maps to one printable character,
// so that BPE vocabularies can be stored as text.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace glyph::text {

// Appends the byte-level characters (UTF-8 encoded) of the bytes of `text`.
void append_byte_level(std::string_view text, std::string& out);

// Returns the bytes that the ByteLevel decoder of Hugging Face tokenizers
// gives for one token. When every character of the token belongs to the
// byte-level alphabet, that is the byte of each character. Otherwise it is the
// token's own UTF-8 text, as for an added token that contains a space.
std::string byte_level_token_bytes(std::string_view token);

// The byte-level character that stands for `byte`, UTF-8 encoded.
std::string_view byte_level_char(unsigned char byte);

}  // namespace glyph::text
