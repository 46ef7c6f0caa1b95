#include "server/serving_stack.h"

#include <chrono>
#include <limits>

#include "core/error.h"
#include "core/log.h"
#include "model/text_model.h"
#include "server/chat_tool_constraint.h"

namespace glyph::server {

namespace fs = std::filesystem;

namespace {

model::ComputeType compute_type_for(const std::string& dtype) {
  return dtype == "float32" ? model::ComputeType::kF32 : model::ComputeType::kBF16;
}

}  // namespace

std::unique_ptr<ServingStack> load_serving_stack(const ServeOptions& options) {
  auto stack = std::make_unique<ServingStack>();
  stack->options = options;

  const fs::path tokenizer_dir = options.effective_tokenizer_path();
  const fs::path tokenizer_file = tokenizer_dir / "tokenizer.json";
  stack->tokenizer = text::Tokenizer::load(tokenizer_file);

  const ChatTemplateSource source = find_chat_template(tokenizer_dir, options.chat_template);
  stack->chat_template = chat::ChatTemplate::parse(source.text);
  stack->tokenizer_settings = read_tokenizer_settings(tokenizer_dir);
  log::info("Chat template: {}", source.origin);

  model::LoadOptions load;
  load.model_dir = options.model_path;
  load.compute_type = compute_type_for(options.dtype);
  load.dummy_weights = options.load_format == "dummy";
  load.dummy_seed = options.random_seed.value_or(0);
  std::unique_ptr<model::TextModel> model = model::TextModel::load(load);
  std::unique_ptr<model::VisionModel> vision_model = model::VisionModel::load(load);
  vision::ProcessorConfig processor = vision::ProcessorConfig::load(options.model_path);
  vision::DecodeLimits limits;
  limits.max_bytes = int64_t{options.max_image_mb} << 20;
  stack->image_encoder = std::make_unique<ImageEncoder>(
      std::move(vision_model), processor, limits, size_t{static_cast<size_t>(options.vision_cache_mb)} << 20);
  stack->media_sources.allowed_local_media_path = options.allowed_local_media_path;
  stack->media_sources.allow_remote_media = options.allow_remote_media;
  stack->media_sources.fetch_timeout_seconds = options.media_fetch_timeout;
  stack->media_sources.max_image_bytes = limits.max_bytes;
  log::info("Images: pixels {}..{}, local files {}, remote URLs {}", processor.min_pixels,
            processor.max_pixels,
            options.allowed_local_media_path.empty() ? "off" : options.allowed_local_media_path,
            options.allow_remote_media ? "on" : "off");

  const int32_t max_positions = model->config().text.max_position_embeddings;
  if (options.context_length > max_positions) {
    log::warn("--context-length {} is longer than the model's max_position_embeddings {}; "
              "outputs past {} tokens may be wrong",
              options.context_length, max_positions, max_positions);
  }

  engine::EngineOptions engine_options;
  engine_options.context_length = options.context_length;
  engine_options.max_total_tokens = options.max_total_tokens;
  engine_options.mem_fraction_static = options.mem_fraction_static;
  if (options.chunked_prefill_size > 0) {
    engine_options.chunked_prefill_size = options.chunked_prefill_size;
  } else if (options.chunked_prefill_size < 0) {
    // -1: the whole prompt in one forward pass.
    engine_options.chunked_prefill_size = std::numeric_limits<int32_t>::max();
  }
  engine_options.random_seed = options.random_seed;
  engine_options.allow_scripted_output = options.allow_scripted_output;
  engine_options.max_running_requests = options.max_running_requests;
  engine_options.max_queued_requests = options.max_queued_requests;
  engine_options.kv_page_size = options.page_size;
  engine_options.disable_radix_cache = options.disable_radix_cache;
  engine_options.schedule_policy = options.schedule_policy == "lpm"
                                       ? engine::SchedulePolicy::kLpm
                                       : engine::SchedulePolicy::kFcfs;
  stack->engine =
      std::make_unique<engine::Engine>(std::move(model), stack->tokenizer, engine_options);

  if (!options.tool_call_parser.empty()) {
    const auto start = std::chrono::steady_clock::now();
    stack->tool_grammar_vocabulary = build_tool_grammar_vocabulary(
        *stack->tokenizer, stack->engine->model_config().generation.eos_token_ids);
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    log::info("Tool-call parser: {}; call grammar over {} tokens built in {:.0f} ms",
              options.tool_call_parser, stack->tool_grammar_vocabulary->size(), elapsed.count());
  }
  return stack;
}

void run_warmup(ServingStack& stack) {
  engine::GenerateRequest request;
  request.id = "warmup";
  request.prompt = stack.tokenizer->encode("The capital city of France is");
  request.sampling.temperature = 0.0f;
  request.sampling.max_new_tokens = 8;
  std::shared_ptr<engine::OutputChannel> channel = stack.engine->submit(std::move(request));
  while (true) {
    for (const engine::OutputEvent& event : channel->wait()) {
      if (!event.error.empty()) {
        throw_error(ErrorKind::kInternal, "the warm-up request failed: {}", event.error);
      }
      if (event.finish_reason != engine::FinishReason::kNone) return;
    }
  }
}

}  // namespace glyph::server
