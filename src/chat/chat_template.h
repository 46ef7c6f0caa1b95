// Jinja chat templates, rendered as Hugging Face transformers renders them
// (jinja2 with trim_blocks and lstrip_blocks, the loopcontrols extension,
// raise_exception, and a tojson filter with Python's json.dumps output).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace glyph::chat {

class ChatTemplate {
 public:
  // Parses the template; throws glyph::Error(kBadModel) with line and column on a syntax error.
  static std::unique_ptr<ChatTemplate> parse(const std::string& source);
  virtual ~ChatTemplate() = default;

  // Renders with context variables such as messages, tools,
  // add_generation_prompt and every chat_template_kwargs entry. Object key
  // order is kept, so tojson prints keys as the client sent them. Throws
  // glyph::Error(kInvalidRequest) when the template raises or fails on this input.
  virtual std::string render(const nlohmann::ordered_json& context) const = 0;
};

}  // namespace glyph::chat
