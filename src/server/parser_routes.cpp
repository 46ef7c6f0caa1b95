#include "server/parser_routes.h"

#include <optional>

#include <fmt/format.h>

#include "chat/reasoning_parser.h"
#include "chat/tool_call_parser.h"
#include "chat/tool_schema.h"
#include "core/error.h"
#include "server/api_error.h"
#include "server/chat_response.h"
#include "server/request_fields.h"

namespace glyph::server {

namespace {

HttpReply json_reply(const Json& body) {
  HttpReply reply;
  reply.body = dump_json(body);
  return reply;
}

// The object body of a parser route; `fields` lists what it expects, for the message.
Json parse_object_body(const std::string& body, const char* fields) {
  Json request = parse_json_body(body);
  if (!request.is_object()) {
    throw_bad_request(fmt::format("the request body must be a JSON object with {}", fields));
  }
  return request;
}

std::string required_text(const FieldReader& fields) {
  std::optional<std::string> text = fields.string("text");
  if (!text) throw_bad_request("text is missing; send the model output to parse as \"text\"");
  return std::move(*text);
}

// The parser named in the request, else the one the server was started with.
std::string parser_name(const FieldReader& fields, const char* key, const std::string& fallback,
                        const char* flag) {
  std::string name = fields.string(key).value_or(fallback);
  if (name.empty()) {
    throw_bad_request(fmt::format("{} is missing and the server has no {}; send {} (for "
                                  "example \"glm45\")",
                                  key, flag, key));
  }
  return name;
}

}  // namespace

// SGLang's reply is {"normal_text", "calls": [{"tool_index", "name",
// "parameters"}]}. normal_text is the text outside the calls, by the glm45
// rules of chat/tool_call_parser.h. tool_index is the call's position,
// 0, 1, ... (SGLang 0.5.6 sends -1 for every glm45 call).
HttpReply ParserRoutes::parse_function_call(const std::string& body) const {
  const Json request = parse_object_body(body, "\"text\", \"tool_call_parser\" and \"tools\"");
  const FieldReader fields(request, "");
  const std::string text = required_text(fields);
  const std::string parser = parser_name(fields, "tool_call_parser",
                                         stack_.options.tool_call_parser, "--tool-call-parser");
  if (parser != "glm45" && parser != "glm") {
    throw_bad_request(fmt::format(
        "tool_call_parser \"{}\" is not supported; use \"glm45\" (or its alias \"glm\")", parser));
  }
  const Json* tools_field = fields.array("tools");
  if (!tools_field) {
    throw_bad_request("tools is missing; send the tools the text may call, in the "
                      "chat request's format");
  }

  std::vector<chat::ToolSpec> tools;
  try {
    tools = chat::parse_tools(*tools_field);
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::kInvalidRequest) throw_bad_request(error.what());
    throw;
  }
  const chat::ToolCallParseResult result = chat::parse_tool_calls(text, tools);

  Json calls = Json::array();
  for (size_t i = 0; i < result.calls.size(); ++i) {
    Json call = Json::object();
    call["tool_index"] = i;
    call["name"] = result.calls[i].name;
    call["parameters"] = result.calls[i].arguments;
    calls.push_back(std::move(call));
  }
  Json reply = Json::object();
  reply["normal_text"] = result.content;
  reply["calls"] = std::move(calls);
  return json_reply(reply);
}

// SGLang's reply is {"reasoning_text", "text"}, both strings ("" when empty).
// The text is a whole reply; reasoning it never closes stays reasoning, as
// when generation was cut off.
HttpReply ParserRoutes::separate_reasoning(const std::string& body) const {
  const Json request = parse_object_body(body, "\"text\" and \"reasoning_parser\"");
  const FieldReader fields(request, "");
  const std::string text = required_text(fields);
  const std::string parser = parser_name(fields, "reasoning_parser",
                                         stack_.options.reasoning_parser, "--reasoning-parser");
  if (!chat::is_known_reasoning_parser(parser)) {
    throw_bad_request(fmt::format("reasoning_parser \"{}\" is not supported; use one of {}",
                                  parser, chat::known_reasoning_parsers()));
  }

  const chat::ReasoningDelta split = chat::ReasoningParser::parse(text, /*ended_on_its_own=*/false);
  Json reply = Json::object();
  reply["reasoning_text"] = split.reasoning;
  reply["text"] = split.content;
  return json_reply(reply);
}

}  // namespace glyph::server
