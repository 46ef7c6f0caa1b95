#include "server/chat_reply.h"

#include <utility>

#include "server/api_error.h"
#include "server/chat_output_parser.h"

namespace glyph::server {

namespace {

using Json = nlohmann::ordered_json;

ChatOutputOptions output_options(const ReplyOptions& options) {
  ChatOutputOptions output;
  output.separate_reasoning = options.separate_reasoning;
  output.stream_reasoning = options.stream_reasoning;
  output.tools = options.tools;
  return output;
}

TokenUsage initial_usage(const ReplyOptions& options) {
  TokenUsage usage;
  usage.image_tokens = options.image_tokens;
  usage.rendered_text_tokens = options.rendered_text_tokens;
  return usage;
}

void update_usage(const engine::OutputEvent& event, TokenUsage& usage) {
  usage.prompt_tokens = event.prompt_tokens;
  usage.completion_tokens = event.completion_tokens;
  usage.cached_tokens = event.cached_tokens;
}

std::string engine_error_message(const std::string& error) {
  return "Internal server error: " + error;
}

// SGLang reports no matched stop for a reply that ends in tool calls.
Json reply_matched_stop(const engine::OutputEvent& event, const char* finish_reason) {
  if (std::string_view(finish_reason) == "tool_calls") return nullptr;
  return matched_stop_json(event.matched_stop);
}

// The parts of a non-streaming reply, gathered from the parser's deltas.
struct CollectedReply {
  std::string reasoning;
  std::string content;
  std::vector<chat::ToolCall> calls;

  void add(ChatOutputDelta delta) {
    reasoning += delta.reasoning;
    for (chat::ToolCallEvent& event : delta.events) {
      switch (event.kind) {
        case chat::ToolCallEventKind::kContent:
          content += event.text;
          break;
        case chat::ToolCallEventKind::kCallStarted:
          calls.push_back({std::move(event.text), ""});
          break;
        case chat::ToolCallEventKind::kArguments:
          calls[static_cast<size_t>(event.index)].arguments += event.text;
          break;
      }
    }
  }

  ReplyMessage message() const {
    ReplyMessage message;
    message.content = text_or_null(content);
    message.reasoning_content = text_or_null(reasoning);
    if (calls.empty()) {
      message.tool_calls = nullptr;
      return message;
    }
    message.tool_calls = Json::array();
    for (size_t i = 0; i < calls.size(); ++i) {
      message.tool_calls.push_back(tool_call_json(new_tool_call_id(), static_cast<int32_t>(i),
                                                  calls[i].name, calls[i].arguments));
    }
    return message;
  }
};

}  // namespace

Json collect_reply(const EventSource& next_events, const ResponseHeader& header,
                   const ReplyOptions& options) {
  ChatOutputParser parser(output_options(options));
  CollectedReply reply;
  TokenUsage usage = initial_usage(options);

  while (true) {
    for (const engine::OutputEvent& event : next_events()) {
      if (!event.error.empty()) throw ApiError(500, engine_error_message(event.error));
      update_usage(event, usage);
      reply.add(parser.push(event.text));
      if (event.finish_reason == engine::FinishReason::kNone) continue;

      reply.add(parser.finish(event.finish_reason));
      const char* finish_reason = reply_finish_reason(event.finish_reason, parser.call_count());
      return chat_completion_json(header, reply.message(), finish_reason,
                                  reply_matched_stop(event, finish_reason),
                                  usage_json(usage, options.cache_report));
    }
  }
}

bool stream_reply(const EventSource& next_events, const ResponseHeader& header,
                  const ReplyOptions& options,
                  const std::function<bool(const std::string&)>& write) {
  ChatOutputParser parser(output_options(options));
  TokenUsage usage = initial_usage(options);

  auto chunk_usage = [&]() -> Json {
    return options.continuous_usage_stats ? usage_json(usage, options.cache_report)
                                          : Json(nullptr);
  };
  auto write_chunk = [&](const Json& delta) {
    return write(sse_event(chunk_json(header, delta, nullptr, nullptr, chunk_usage())));
  };
  // Reasoning goes first, as SGLang sends it, then each content or tool-call
  // event as its own chunk, in the order of the text.
  auto write_delta = [&](const ChatOutputDelta& delta) {
    if (!delta.reasoning.empty() &&
        !write_chunk(delta_json(nullptr, nullptr, delta.reasoning))) {
      return false;
    }
    for (const chat::ToolCallEvent& event : delta.events) {
      Json tool_call;
      switch (event.kind) {
        case chat::ToolCallEventKind::kContent:
          if (!write_chunk(delta_json(nullptr, event.text, nullptr))) return false;
          continue;
        case chat::ToolCallEventKind::kCallStarted:
          tool_call = tool_call_json(new_tool_call_id(), event.index, event.text, "");
          break;
        case chat::ToolCallEventKind::kArguments:
          tool_call = tool_call_json(nullptr, event.index, nullptr, event.text);
          break;
      }
      if (!write_chunk(delta_json(nullptr, nullptr, nullptr, Json::array({tool_call})))) {
        return false;
      }
    }
    return true;
  };

  if (!write_chunk(delta_json("assistant", "", nullptr))) return false;

  while (true) {
    for (const engine::OutputEvent& event : next_events()) {
      if (!event.error.empty()) {
        Json error = Json::object();
        error["error"] = error_body(500, engine_error_message(event.error));
        return write(sse_event(error)) && write(sse_done());
      }
      update_usage(event, usage);
      if (!write_delta(parser.push(event.text))) return false;
      if (event.finish_reason == engine::FinishReason::kNone) continue;

      if (!write_delta(parser.finish(event.finish_reason))) return false;
      const char* finish_reason = reply_finish_reason(event.finish_reason, parser.call_count());
      Json finish = chunk_json(header, delta_json(nullptr, nullptr, nullptr), finish_reason,
                               reply_matched_stop(event, finish_reason), chunk_usage());
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
