#include "server/chat_request.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "core/error.h"
#include "server/api_error.h"
#include "server/request_fields.h"

namespace glyph::server {

namespace {

constexpr std::array<const char*, 6> kRoles = {"system", "user",     "assistant",
                                               "tool",   "function", "developer"};

std::string lower_case(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Formats a float field's value as Python prints it in SGLang's messages.
std::string format_number(double value) { return fmt::format("{}", value); }

// The GLM template renders {"type": "image"} as the image placeholder, which
// the server later expands to the image's tokens. media_index is the image's
// index in ChatRequest::media.
Json image_placeholder(size_t media_index) {
  Json converted = Json::object();
  converted["type"] = "image";
  converted["media_index"] = media_index;
  return converted;
}

RenderedTextPart read_rendered_text(const FieldReader& fields, const std::string& path) {
  const Json* options = fields.object("rendered_text");
  if (!options) {
    throw_bad_request(fmt::format(
        "{}.rendered_text is missing; send {{\"rendered_text\": {{\"text\": ...}}}}", path));
  }
  const FieldReader reader(*options, path + ".rendered_text.");
  RenderedTextPart part;
  const std::optional<std::string> text = reader.string("text");
  if (!text) throw_bad_request(fmt::format("{}.rendered_text.text is missing", path));
  const bool blank = std::all_of(text->begin(), text->end(), [](unsigned char c) {
    return std::isspace(c) != 0;
  });
  if (blank) {
    throw_bad_request(fmt::format(
        "{}.rendered_text.text is empty or only whitespace; send the text to render", path));
  }
  part.text = *text;
  if (const std::optional<int64_t> dpi = reader.integer("dpi")) {
    if (*dpi < 36 || *dpi > 300) {
      throw_bad_request(
          fmt::format("{}.rendered_text.dpi is {}; use a value from 36 to 300", path, *dpi));
    }
    part.dpi = static_cast<int32_t>(*dpi);
  }
  part.font_size = reader.number("font_size");
  part.line_height = reader.number("line_height");
  for (const auto& [name, value] : {std::pair{"font_size", part.font_size},
                                    std::pair{"line_height", part.line_height}}) {
    if (value && (*value < 4 || *value > 72)) {
      throw_bad_request(fmt::format("{}.rendered_text.{} is {}; use a value from 4 to 72 points",
                                    path, name, format_number(*value)));
    }
  }
  return part;
}

// One content part, converted for the chat template.
Json convert_content_part(const Json& part, const std::string& path, const std::string& role,
                          std::vector<MediaPart>& media) {
  if (part.is_string()) return part;
  if (!part.is_object()) {
    throw_bad_request(fmt::format(
        "{} must be a content part object such as {{\"type\": \"text\", \"text\": ...}}, got {}",
        path, quote_json_value(part)));
  }
  const FieldReader fields(part, path + ".");
  const std::optional<std::string> type = fields.string("type");
  if (!type) {
    throw_bad_request(
        fmt::format("{}.type is missing; use \"text\" or \"image_url\"", path));
  }

  if (*type == "text") {
    const std::optional<std::string> text = fields.string("text");
    if (!text) throw_bad_request(fmt::format("{}.text is missing for a text part", path));
    Json converted = Json::object();
    converted["type"] = "text";
    converted["text"] = *text;
    return converted;
  }

  if (*type == "image_url") {
    const Json* image_url = fields.object("image_url");
    if (!image_url) {
      throw_bad_request(fmt::format(
          "{}.image_url is missing; send {{\"image_url\": {{\"url\": ...}}}}", path));
    }
    const std::optional<std::string> url = FieldReader(*image_url, path + ".image_url.").string("url");
    if (!url) throw_bad_request(fmt::format("{}.image_url.url is missing", path));
    if (url->empty()) {
      throw_bad_request(fmt::format(
          "{}.image_url.url is empty; send a data: URL, a file path or an http(s) URL", path));
    }
    media.push_back(MediaPart{path, *url, std::nullopt});
    return image_placeholder(media.size() - 1);
  }

  if (*type == "rendered_text") {
    if (role != "user") {
      throw_bad_request(fmt::format(
          "{} is a rendered_text part in a message with role \"{}\"; only user messages may "
          "carry text to render, send it in a user message",
          path, role));
    }
    media.push_back(MediaPart{path, "", read_rendered_text(fields, path)});
    return image_placeholder(media.size() - 1);
  }

  throw_bad_request(fmt::format(
      "{}.type \"{}\" is not supported; send \"text\", \"image_url\" or \"rendered_text\" "
      "parts",
      path, *type));
}

Json convert_content(const FieldReader& fields, const std::string& role, const std::string& path,
                     std::vector<MediaPart>& media) {
  const Json* content = fields.get("content");
  if (!content) {
    if (role == "user") {
      throw_bad_request(fmt::format("{}content is missing; a user message needs content",
                                    fields.name("")));
    }
    return "";  // SGLang renders a null content (an assistant tool call) as "".
  }
  if (content->is_string()) return *content;
  if (!content->is_array()) fields.fail_type("content", "a string or a list of content parts");

  Json parts = Json::array();
  for (size_t i = 0; i < content->size(); ++i) {
    parts.push_back(
        convert_content_part((*content)[i], fmt::format("{}content[{}]", path, i), role, media));
  }
  return parts;
}

// Assistant tool calls arrive with JSON-string arguments; templates iterate
// arguments.items(), so the arguments become objects.
Json convert_tool_calls(const Json& tool_calls, const std::string& path) {
  Json converted = Json::array();
  for (size_t i = 0; i < tool_calls.size(); ++i) {
    const std::string call_path = fmt::format("{}tool_calls[{}]", path, i);
    const Json& call = tool_calls[i];
    if (!call.is_object()) {
      throw_bad_request(fmt::format("{} must be an object with a \"function\" field, got {}",
                                    call_path, quote_json_value(call)));
    }
    const FieldReader call_fields(call, call_path + ".");
    const Json* function = call_fields.object("function");
    if (!function) throw_bad_request(fmt::format("{}.function is missing", call_path));
    const FieldReader function_fields(*function, call_path + ".function.");
    if (!function_fields.string("name")) {
      throw_bad_request(fmt::format("{}.function.name is missing", call_path));
    }

    Json converted_call = call;
    Json& arguments = converted_call["function"]["arguments"];
    if (arguments.is_string()) {
      Json parsed = Json::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
      if (parsed.is_discarded() || !parsed.is_object()) {
        throw_bad_request(fmt::format(
            "{}.function.arguments must be a JSON object encoded as a string, got {}", call_path,
            quote_json_value(arguments)));
      }
      arguments = std::move(parsed);
    } else if (arguments.is_null()) {
      arguments = Json::object();
    } else if (!arguments.is_object()) {
      function_fields.fail_type("arguments", "a JSON object encoded as a string");
    }
    converted.push_back(std::move(converted_call));
  }
  return converted;
}

Json convert_message(const Json& message, size_t index, std::vector<MediaPart>& media) {
  const std::string path = fmt::format("messages[{}].", index);
  if (!message.is_object()) {
    throw_bad_request(fmt::format(
        "messages[{}] must be an object with \"role\" and \"content\", got {}", index,
        quote_json_value(message)));
  }
  const FieldReader fields(message, path);
  const std::optional<std::string> raw_role = fields.string("role");
  if (!raw_role) {
    throw_bad_request(fmt::format("{}role is missing; use one of {}", path,
                                  fmt::join(kRoles, ", ")));
  }
  const std::string role = lower_case(*raw_role);
  if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end()) {
    throw_bad_request(fmt::format("{}role \"{}\" is not a valid role; use one of {}", path,
                                  *raw_role, fmt::join(kRoles, ", ")));
  }

  Json converted = Json::object();
  converted["role"] = role;
  converted["content"] = convert_content(fields, role, path, media);
  for (const char* key : {"name", "tool_call_id", "reasoning_content"}) {
    if (std::optional<std::string> value = fields.string(key)) converted[key] = *value;
  }
  if (const Json* tool_calls = fields.array("tool_calls")) {
    converted["tool_calls"] = convert_tool_calls(*tool_calls, path);
  }
  return converted;
}

// Each offered tool's function object as SGLang 0.5's pydantic model dumps
// it: description, name, parameters, strict. `tools` passed parse_tools().
Json template_tools_for(const Json& tools, const std::vector<chat::ToolSpec>& offered) {
  Json converted = Json::array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = fmt::format("tools[{}].function.", i);
    const FieldReader fields(tools[i]["function"], path);
    const std::string name = fields.string("name").value();
    const bool is_offered = std::any_of(offered.begin(), offered.end(),
                                        [&](const chat::ToolSpec& tool) { return tool.name == name; });
    if (!is_offered) continue;

    Json dumped = Json::object();
    const std::optional<std::string> description = fields.string("description");
    dumped["description"] = description ? Json(*description) : Json(nullptr);
    dumped["name"] = name;
    dumped["parameters"] = fields.has("parameters") ? *fields.get("parameters") : Json(nullptr);
    dumped["strict"] = fields.boolean("strict").value_or(false);
    converted.push_back(std::move(dumped));
  }
  return converted;
}

void read_messages(const FieldReader& fields, ChatRequest& request) {
  const Json* messages = fields.get("messages");
  if (!messages) {
    throw_bad_request("messages is missing; send a list of messages such as "
                      "[{\"role\": \"user\", \"content\": \"Hello\"}]");
  }
  if (!messages->is_array()) fields.fail_type("messages", "a list of message objects");
  if (messages->empty()) {
    throw_bad_request("messages must contain at least one message, got an empty list");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    request.messages.push_back(convert_message((*messages)[i], i, request.media));
  }
}

// Validates tools and tool_choice with SGLang's rules and messages
// (chat/tool_schema.h).
void read_tools(const FieldReader& fields, ChatRequest& request) {
  const Json* tools = fields.get("tools");
  const Json* choice = fields.get("tool_choice");
  try {
    request.tools = chat::parse_tools(tools ? *tools : Json());
    request.tool_choice = chat::parse_tool_choice(choice ? *choice : Json(), request.tools);
  } catch (const Error& error) {
    if (error.kind() == ErrorKind::kInvalidRequest) throw_bad_request(error.what());
    throw;
  }
  request.parallel_tool_calls = fields.boolean("parallel_tool_calls").value_or(true);

  // "auto" with an empty tools list offers nothing, as in SGLang.
  if (request.tools.empty()) request.tool_choice = chat::ToolChoice{};
  if (request.tool_choice.mode == chat::ToolChoiceMode::kNone) return;
  // Tool-call markup must survive detokenization for the tool-call parser.
  request.skip_special_tokens = false;
  request.template_tools = template_tools_for(*tools, offered_tools(request));
}

std::optional<float> read_float(const FieldReader& fields, const char* key) {
  const std::optional<double> value = fields.number(key);
  if (!value) return std::nullopt;
  return static_cast<float>(*value);
}

std::optional<int32_t> read_int32(const FieldReader& fields, const char* key) {
  const std::optional<int64_t> value = fields.integer(key);
  if (!value) return std::nullopt;
  if (*value < INT32_MIN || *value > INT32_MAX) {
    throw_bad_request(fmt::format("{} is {}, which is out of range", key, *value));
  }
  return static_cast<int32_t>(*value);
}

// frequency_penalty and presence_penalty: [-2, 2], 0 when absent.
float read_penalty(const FieldReader& fields, const char* key) {
  const float value = read_float(fields, key).value_or(0.0f);
  if (!(value >= -2 && value <= 2)) {
    throw_bad_request(fmt::format("{} must be in [-2, 2], got {}; use 0 for no penalty", key,
                                  format_number(value)));
  }
  return value;
}

void read_sampling(const FieldReader& fields, int32_t vocab_size, const SamplingFieldNames& names,
                   ChatRequest& request) {
  // max_completion_tokens replaces the deprecated max_tokens when both are sent.
  const char* max_key = names.max_tokens;
  if (std::string_view(max_key) == "max_tokens" && fields.has("max_completion_tokens")) {
    max_key = "max_completion_tokens";
  }
  request.max_tokens = read_int32(fields, max_key);
  if (request.max_tokens && *request.max_tokens < 0) {
    throw_bad_request(fmt::format("{} must be at least 0, got {}", max_key, *request.max_tokens));
  }

  request.temperature = read_float(fields, "temperature");
  if (request.temperature && !(std::isfinite(*request.temperature) && *request.temperature >= 0)) {
    throw_bad_request(fmt::format(
        "temperature must be a non-negative finite number, got {}; use 0 for greedy decoding",
        format_number(*request.temperature)));
  }
  request.top_p = read_float(fields, "top_p");
  if (request.top_p && !(*request.top_p > 0 && *request.top_p <= 1)) {
    throw_bad_request(fmt::format("top_p must be in (0, 1], got {}; use 1 to disable it",
                                  format_number(*request.top_p)));
  }
  request.top_k = read_int32(fields, "top_k");
  if (request.top_k && *request.top_k != -1 && *request.top_k < 1) {
    throw_bad_request(fmt::format(
        "top_k must be -1 (disable) or at least 1, got {}", *request.top_k));
  }
  request.min_p = read_float(fields, "min_p");
  if (request.min_p && !(*request.min_p >= 0 && *request.min_p <= 1)) {
    throw_bad_request(fmt::format("min_p must be in [0, 1], got {}; use 0 to disable it",
                                  format_number(*request.min_p)));
  }
  request.repetition_penalty = read_float(fields, "repetition_penalty");
  if (request.repetition_penalty &&
      !(*request.repetition_penalty > 0 && *request.repetition_penalty <= 2)) {
    throw_bad_request(fmt::format(
        "repetition_penalty must be in (0, 2], got {}; use 1 for no penalty",
        format_number(*request.repetition_penalty)));
  }
  request.frequency_penalty = read_penalty(fields, "frequency_penalty");
  request.presence_penalty = read_penalty(fields, "presence_penalty");
  request.min_tokens = read_int32(fields, names.min_tokens).value_or(0);
  if (request.min_tokens < 0) {
    throw_bad_request(fmt::format("{} must be at least 0, got {}", fields.name(names.min_tokens),
                                  request.min_tokens));
  }
  if (request.max_tokens && request.min_tokens > *request.max_tokens) {
    throw_bad_request(fmt::format("{} ({}) must not exceed {} ({})",
                                  fields.name(names.min_tokens), request.min_tokens, max_key,
                                  *request.max_tokens));
  }

  if (const std::optional<int64_t> seed = fields.integer(names.seed)) {
    request.seed = static_cast<uint64_t>(*seed);
  }
  request.stop = fields.string_or_strings("stop").value_or(std::vector<std::string>{});
  for (int64_t id : fields.integers("stop_token_ids").value_or(std::vector<int64_t>{})) {
    if (id < 0 || id >= vocab_size) {
      throw_bad_request(fmt::format("stop_token_ids contains {}, which is not a token id in "
                                    "[0, {}]",
                                    id, vocab_size - 1));
    }
    request.stop_token_ids.push_back(static_cast<int32_t>(id));
  }
  request.ignore_eos = fields.boolean("ignore_eos").value_or(false);
  request.skip_special_tokens = fields.boolean("skip_special_tokens").value_or(true);
  request.no_stop_trim = fields.boolean("no_stop_trim").value_or(false);
}

// Rejects what glyph cannot honour yet instead of silently ignoring it.
void reject_unsupported(const FieldReader& fields) {
  if (const std::optional<int64_t> n = fields.integer("n"); n && *n != 1) {
    throw_bad_request(fmt::format("n={} is not supported yet; send n=1 (or omit it) and repeat "
                                  "the request for more choices",
                                  *n));
  }
  if (fields.boolean("logprobs").value_or(false)) {
    throw_bad_request("logprobs is not supported yet; send logprobs=false (or omit it)");
  }
  if (const Json* format = fields.object("response_format")) {
    const std::optional<std::string> type = FieldReader(*format, "response_format.").string("type");
    if (type && *type != "text") {
      throw_bad_request(fmt::format(
          "response_format type \"{}\" is not supported yet; omit response_format", *type));
    }
  }
  for (const char* key : {"regex", "ebnf"}) {
    if (fields.has(key)) {
      throw_bad_request(fmt::format("{} (constrained decoding) is not supported yet; omit it",
                                    key));
    }
  }
}

void read_output_options(const FieldReader& fields, ChatRequest& request) {
  request.stream = fields.boolean("stream").value_or(false);
  if (const Json* options = fields.object("stream_options")) {
    const FieldReader option_fields(*options, "stream_options.");
    request.include_usage = option_fields.boolean("include_usage").value_or(false);
    request.continuous_usage_stats =
        option_fields.boolean("continuous_usage_stats").value_or(false);
  }
  request.separate_reasoning = fields.boolean("separate_reasoning").value_or(true);
  request.stream_reasoning = fields.boolean("stream_reasoning").value_or(true);
  if (const Json* kwargs = fields.object("chat_template_kwargs")) {
    request.chat_template_kwargs = *kwargs;
  }
}

void read_scripted_output(const FieldReader& fields, ChatRequest& request) {
  const Json* script = fields.get("_scripted_output");
  if (!script) return;
  if (!script->is_array() || script->empty()) {
    fields.fail_type("_scripted_output", "a non-empty list of strings");
  }
  request.scripted_output = fields.string_or_strings("_scripted_output");
}

}  // namespace

