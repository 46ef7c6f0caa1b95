// POST /v1/chat/completions requests: parsing and validation of SGLang's
// ChatCompletionRequest fields, and the sampling parameters they give.
//
// Unknown fields are ignored, as SGLang's pydantic models ignore them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/tool_schema.h"
#include "engine/sampling.h"
#include "model/config.h"

namespace glyph::server {

// Text the server renders into page images before the model reads it:
// {"type": "rendered_text", "rendered_text": {"text": ..., "dpi": 72}}.
struct RenderedTextPart {
  std::string text;
  std::optional<int32_t> dpi;
  std::optional<double> font_size;
  std::optional<double> line_height;
};

// An image the prompt shows the model: an image_url part, or a
// rendered_text part, which becomes one image per rendered page.
struct MediaPart {
  std::string path;  // Its place in the request, e.g. messages[0].content[1].
  std::string url;   // image_url.url; empty for rendered text.
  std::optional<RenderedTextPart> rendered_text;
};

struct ChatRequest {
  std::string model = "default";  // Echoed in responses, as SGLang does; not checked.

  // Messages in the form the chat template reads: roles lower-cased, null content
  // as "", image_url and rendered_text parts as {"type": "image", "media_index": i}
  // (an index into media), and assistant tool-call arguments parsed from their
  // JSON strings into objects.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::vector<MediaPart> media;  // In prompt order.

  // The request's tools, validated, and tool_choice. A request without tools
  // has tool_choice none, whatever it sent.
  std::vector<chat::ToolSpec> tools;
  chat::ToolChoice tool_choice;
  bool parallel_tool_calls = true;
  // The tools the template shows the model: each offered tool's function
  // object as SGLang 0.5 passes them ({"description", "name", "parameters",
  // "strict"}). All tools, the named one for a named tool_choice, and null
  // for tool_choice none.
  nlohmann::ordered_json template_tools;
  nlohmann::ordered_json chat_template_kwargs = nlohmann::ordered_json::object();

  // Sampling. Unset values fall back to generation_config.json, then to
  // OpenAI's defaults (see to_sampling_params).
  std::optional<int32_t> max_tokens;  // max_completion_tokens, else max_tokens.
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  float frequency_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int32_t min_tokens = 0;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  bool skip_special_tokens = true;
  bool no_stop_trim = false;

  // Output.
  bool stream = false;
  bool include_usage = false;           // stream_options.include_usage
  bool continuous_usage_stats = false;  // stream_options.continuous_usage_stats
  bool separate_reasoning = true;
  bool stream_reasoning = true;

  // Test seam: pieces of text, each tokenized on its own, that replace the
  // model's output. Read only when the server allows it.
  std::optional<std::vector<std::string>> scripted_output;
};

// Parses and validates a request body. Throws ApiError(400) naming the
// field and the fix. vocab_size bounds stop_token_ids.
ChatRequest parse_chat_request(const nlohmann::ordered_json& body, int32_t vocab_size,
                               bool allow_scripted_output);

// Field names that differ between the OpenAI requests and SGLang's native
// /generate sampling_params.
struct SamplingFieldNames {
  const char* max_tokens = "max_tokens";  // Native: max_new_tokens.
  const char* min_tokens = "min_tokens";  // Native: min_new_tokens.
  const char* seed = "seed";              // Native: sampling_seed.
};

// Reads and validates the sampling fields of one JSON object (a completion
// request, or /generate's sampling_params) into request's sampling fields.
// path prefixes field names in error messages.
void read_sampling_fields(const nlohmann::ordered_json& object, const std::string& path,
                          int32_t vocab_size, const SamplingFieldNames& names,
                          ChatRequest& request);

// The tools a reply to the request may call: tools_for_choice() of its tools.
std::vector<chat::ToolSpec> offered_tools(const ChatRequest& request);

// Checks that the prompt and the requested completion fit the context,
// with SGLang's messages. Throws ApiError(400).
void check_context_fits(const ChatRequest& request, int32_t prompt_tokens, int32_t context_length);

// The engine's sampling parameters. Priority for temperature, top_p, top_k,
// min_p and repetition_penalty: the request, then generation_config.json,
// then OpenAI's defaults. max_new_tokens defaults to what fits the context.
engine::SamplingParams to_sampling_params(const ChatRequest& request,
                                          const model::GenerationConfig& generation,
                                          int32_t prompt_tokens, int32_t context_length);

}  // namespace glyph::server
