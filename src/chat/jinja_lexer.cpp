#include "chat/jinja_lexer.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "chat/jinja_unicode.h"
#include "core/error.h"

namespace glyph::chat::jinja {

void throw_syntax_error(const SourceLocation& location, const std::string& message) {
  throw_error(ErrorKind::kBadModel, "chat template syntax error at line {}, column {}: {}", location.line,
              location.column, message);
}

namespace {

// Operators, longest first so that "//" wins over "/".
constexpr std::array<std::string_view, 26> kOperators = {
    "//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[",
    "]",  "(",  ")",  "{",  "}",  ">",  "<", "=", ".", ":", "|", ",", ";",
};

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

bool is_decimal(char c) { return c >= '0' && c <= '9'; }

// The base that a 0b, 0o or 0x prefix selects; 10 for any other letter.
int prefix_to_base(char letter) {
  switch (letter | 0x20) {
    case 'b':
      return 2;
    case 'o':
      return 8;
    case 'x':
      return 16;
    default:
      return 10;
  }
}

char closing_bracket(char opening) {
  if (opening == '(') return ')';
  if (opening == '[') return ']';
  return '}';
}

// jinja2 reads the template with its line endings normalised to "\n" and
// drops one trailing newline (keep_trailing_newline=False).
std::string normalize_newlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Python's str.rstrip() with no arguments.
std::string_view rstrip_whitespace(std::string_view text) {
  size_t end = text.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t length = 0;
    if (!is_space(decode_at(text, start, length))) break;
    end = start;
  }
  return text.substr(0, end);
}

bool all_whitespace(std::string_view text) {
  if (text.empty()) return false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t length = 0;
    if (!is_space(decode_at(text, pos, length))) return false;
    pos += length;
  }
  return true;
}