ChatRequest parse_chat_request(const Json& body, int32_t vocab_size, bool allow_scripted_output) {
  if (!body.is_object()) {
    throw_bad_request(fmt::format("the request body must be a JSON object, got {}",
                                  describe_json_type(body)));
  }
  const FieldReader fields(body, "");
  ChatRequest request;
  request.model = fields.string("model").value_or("default");

  reject_unsupported(fields);
  read_messages(fields, request);
  read_sampling(fields, vocab_size, SamplingFieldNames{}, request);
  // After read_sampling: tools turn skip_special_tokens off.
  read_tools(fields, request);
  read_output_options(fields, request);
  if (allow_scripted_output) read_scripted_output(fields, request);
  return request;
}

void read_sampling_fields(const Json& object, const std::string& path, int32_t vocab_size,
                          const SamplingFieldNames& names, ChatRequest& request) {
  read_sampling(FieldReader(object, path), vocab_size, names, request);
}

std::vector<chat::ToolSpec> offered_tools(const ChatRequest& request) {
  return chat::tools_for_choice(request.tools, request.tool_choice);
}

void check_context_fits(const ChatRequest& request, int32_t prompt_tokens,
                        int32_t context_length) {
  if (prompt_tokens >= context_length) {
    throw_bad_request(fmt::format(
        "The input ({} tokens) is longer than the model's context length ({} tokens). Shorten "
        "the messages, or start the server with a larger --context-length.",
        prompt_tokens, context_length));
  }
  if (!request.max_tokens) return;
  const int64_t total = int64_t{prompt_tokens} + *request.max_tokens;
  if (*request.max_tokens > context_length) {
    throw_bad_request(fmt::format(
        "max_completion_tokens is too large: {}. This model supports at most {} completion "
        "tokens.",
        *request.max_tokens, context_length));
  }
  if (total > context_length) {
    throw_bad_request(fmt::format(
        "Requested token count exceeds the model's maximum context length of {} tokens. You "
        "requested a total of {} tokens: {} tokens from the input messages and {} tokens for "
        "the completion. Please reduce the number of tokens in the input messages or the "
        "completion to fit within the limit.",
        context_length, total, prompt_tokens, *request.max_tokens));
  }
}

engine::SamplingParams to_sampling_params(const ChatRequest& request,
                                          const model::GenerationConfig& generation,
                                          int32_t prompt_tokens, int32_t context_length) {
  engine::SamplingParams params;
  params.temperature = request.temperature.value_or(generation.temperature.value_or(1.0f));
  params.top_p = request.top_p.value_or(generation.top_p.value_or(1.0f));
  params.top_k = request.top_k.value_or(generation.top_k.value_or(-1));
  params.min_p = request.min_p.value_or(generation.min_p.value_or(0.0f));
  params.repetition_penalty =
      request.repetition_penalty.value_or(generation.repetition_penalty.value_or(1.0f));
  params.frequency_penalty = request.frequency_penalty;
  params.presence_penalty = request.presence_penalty;
  params.seed = request.seed;
  params.max_new_tokens = request.max_tokens.value_or(context_length - prompt_tokens);
  params.min_new_tokens = request.min_tokens;
  params.stop = request.stop;
  params.stop_token_ids = request.stop_token_ids;
  params.ignore_eos = request.ignore_eos;
  params.skip_special_tokens = request.skip_special_tokens;
  params.no_stop_trim = request.no_stop_trim;
  return params;
}

}  // namespace glyph::server
