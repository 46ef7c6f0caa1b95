#include "chat/chat_template.h"

#include "chat/jinja_interpreter.h"
#include "chat/jinja_parser.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

class JinjaChatTemplate : public ChatTemplate {
 public:
  explicit JinjaChatTemplate(jinja::Template tmpl) : template_(std::move(tmpl)) {}

  std::string render(const nlohmann::ordered_json& context) const override {
    if (!context.is_object()) {
      throw_error(ErrorKind::kInvalidRequest, "chat template context must be a JSON object, got {}", context.type_name());
    }
    try {
      const jinja::Value variables = jinja::Value::from_json(context);
      jinja::Interpreter interpreter(template_, variables);
      return interpreter.render();
    } catch (const jinja::RenderError& error) {
      // raise_exception() carries the template's own message for the client.
      if (error.from_raise_exception) throw Error(ErrorKind::kInvalidRequest, error.message);
      if (error.line > 0) {
        throw_error(ErrorKind::kInvalidRequest, "chat template error at line {}: {}", error.line, error.message);
      }
      throw_error(ErrorKind::kInvalidRequest, "chat template error: {}", error.message);
    } catch (const Error&) {
      throw;
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& error) {
      // Any other exception is an engine bug, not bad input.
      throw_error(ErrorKind::kInternal, "chat template engine failed: {}", error.what());
    }
  }

 private:
  jinja::Template template_;
};

}  // namespace

std::unique_ptr<ChatTemplate> ChatTemplate::parse(const std::string& source) {
  return std::make_unique<JinjaChatTemplate>(jinja::parse_template(source));
}

}  // namespace glyph::chat
