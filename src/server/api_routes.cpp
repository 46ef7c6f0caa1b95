#include "server/api_routes.h"

#include <atomic>
#include <ctime>

#include <fmt/format.h>

#include "core/log.h"
#include "server/api_error.h"
#include "server/chat_media.h"
#include "server/chat_reply.h"
#include "server/chat_request.h"
#include "server/client_connection.h"
#include "server/chat_tool_constraint.h"
#include "server/prompt_builder.h"
#include "server/request_fields.h"

namespace glyph::server {

namespace {

HttpReply json_reply(const Json& body, int status = 200) {
  HttpReply reply;
  reply.status = status;
  reply.body = dump_json(body);
  return reply;
}

std::vector<int32_t> encode_scripted_output(const text::Tokenizer& tokenizer,
                                            const std::vector<std::string>& pieces) {
  std::vector<int32_t> tokens;
  for (const std::string& piece : pieces) {
    const std::vector<int32_t> ids = tokenizer.encode(piece);
    tokens.insert(tokens.end(), ids.begin(), ids.end());
  }
  return tokens;
}

Json model_card(const std::string& name, int64_t created, int32_t context_length) {
  Json card = Json::object();
  card["id"] = name;
  card["object"] = "model";
  card["created"] = created;
  card["owned_by"] = "sglang";
  card["root"] = name;
  card["parent"] = nullptr;
  card["max_model_len"] = context_length;
  return card;
}

std::atomic<uint64_t> next_request_number{0};

// tool_choice "required" and a named tool are enforced by the tool-call
// grammar and read back by the tool-call parser, so they need one.
void check_tool_choice_supported(const ChatRequest& request, const ServeOptions& options) {
  const chat::ToolChoiceMode mode = request.tool_choice.mode;
  if (!options.tool_call_parser.empty()) return;
  if (mode != chat::ToolChoiceMode::kRequired && mode != chat::ToolChoiceMode::kNamed) return;
  throw_bad_request(fmt::format(
      "tool_choice {} needs a tool-call parser, and the server has none; start it with "
      "--tool-call-parser glm45, or send tool_choice \"auto\"",
      mode == chat::ToolChoiceMode::kRequired ? "\"required\"" : "naming a function"));
}

// The constraint of tool_choice "required" or a named tool, else nullptr.
std::shared_ptr<TokenConstraint> tool_call_constraint(const ServingStack& stack,
                                                      const ChatRequest& request,
                                                      const std::string& prompt) {
  if (!stack.tool_grammar_vocabulary) return nullptr;
  int32_t reasoning_end_token = -1;
  if (tool_call_reply_starts_with_reasoning(request, prompt)) {
    reasoning_end_token = stack.tokenizer->token_to_id("</think>").value_or(-1);
  }
  return make_tool_call_constraint(request, stack.tool_grammar_vocabulary, reasoning_end_token);
}

// The tools the tool-call parser reads calls of; null when it does not run.
std::shared_ptr<const std::vector<chat::ToolSpec>> parsed_tools(const ChatRequest& request,
                                                                const ServeOptions& options) {
  if (options.tool_call_parser.empty()) return nullptr;
  if (request.tool_choice.mode == chat::ToolChoiceMode::kNone) return nullptr;
  return std::make_shared<const std::vector<chat::ToolSpec>>(offered_tools(request));
}

}  // namespace

Json parse_json_body(const std::string& body) {
  try {
    return Json::parse(body);
  } catch (const Json::parse_error& error) {
    throw_bad_request(fmt::format("the request body is not valid JSON ({}); send a JSON object",
                                  error.what()));
  }
}

ApiRoutes::ApiRoutes(ServingStack& stack)
    : stack_(stack), started_at_(static_cast<int64_t>(std::time(nullptr))) {}

HttpReply ApiRoutes::chat_completions(const std::string& body) const {
  const ServeOptions& options = stack_.options;
  engine::Engine& engine = *stack_.engine;
  const text::Tokenizer& tokenizer = *stack_.tokenizer;

  ChatRequest request = parse_chat_request(parse_json_body(body), tokenizer.vocab_size(),
                                           options.allow_scripted_output);
  check_tool_choice_supported(request, options);
  const ChatMedia media = prepare_chat_media(stack_, request);

  const Json context = build_template_context(request, stack_.tokenizer_settings.special_tokens);
  const std::string prompt = render_prompt(*stack_.chat_template, context);
  engine::GenerateRequest generate;
  const model::ModelConfig& model_config = engine.model_config();
  place_images(tokenizer.encode(prompt), media.images, model_config.image_token_id,
               model_config.vision.spatial_merge_size, generate);
  const auto prompt_tokens = static_cast<int32_t>(generate.prompt.size());
  check_context_fits(request, prompt_tokens, engine.context_length());

  ResponseHeader header;
  header.id = new_completion_id();
  header.created = static_cast<int64_t>(std::time(nullptr));
  header.model = request.model;

  generate.id = header.id;
  generate.sampling = to_sampling_params(request, engine.model_config().generation,
                                         prompt_tokens, engine.context_length());
  // Built for scripted replies too, so an unwritable tool name is a 400 either way.
  std::shared_ptr<TokenConstraint> constraint = tool_call_constraint(stack_, request, prompt);
  if (request.scripted_output) {
    // A script replaces the sampled tokens, so it is not held to the grammar.
    generate.scripted_output = encode_scripted_output(tokenizer, *request.scripted_output);
  } else {
    generate.constraint = std::move(constraint);
  }
  log::debug("request {} (#{}): {} prompt tokens, max_new_tokens {}, stream {}", header.id,
             next_request_number++, prompt_tokens, generate.sampling.max_new_tokens,
             request.stream);
  std::shared_ptr<engine::OutputChannel> channel = engine.submit(std::move(generate));

  ReplyOptions reply_options;
  reply_options.separate_reasoning =
      !options.reasoning_parser.empty() && request.separate_reasoning;
  reply_options.stream_reasoning = request.stream_reasoning;
  reply_options.tools = parsed_tools(request, options);
  reply_options.include_usage = request.include_usage;
  reply_options.continuous_usage_stats = request.continuous_usage_stats;
  reply_options.cache_report = options.enable_cache_report;
  reply_options.image_tokens = media.image_tokens;
  reply_options.rendered_text_tokens = media.rendered_text_tokens;
  // A non-streaming request is cancelled when its client disconnects before the reply.
  EventSource next_events = [channel] { return wait_while_connected(*channel); };

  if (!request.stream) {
    try {
      return json_reply(collect_reply(next_events, header, reply_options));
    } catch (...) {
      channel->cancel();
      throw;
    }
  }

  HttpReply reply;
  // Starlette, under SGLang, adds the charset to text/ types; clients need it to decode UTF-8.
  reply.content_type = "text/event-stream; charset=utf-8";
  reply.stream = [next_events, header, reply_options](const StreamWriter& write) {
    return stream_reply(next_events, header, reply_options, write);
  };
  reply.cancel = [channel, id = header.id] {
    log::debug("request {}: the client disconnected; cancelling", id);
    channel->cancel();
  };
  return reply;
}

HttpReply ApiRoutes::models() const {
  Json list = Json::object();
  list["object"] = "list";
  list["data"] = Json::array({model_card(stack_.options.effective_served_model_name(),
                                         started_at_, stack_.engine->context_length())});
  return json_reply(list);
}

HttpReply ApiRoutes::model(const std::string& id) const {
  const std::string& name = stack_.options.effective_served_model_name();
  if (id != name) {
    // OpenAI's shape, which SGLang returns for an unknown model id.
    Json error = Json::object();
    error["message"] = fmt::format("The model '{}' does not exist", id);
    error["type"] = "invalid_request_error";
    error["param"] = "model";
    error["code"] = "model_not_found";
    return json_reply(Json{{"error", error}}, 404);
  }
  return json_reply(model_card(name, started_at_, stack_.engine->context_length()));
}

HttpReply ApiRoutes::model_info() const {
  const ServeOptions& options = stack_.options;
  Json info = Json::object();
  info["model_path"] = options.model_path;
  info["tokenizer_path"] = options.effective_tokenizer_path();
  info["is_generation"] = true;
  info["preferred_sampling_params"] = nullptr;
  info["weight_version"] = "default";
  info["has_image_understanding"] = true;
  info["has_audio_understanding"] = false;
  info["architectures"] = Json::array({stack_.engine->model_config().architecture});
  return json_reply(info);
}

std::string ApiRoutes::render_messages_prompt(const Json& body) const {
  // The chat request's own parsing, so /v1/tokenize counts what a chat request would send.
  Json chat_body = Json::object();
  for (const char* key : {"messages", "tools", "tool_choice", "chat_template_kwargs"}) {
    if (body.contains(key)) chat_body[key] = body[key];
  }
  const ChatRequest request =
      parse_chat_request(chat_body, stack_.tokenizer->vocab_size(), /*allow_scripted_output=*/false);
  return render_prompt(*stack_.chat_template,
                       build_template_context(request, stack_.tokenizer_settings.special_tokens));
}

HttpReply ApiRoutes::tokenize(const std::string& body) const {
  const Json request = parse_json_body(body);
  if (!request.is_object()) {
    throw_bad_request("the request body must be a JSON object with \"prompt\" or \"messages\"");
  }
  const FieldReader fields(request, "");
  // add_special_tokens is accepted; the GLM tokenizer.json has no
  // post-processor, so it adds nothing either way.
  fields.boolean("add_special_tokens");
  if (fields.has("prompt") == fields.has("messages")) {
    throw_bad_request("Exactly one of 'prompt' or 'messages' must be provided.");
  }
  const text::Tokenizer& tokenizer = *stack_.tokenizer;

  Json response = Json::object();
  const Json* prompt = fields.get("prompt");
  if (prompt && prompt->is_array()) {
    Json tokens = Json::array();
    Json counts = Json::array();
    const std::vector<std::string> texts = fields.string_or_strings("prompt").value();
    for (const std::string& text : texts) {
      const std::vector<int32_t> ids = tokenizer.encode(text);
      tokens.push_back(ids);
      counts.push_back(ids.size());
    }
    response["tokens"] = std::move(tokens);
    response["count"] = std::move(counts);
  } else {
    const std::string text = prompt ? fields.string("prompt").value()
                                    : render_messages_prompt(request);
    const std::vector<int32_t> ids = tokenizer.encode(text);
    response["tokens"] = ids;
    response["count"] = ids.size();
  }
  response["max_model_len"] = stack_.engine->context_length();
  return json_reply(response);
}

HttpReply ApiRoutes::detokenize(const std::string& body) const {
  const Json request = parse_json_body(body);
  if (!request.is_object()) {
    throw_bad_request("the request body must be a JSON object with \"tokens\"");
  }
  const FieldReader fields(request, "");
  const Json* tokens = fields.array("tokens");
  if (!tokens) {
    throw_bad_request("tokens is missing; send a list of token ids, or a list of such lists");
  }
  const bool skip_special_tokens = fields.boolean("skip_special_tokens").value_or(true);
  const text::Tokenizer& tokenizer = *stack_.tokenizer;
  const int32_t vocab_size = tokenizer.vocab_size();

  Json text;
  if (!tokens->empty() && (*tokens)[0].is_array()) {
    text = Json::array();
    for (size_t i = 0; i < tokens->size(); ++i) {
      const Json& list = (*tokens)[i];
      const std::string path = fmt::format("tokens[{}]", i);
      if (!list.is_array()) {
        throw_bad_request(fmt::format("{} must be a list of token ids, got {}", path,
                                      quote_json_value(list)));
      }
      text.push_back(tokenizer.decode(read_token_ids(list, path, vocab_size),
                                      skip_special_tokens));
    }
  } else {
    text = tokenizer.decode(read_token_ids(*tokens, "tokens", vocab_size), skip_special_tokens);
  }
  return json_reply(Json{{"text", text}});
}

}  // namespace glyph::server
