#include "chat/jinja_unicode.h"

#include <locale.h>
#include <wctype.h>

namespace glyph::chat::jinja {
namespace {

// NOTE: non-ASCII letters use glibc's C.UTF-8 tables, which are simple
// one-to-one mappings. Python's full mappings differ for a few characters
// (final sigma in lower(), dotted capital I, ligatures); only 'ß' -> "SS" in
// upper() is special-cased here.
locale_t utf8_locale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
  return locale;
}

constexpr char32_t kReplacement = 0xFFFD;

// First code point of each run of ten decimal digits (Unicode category Nd,
// Unicode 14.0 as in Python 3.11's unicodedata).
constexpr char32_t kDecimalDigitRuns[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

// Decodes one code point at text[pos]; returns its length in bytes, or 0 when
// the sequence is invalid (overlong, surrogate, truncated or above U+10FFFF).
size_t decode_one(std::string_view text, size_t pos, char32_t& out) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    out = lead;
    return 1;
  }
  size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, minimum = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, minimum = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, minimum = 0x10000;
  } else {
    return 0;
  }
  if (pos + length > text.size()) return 0;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80) return 0;
    value = (value << 6) | (next & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  out = value;
  return length;
}

template <typename Transform>
std::string map_code_points(std::string_view text, Transform transform) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : decode_utf8(text)) transform(out, c);
  return out;
}

}  // namespace

bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t c = 0;
    const size_t length = decode_one(text, pos, c);
    if (length == 0) {
      out.push_back(kReplacement);
      ++pos;
    } else {
      out.push_back(c);
      pos += length;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

char32_t decode_at(std::string_view text, size_t pos, size_t& length) {
  char32_t c = 0;
  length = decode_one(text, pos, c);
  if (length == 0) {
    length = 1;
    return kReplacement;
  }
  return c;
}

size_t count_code_points(std::string_view text) {
  size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

size_t find_invalid_utf8(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t c = 0;
    const size_t length = decode_one(text, pos, c);
    if (length == 0) return pos;
    pos += length;
  }
  return std::string_view::npos;
}

bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_line_break(char32_t c) {
  return (c >= 0x0A && c <= 0x0D) || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

// glibc's alpha class also contains the non-ASCII decimal digits, which
// Python does not count as letters.
bool is_alpha(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !is_digit(c) && iswalpha_l(static_cast<wint_t>(c), utf8_locale()) != 0;
}

// NOTE: this is Python's isdecimal(). isdigit() also accepts about 130
// superscript and circled digits, and isnumeric() fractions and numerals too.
bool is_digit(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  for (char32_t start : kDecimalDigitRuns) {
    if (c >= start && c < start + 10) return true;
  }
  return false;
}

bool is_alnum(char32_t c) { return is_alpha(c) || is_digit(c); }

bool is_lower(char32_t c) {
  if (c < 0x80) return c >= 'a' && c <= 'z';
  return iswlower_l(static_cast<wint_t>(c), utf8_locale()) != 0;
}

bool is_upper(char32_t c) {
  if (c < 0x80) return c >= 'A' && c <= 'Z';
  return iswupper_l(static_cast<wint_t>(c), utf8_locale()) != 0;
}

bool is_cased(char32_t c) { return is_lower(c) || is_upper(c) || to_lower(c) != to_upper(c); }

// Python's str.isprintable() rejects the categories Cc, Cf, Cs, Co, Cn, Zl,
// Zp and every Zs except the ASCII space. This covers the assigned characters
// of those categories that occur in text; unassigned code points (Cn) are
// treated as printable.
bool is_printable(char32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0xA0)) return false;
  if (c == 0xAD || c == 0x1680 || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
      (c >= 0x205F && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) || c == 0x3000 ||
      c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB)) {
    return false;
  }
  if ((c >= 0x600 && c <= 0x605) || c == 0x61C || c == 0x6DD || c == 0x70F || c == 0x180E) {
    return false;
  }
  if ((c >= 0xD800 && c <= 0xF8FF) || c >= 0xF0000) return false;  // surrogates, private use
  if (c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F)) return false;  // tag characters
  return true;
}

char32_t to_lower(char32_t c) {
  if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
  return static_cast<char32_t>(towlower_l(static_cast<wint_t>(c), utf8_locale()));
}

char32_t to_upper(char32_t c) {
  if (c < 0x80) return (c >= 'a' && c <= 'z') ? c - 32 : c;
  return static_cast<char32_t>(towupper_l(static_cast<wint_t>(c), utf8_locale()));
}

namespace {

void append_upper(std::string& out, char32_t c) {
  if (c == 0xDF) {
    out += "SS";
  } else {
    append_utf8(out, to_upper(c));
  }
}

}  // namespace

std::string lower(std::string_view text) {
  if (is_ascii(text)) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(to_lower(static_cast<unsigned char>(c)));
    return out;
  }
  return map_code_points(text, [](std::string& out, char32_t c) { append_utf8(out, to_lower(c)); });
}

std::string upper(std::string_view text) {
  if (is_ascii(text)) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(to_upper(static_cast<unsigned char>(c)));
    return out;
  }
  return map_code_points(text, append_upper);
}

std::string swapcase(std::string_view text) {
  return map_code_points(text, [](std::string& out, char32_t c) {
    if (is_upper(c)) {
      append_utf8(out, to_lower(c));
    } else if (is_lower(c)) {
      append_upper(out, c);
    } else {
      append_utf8(out, c);
    }
  });
}

// str.title(): a cased character that follows a cased character becomes
// lower case, any other cased character upper case.
std::string python_title(std::string_view text) {
  bool previous_cased = false;
  return map_code_points(text, [&](std::string& out, char32_t c) {
    if (previous_cased) {
      append_utf8(out, to_lower(c));
    } else {
      append_upper(out, c);
    }
    previous_cased = is_cased(c);
  });
}

// str.capitalize(): the first character upper case, the rest lower case.
std::string python_capitalize(std::string_view text) {
  bool first = true;
  return map_code_points(text, [&](std::string& out, char32_t c) {
    if (first) {
      append_upper(out, c);
    } else {
      append_utf8(out, to_lower(c));
    }
    first = false;
  });
}

}  // namespace glyph::chat::jinja
