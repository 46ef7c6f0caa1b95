#include "text/byte_level.h"

#include <array>
#include <cstdint>

#include "text/utf8.h"

namespace glyph::text {

namespace {

// GPT-2's bytes_to_unicode (openai/gpt-2 src/encoder.py). The printable bytes
// '!'..'~', 0xA1..0xAC and 0xAE..0xFF map to the code points of equal value.
// The other 68 bytes map, in increasing order, to U+0100, U+0101 and so on.
struct ByteLevelTables {
  std::array<std::string, 256> char_of_byte;
  std::array<int16_t, 512> byte_of_char;  // Indexed by code point; -1 if none.

  ByteLevelTables() {
    byte_of_char.fill(-1);
    char32_t next_extra = 0x100;
    for (int byte = 0; byte < 256; ++byte) {
      const bool printable =
          (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) || byte >= 0xAE;
      const char32_t code_point = printable ? static_cast<char32_t>(byte) : next_extra++;
      append_utf8(code_point, char_of_byte[byte]);
      byte_of_char[code_point] = static_cast<int16_t>(byte);
    }
  }
};

const ByteLevelTables& tables() {
  static const ByteLevelTables instance;
  return instance;
}

}  // namespace

void append_byte_level(std::string_view text, std::string& out) {
  const ByteLevelTables& table = tables();
  for (const char c : text) out.append(table.char_of_byte[static_cast<unsigned char>(c)]);
}

std::string_view byte_level_char(unsigned char byte) { return tables().char_of_byte[byte]; }

std::string byte_level_token_bytes(std::string_view token) {
  const ByteLevelTables& table = tables();
  std::string bytes;
  bytes.reserve(token.size());
  size_t pos = 0;
  while (pos < token.size()) {
    const char32_t code_point = decode_utf8(token, pos);
    const int byte = code_point < table.byte_of_char.size() ? table.byte_of_char[code_point] : -1;
    if (byte < 0) return std::string(token);
    bytes.push_back(static_cast<char>(byte));
  }
  return bytes;
}

}  // namespace glyph::text
