#include "server/chat_reply.h"

#include <optional>

#include "chat/reasoning_parser.h"
#include "server/api_error.h"

namespace glyph::server {

namespace {

using Json = nlohmann::ordered_json;

// Routes generated text to reasoning and content, or all of it to content
// when reasoning is not separated.
class TextSplitter {
 public:
  explicit TextSplitter(const ReplyOptions& options) {
    if (options.separate_reasoning) parser_.emplace(options.stream_reasoning);
  }

  chat::ReasoningDelta push(const std::string& text) {
    if (!parser_) return {"", text};
    return parser_->push(text);
  }

  chat::ReasoningDelta finish(engine::FinishReason reason) {
    if (!parser_) return {};
    return parser_->finish(reason == engine::FinishReason::kStop);
  }

 private:
  std::optional<chat::ReasoningParser> parser_;
};

void update_usage(const engine::OutputEvent& event, TokenUsage& usage) {
  usage.prompt_tokens = event.prompt_tokens;
  usage.completion_tokens = event.completion_tokens;
  usage.cached_tokens = event.cached_tokens;
}

std::string engine_error_message(const std::string& error) {
  return "Internal server error: " + error;
}

}  // namespace

Json collect_reply(const EventSource& next_events, const ResponseHeader& header,
                   const ReplyOptions& options) {
  TextSplitter splitter(options);
  std::string reasoning;
  std::string content;
  TokenUsage usage;

  while (true) {
    for (const engine::OutputEvent& event : next_events()) {
      if (!event.error.empty()) throw ApiError(500, engine_error_message(event.error));
      update_usage(event, usage);
      chat::ReasoningDelta delta = splitter.push(event.text);
      reasoning += delta.reasoning;
      content += delta.content;
      if (event.finish_reason == engine::FinishReason::kNone) continue;

      chat::ReasoningDelta tail = splitter.finish(event.finish_reason);
      reasoning += tail.reasoning;
      content += tail.content;
      return chat_completion_json(header, text_or_null(content), text_or_null(reasoning),
                                  engine::to_string(event.finish_reason),
                                  matched_stop_json(event.matched_stop),
                                  usage_json(usage, options.cache_report));
    }
  }
}

bool stream_reply(const EventSource& next_events, const ResponseHeader& header,
                  const ReplyOptions& options,
                  const std::function<bool(const std::string&)>& write) {
  TextSplitter splitter(options);
  TokenUsage usage;

  auto chunk_usage = [&]() -> Json {
    return options.continuous_usage_stats ? usage_json(usage, options.cache_report)
                                          : Json(nullptr);
  };
  // Reasoning goes first, as SGLang sends it, then content, each as its own chunk.
  auto write_delta = [&](const chat::ReasoningDelta& delta) {
    if (!delta.reasoning.empty()) {
      Json chunk = chunk_json(header, delta_json(nullptr, nullptr, delta.reasoning), nullptr,
                              nullptr, chunk_usage());
      if (!write(sse_event(chunk))) return false;
    }
    if (!delta.content.empty()) {
      Json chunk = chunk_json(header, delta_json(nullptr, delta.content, nullptr), nullptr,
                              nullptr, chunk_usage());
      if (!write(sse_event(chunk))) return false;
    }
    return true;
  };

  if (!write(sse_event(chunk_json(header, delta_json("assistant", "", nullptr), nullptr, nullptr,
                                  chunk_usage())))) {
    return false;
  }

  while (true) {
    for (const engine::OutputEvent& event : next_events()) {
      if (!event.error.empty()) {
        Json error = Json::object();
        error["error"] = error_body(500, engine_error_message(event.error));
        return write(sse_event(error)) && write(sse_done());
      }
      update_usage(event, usage);
      if (!write_delta(splitter.push(event.text))) return false;
      if (event.finish_reason == engine::FinishReason::kNone) continue;

      if (!write_delta(splitter.finish(event.finish_reason))) return false;
      Json finish = chunk_json(header, delta_json(nullptr, nullptr, nullptr),
                               engine::to_string(event.finish_reason),
                               matched_stop_json(event.matched_stop), chunk_usage());
      if (!write(sse_event(finish))) return false;
      if (options.include_usage &&
          !write(sse_event(usage_chunk_json(header, usage_json(usage, options.cache_report))))) {
        return false;
      }
      return write(sse_done());
    }
  }
}

}  // namespace glyph::server