class Lexer {
 public:
  explicit Lexer(const std::string& source) : source_(normalize_newlines(source)) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < source_.size(); ++i) {
      if (source_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> run() {
    while (pos_ < source_.size()) lex_root();
    Token end;
    end.type = TokenType::kEnd;
    end.location = location_at(source_.size());
    tokens_.push_back(end);
    return std::move(tokens_);
  }

 private:
  enum class TagKind { kVariable, kBlock, kComment };

  SourceLocation location_at(size_t offset) const {
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    const size_t line_start = *(it - 1);
    SourceLocation location;
    location.line = static_cast<int>(it - line_starts_.begin());
    location.column = static_cast<int>(count_code_points(std::string_view(source_).substr(line_start, offset - line_start))) + 1;
    return location;
  }

  [[noreturn]] void fail(size_t offset, const std::string& message) const {
    throw_syntax_error(location_at(offset), message);
  }

  bool starts_with(size_t pos, std::string_view prefix) const {
    return std::string_view(source_).substr(pos, prefix.size()) == prefix;
  }

  size_t skip_whitespace(size_t pos) const {
    while (pos < source_.size()) {
      size_t length = 0;
      if (!is_space(decode_at(source_, pos, length))) break;
      pos += length;
    }
    return pos;
  }

  void emit(TokenType type, std::string value, size_t offset) {
    Token token;
    token.type = type;
    token.value = std::move(value);
    token.location = location_at(offset);
    tokens_.push_back(std::move(token));
  }

  // Ends a match of jinja2's lexer: lstrip_blocks only strips before a tag
  // that starts a line, which it tracks by whether the last match ended in "\n".
  void finish_match(size_t end) {
    pos_ = end;
    line_starting_ = end > 0 && source_[end - 1] == '\n';
  }

  // Emits the text before a tag after whitespace control. A "-" on the tag
  // strips all whitespace before it. Otherwise lstrip_blocks strips the spaces
  // and tabs before a block or comment tag that starts its line, unless the
  // tag has a "+".
  void emit_text_before_tag(size_t text_start, size_t tag_start, char sign, bool is_variable) {
    std::string_view text = std::string_view(source_).substr(text_start, tag_start - text_start);
    if (sign == '-') {
      text = rstrip_whitespace(text);
    } else if (sign != '+' && !is_variable) {
      const size_t newline = text.rfind('\n');
      const size_t line_start = newline == std::string_view::npos ? 0 : newline + 1;
      if ((line_start > 0 || line_starting_) && all_whitespace(text.substr(line_start))) {
        text = text.substr(0, line_start);
      }
    }
    if (!text.empty()) emit(TokenType::kText, std::string(text), text_start);
  }

  // Matches "{%[-+]? raw [-]%}" at pos; returns the end offset or npos.
  size_t match_raw_begin(size_t pos) const {
    size_t p = pos + 2;
    if (p < source_.size() && (source_[p] == '-' || source_[p] == '+')) ++p;
    p = skip_whitespace(p);
    if (!starts_with(p, "raw")) return std::string_view::npos;
    p = skip_whitespace(p + 3);
    if (starts_with(p, "-%}")) return skip_whitespace(p + 3);
    if (starts_with(p, "%}")) return p + 2;
    return std::string_view::npos;
  }

  void lex_root() {
    size_t tag = source_.find('{', pos_);
    while (tag != std::string::npos &&
           (tag + 1 >= source_.size() || std::string_view("{%#").find(source_[tag + 1]) == std::string_view::npos)) {
      tag = source_.find('{', tag + 1);
    }
    if (tag == std::string::npos) {
      emit(TokenType::kText, source_.substr(pos_), pos_);
      finish_match(source_.size());
      return;
    }

    TagKind kind = TagKind::kComment;
    if (source_[tag + 1] == '{') {
      kind = TagKind::kVariable;
    } else if (source_[tag + 1] == '%') {
      kind = TagKind::kBlock;
    }
    const char sign = tag + 2 < source_.size() && (source_[tag + 2] == '-' || source_[tag + 2] == '+') ? source_[tag + 2] : 0;
    emit_text_before_tag(pos_, tag, sign, kind == TagKind::kVariable);

    if (kind == TagKind::kBlock) {
      const size_t raw_end = match_raw_begin(tag);
      if (raw_end != std::string_view::npos) {
        finish_match(raw_end);
        lex_raw(tag);
        return;
      }
    }
    pos_ = tag + 2 + (sign ? 1 : 0);
    line_starting_ = false;
    if (kind == TagKind::kComment) {
      lex_comment(tag);
    } else {
      lex_tag(kind, tag);
    }
  }

  void lex_comment(size_t begin) {
    for (size_t i = pos_; i < source_.size(); ++i) {
      if (starts_with(i, "+#}")) {
        finish_match(i + 3);
        return;
      }
      if (starts_with(i, "-#}")) {
        finish_match(skip_whitespace(i + 3));
        return;
      }
      if (starts_with(i, "#}")) {
        finish_match(i + 2 + (starts_with(i + 2, "\n") ? 1 : 0));  // trim_blocks
        return;
      }
    }
    fail(begin, "missing end of comment tag");
  }

  // Everything up to {% endraw %} is text; whitespace control applies at both ends.
  void lex_raw(size_t begin) {
    for (size_t i = pos_; i < source_.size(); ++i) {
      if (!starts_with(i, "{%")) continue;
      size_t p = i + 2;
      char sign = 0;
      if (p < source_.size() && (source_[p] == '-' || source_[p] == '+')) sign = source_[p++];
      p = skip_whitespace(p);
      if (!starts_with(p, "endraw")) continue;
      p = skip_whitespace(p + 6);
      size_t end = std::string_view::npos;
      if (starts_with(p, "+%}")) {
        end = p + 3;
      } else if (starts_with(p, "-%}")) {
        end = skip_whitespace(p + 3);
      } else if (starts_with(p, "%}")) {
        end = p + 2 + (starts_with(p + 2, "\n") ? 1 : 0);
      }
      if (end == std::string_view::npos) continue;
      emit_text_before_tag(pos_, i, sign, false);
      finish_match(end);
      return;
    }
    fail(begin, "missing end of raw directive");
  }

  // Consumes the closing delimiter at pos_ if there is one.
  bool lex_tag_end(TagKind kind) {
    if (kind == TagKind::kBlock) {
      if (starts_with(pos_, "+%}")) {
        finish_match(pos_ + 3);
      } else if (starts_with(pos_, "-%}")) {
        finish_match(skip_whitespace(pos_ + 3));
      } else if (starts_with(pos_, "%}")) {
        finish_match(pos_ + 2 + (starts_with(pos_ + 2, "\n") ? 1 : 0));  // trim_blocks
      } else {
        return false;
      }
    } else if (starts_with(pos_, "-}}")) {
      finish_match(skip_whitespace(pos_ + 3));
    } else if (starts_with(pos_, "}}")) {
      finish_match(pos_ + 2);
    } else {
      return false;
    }
    return true;
  }

  void lex_tag(TagKind kind, size_t begin) {
    emit(kind == TagKind::kBlock ? TokenType::kBlockBegin : TokenType::kVariableBegin, "", begin);
    std::vector<char> brackets;  // closers expected, innermost last
    while (pos_ < source_.size()) {
      const size_t start = pos_;
      if (brackets.empty() && lex_tag_end(kind)) {
        emit(kind == TagKind::kBlock ? TokenType::kBlockEnd : TokenType::kVariableEnd, "", start);
        return;
      }
      const size_t after_space = skip_whitespace(pos_);
      if (after_space != pos_) {
        pos_ = after_space;
        continue;
      }
      if (lex_number() || lex_name() || lex_string()) continue;
      lex_operator(brackets);
    }
    // The parser reports the missing end of the tag at the end token.
  }

  // Digits with optional single underscores between them: (\d+_)*\d+.
  size_t match_digits(size_t pos) const {
    if (pos >= source_.size() || !is_decimal(source_[pos])) return std::string_view::npos;
    while (true) {
      while (pos < source_.size() && is_decimal(source_[pos])) ++pos;
      if (pos + 1 < source_.size() && source_[pos] == '_' && is_decimal(source_[pos + 1])) {
        ++pos;
        continue;
      }
      return pos;
    }
  }

  // jinja2's float_re: digits with a fraction, an exponent or both, not
  // directly after a ".".
  size_t match_float(size_t pos) const {
    if (pos > 0 && source_[pos - 1] == '.') return std::string_view::npos;
    size_t p = match_digits(pos);
    if (p == std::string_view::npos) return p;
    bool fraction = false;
    if (p < source_.size() && source_[p] == '.') {
      const size_t fraction_end = match_digits(p + 1);
      if (fraction_end != std::string_view::npos) {
        p = fraction_end;
        fraction = true;
      }
    }
    if (p < source_.size() && (source_[p] == 'e' || source_[p] == 'E')) {
      size_t q = p + 1;
      if (q < source_.size() && (source_[q] == '+' || source_[q] == '-')) ++q;
      const size_t exponent_end = match_digits(q);
      if (exponent_end != std::string_view::npos) return exponent_end;
    }
    return fraction ? p : std::string_view::npos;
  }

  // jinja2's integer_re: 0b, 0o and 0x prefixes, or decimal without leading zeros.
  size_t match_integer(size_t pos, int& base) const {
    const auto digit_of_base = [](char c, int b) {
      const char lower = static_cast<char>(c | 0x20);
      if (b == 2) return c == '0' || c == '1';
      if (b == 8) return c >= '0' && c <= '7';
      if (b == 16) return is_decimal(c) || (lower >= 'a' && lower <= 'f');
      return is_decimal(c);
    };
    if (source_[pos] == '0' && pos + 1 < source_.size()) {
      base = prefix_to_base(source_[pos + 1]);
      if (base != 10) {
        size_t p = pos + 2;
        size_t end = std::string_view::npos;
        while (p < source_.size()) {
          const size_t digit = source_[p] == '_' ? p + 1 : p;
          if (digit >= source_.size() || !digit_of_base(source_[digit], base)) break;
          p = digit + 1;
          end = p;
        }
        if (end != std::string_view::npos) return end;
        base = 10;
      }
    }
    base = 10;
    if (!is_decimal(source_[pos])) return std::string_view::npos;
    const bool zero = source_[pos] == '0';
    size_t p = pos + 1;
    while (p < source_.size()) {
      const size_t digit = source_[p] == '_' ? p + 1 : p;
      if (digit >= source_.size() || !is_decimal(source_[digit]) || (zero && source_[digit] != '0')) break;
      p = digit + 1;
    }
    return p;
  }

  bool lex_number() {
    const size_t start = pos_;
    if (!is_decimal(source_[start])) return false;
    std::string digits;
    const size_t float_end = match_float(start);
    if (float_end != std::string_view::npos) {
      for (size_t i = start; i < float_end; ++i) {
        if (source_[i] != '_') digits += source_[i];
      }
      emit(TokenType::kFloat, source_.substr(start, float_end - start), start);
      tokens_.back().number = std::strtod(digits.c_str(), nullptr);
      pos_ = float_end;
      return true;
    }
    int base = 10;
    const size_t end = match_integer(start, base);
    if (end == std::string_view::npos) return false;
    for (size_t i = start + (base == 10 ? 0 : 2); i < end; ++i) {
      if (source_[i] != '_') digits += source_[i];
    }
    errno = 0;
    const unsigned long long value = std::strtoull(digits.c_str(), nullptr, base);
    if (errno == ERANGE || value > static_cast<unsigned long long>(INT64_MAX)) {
      fail(start, "integer literal " + source_.substr(start, end - start) +
                      " is larger than 2**63-1, the largest integer the template engine supports");
    }
    emit(TokenType::kInteger, source_.substr(start, end - start), start);
    tokens_.back().integer = static_cast<int64_t>(value);
    pos_ = end;
    return true;
  }

  bool lex_name() {
    if (!is_name_start(source_[pos_])) return false;
    size_t end = pos_ + 1;
    while (end < source_.size() && is_name_char(source_[end])) ++end;
    emit(TokenType::kName, source_.substr(pos_, end - pos_), pos_);
    pos_ = end;
    return true;
  }

  bool lex_string() {
    const char quote = source_[pos_];
    if (quote != '\'' && quote != '"') return false;
    size_t p = pos_ + 1;
    while (p < source_.size() && source_[p] != quote) p += source_[p] == '\\' ? 2 : 1;
    if (p >= source_.size()) fail(pos_, std::string("unterminated string literal starting with ") + quote);
    emit(TokenType::kString, unescape(pos_ + 1, p), pos_);
    pos_ = p + 1;
    return true;
  }

  // Python's unicode-escape decoding, which jinja2 applies to string literals.
  std::string unescape(size_t begin, size_t end) const {
    std::string out;
    size_t p = begin;
    const auto hex_escape = [&](size_t start, int digits) -> char32_t {
      if (start + digits > end) fail(start - 2, "truncated escape sequence in string literal");
      char32_t value = 0;
      for (int i = 0; i < digits; ++i) {
        const char c = source_[start + i];
        const char lower = static_cast<char>(c | 0x20);
        if (!is_decimal(c) && !(lower >= 'a' && lower <= 'f')) fail(start - 2, "truncated escape sequence in string literal");
        value = value * 16 + (is_decimal(c) ? c - '0' : lower - 'a' + 10);
      }
      return value;
    };
    while (p < end) {
      const char c = source_[p];
      if (c != '\\' || p + 1 >= end) {
        out += c;
        ++p;
        continue;
      }
      const char next = source_[p + 1];
      p += 2;
      switch (next) {
        case '\n':
          break;  // line continuation
        case '\\':
        case '\'':
        case '"':
          out += next;
          break;
        case 'a':
          out += '\a';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'v':
          out += '\v';
          break;
        case 'x':
          append_utf8(out, hex_escape(p, 2));
          p += 2;
          break;
        case 'u':
          append_utf8(out, checked_code_point(hex_escape(p, 4), p));
          p += 4;
          break;
        case 'U':
          append_utf8(out, checked_code_point(hex_escape(p, 8), p));
          p += 8;
          break;
        case 'N':
          fail(p - 2, "\\N{...} escapes are not supported in template string literals");
        default:
          if (next >= '0' && next <= '7') {
            char32_t value = next - '0';
            for (int i = 0; i < 2 && p < end && source_[p] >= '0' && source_[p] <= '7'; ++i) {
              value = value * 8 + (source_[p++] - '0');
            }
            append_utf8(out, value);
          } else {
            out += '\\';  // Python keeps unknown escapes as written
            out += next;
          }
      }
    }
    return out;
  }

  char32_t checked_code_point(char32_t value, size_t offset) const {
    if (value > 0x10FFFF) fail(offset - 2, "illegal Unicode character in string literal");
    // Python strings may hold lone surrogates but UTF-8 cannot, so they
    // become U+FFFD here.
    if (value >= 0xD800 && value <= 0xDFFF) return 0xFFFD;
    return value;
  }

  void lex_operator(std::vector<char>& brackets) {
    for (std::string_view op : kOperators) {
      if (!starts_with(pos_, op)) continue;
      const char c = op[0];
      if (op.size() == 1 && (c == '(' || c == '[' || c == '{')) {
        brackets.push_back(closing_bracket(c));
      } else if (op.size() == 1 && (c == ')' || c == ']' || c == '}')) {
        if (brackets.empty()) fail(pos_, std::string("unexpected '") + c + "'");
        if (brackets.back() != c) fail(pos_, std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
        brackets.pop_back();
      }
      emit(TokenType::kOperator, std::string(op), pos_);
      pos_ += op.size();
      return;
    }
    size_t length = 0;
    std::string character;
    append_utf8(character, decode_at(source_, pos_, length));
    fail(pos_, "unexpected character '" + character + "'");
  }

  std::string source_;
  std::vector<size_t> line_starts_;
  size_t pos_ = 0;
  bool line_starting_ = true;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source) {
  const size_t invalid = find_invalid_utf8(source);
  if (invalid != std::string::npos) {
    throw_error(ErrorKind::kBadModel, "chat template is not valid UTF-8 (invalid byte at offset {})", invalid);
  }
  return Lexer(source).run();
}

}  // namespace glyph::chat::jinja
