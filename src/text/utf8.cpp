#include "text/utf8.h"

namespace glyph::text {

namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

enum class SequenceKind {
  kValid,      // A whole, well-formed character.
  kInvalid,    // An ill-formed sequence; a byte after it shows that.
  kTruncated,  // A well-formed start that the end of the input cuts off.
};

struct Sequence {
  SequenceKind kind;
  size_t length;  // Bytes of the character, or of the maximal ill-formed subpart.
};

bool is_continuation(uint8_t byte) { return (byte & 0xC0) == 0x80; }

// Returns the range of the second byte allowed after `lead` by the Unicode
// table of well-formed byte sequences (which excludes overlong forms,
// surrogates and code points past U+10FFFF).
void second_byte_range(uint8_t lead, uint8_t& low, uint8_t& high) {
  low = 0x80;
  high = 0xBF;
  if (lead == 0xE0) low = 0xA0;
  if (lead == 0xED) high = 0x9F;
  if (lead == 0xF0) low = 0x90;
  if (lead == 0xF4) high = 0x8F;
}

// Returns the byte count of the character that `lead` starts, or 0 when
// `lead` cannot start one.
size_t sequence_width(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

Sequence classify(std::string_view bytes, size_t pos) {
  const auto lead = static_cast<uint8_t>(bytes[pos]);
  const size_t width = sequence_width(lead);
  if (width == 0) return {SequenceKind::kInvalid, 1};
  if (width == 1) return {SequenceKind::kValid, 1};

  uint8_t low = 0;
  uint8_t high = 0;
  second_byte_range(lead, low, high);
  for (size_t i = 1; i < width; ++i) {
    if (pos + i >= bytes.size()) return {SequenceKind::kTruncated, i};
    const auto byte = static_cast<uint8_t>(bytes[pos + i]);
    const bool allowed = i == 1 ? (byte >= low && byte <= high) : is_continuation(byte);
    if (!allowed) return {SequenceKind::kInvalid, i};
  }
  return {SequenceKind::kValid, width};
}

}  // namespace

std::optional<size_t> find_invalid_utf8(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<uint8_t>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Sequence sequence = classify(bytes, pos);
    if (sequence.kind != SequenceKind::kValid) return pos;
    pos += sequence.length;
  }
  return std::nullopt;
}

void append_utf8_lossy(std::string_view bytes, std::string& out) {
  size_t pos = 0;
  size_t valid_start = 0;
  while (pos < bytes.size()) {
    if (static_cast<uint8_t>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Sequence sequence = classify(bytes, pos);
    if (sequence.kind == SequenceKind::kValid) {
      pos += sequence.length;
      continue;
    }
    out.append(bytes.substr(valid_start, pos - valid_start));
    out.append(kReplacementCharacter);
    pos += sequence.length;
    valid_start = pos;
  }
  out.append(bytes.substr(valid_start));
}

size_t incomplete_utf8_suffix(std::string_view bytes) {
  // A character is at most 4 bytes, so only a lead byte among the last 3 can
  // start an unfinished one.
  const size_t first = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t pos = bytes.size(); pos > first; --pos) {
    const auto byte = static_cast<uint8_t>(bytes[pos - 1]);
    if (is_continuation(byte)) continue;
    const Sequence sequence = classify(bytes, pos - 1);
    return sequence.kind == SequenceKind::kTruncated ? bytes.size() - (pos - 1) : 0;
  }
  return 0;
}

size_t utf8_sequence_length(uint8_t lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

char32_t decode_utf8(std::string_view bytes, size_t& pos) {
  const auto lead = static_cast<uint8_t>(bytes[pos]);
  const size_t width = sequence_width(lead);
  if (width <= 1) {
    ++pos;
    return lead;
  }
  char32_t code_point = lead & (0x7F >> width);
  for (size_t i = 1; i < width; ++i) {
    code_point = (code_point << 6) | (static_cast<uint8_t>(bytes[pos + i]) & 0x3F);
  }
  pos += width;
  return code_point;
}

char32_t last_code_point(std::string_view bytes) {
  size_t start = bytes.size() - 1;
  while (start > 0 && is_continuation(static_cast<uint8_t>(bytes[start]))) --start;
  return decode_utf8(bytes, start);
}

void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

bool is_white_space(char32_t c) {
  // PropList.txt of Unicode 15; the set has not changed since Unicode 6.3.
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

}  // namespace glyph::text
