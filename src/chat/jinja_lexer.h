// Splits a Jinja template into tokens the way jinja2's lexer does with
// trim_blocks=True and lstrip_blocks=True (the transformers chat-template
// environment): text, {{ }} and {% %} tags with their expression tokens.
// Comments are dropped and {% raw %} blocks become text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace glyph::chat::jinja {

struct SourceLocation {
  int line = 1;
  int column = 1;  // in code points, starting at 1
};

enum class TokenType {
  kText,
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,
  kInteger,
  kFloat,
  kOperator,
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string value;  // text, name, operator, or a string literal after unescaping
  int64_t integer = 0;
  double number = 0;
  SourceLocation location;
};

// Throws glyph::Error(kBadModel) naming the line and column of a lexical
// error (unterminated comment, bad escape, unbalanced bracket).
std::vector<Token> tokenize(const std::string& source);

// Throws glyph::Error(kBadModel): "chat template syntax error at line L,
// column C: message".
[[noreturn]] void throw_syntax_error(const SourceLocation& location, const std::string& message);

}  // namespace glyph::chat::jinja
