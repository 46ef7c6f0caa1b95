#include "server/prompt_builder.h"

#include "core/error.h"
#include "server/api_error.h"

namespace glyph::server {

nlohmann::ordered_json build_template_context(const ChatRequest& request,
                                              const nlohmann::ordered_json& special_tokens) {
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  for (const auto& [key, value] : special_tokens.items()) context[key] = value;
  context["messages"] = request.messages;
  if (!request.template_tools.is_null()) context["tools"] = request.template_tools;
  context["add_generation_prompt"] = true;
  for (const auto& [key, value] : request.chat_template_kwargs.items()) context[key] = value;
  return context;
}

std::string render_prompt(const chat::ChatTemplate& chat_template,
                          const nlohmann::ordered_json& context) {
  try {
    return chat_template.render(context);
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::kInvalidRequest) {
      throw ApiError(400, std::string("the chat template failed on these messages: ") +
                              error.what());
    }
    throw;
  }
}

}  // namespace glyph::server
