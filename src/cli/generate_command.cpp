#include "cli/generate_command.h"

#include <cstdio>

#include "cli/serve_command.h"
#include "core/error.h"
#include "core/log.h"
#include "server/chat_request.h"
#include "server/prompt_builder.h"
#include "server/serving_stack.h"

namespace glyph::cli {

namespace {

// The prompt text: as given, or rendered as one user turn.
std::string build_prompt(const GenerateOptions& options, const server::ServingStack& stack) {
  if (!options.chat) return options.prompt;
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body["messages"] = nlohmann::ordered_json::array(
      {nlohmann::ordered_json{{"role", "user"}, {"content", options.prompt}}});
  if (options.disable_thinking) body["chat_template_kwargs"] = {{"enable_thinking", false}};
  const server::ChatRequest request =
      server::parse_chat_request(body, stack.tokenizer->vocab_size(), false);
  return server::render_prompt(
      *stack.chat_template,
      server::build_template_context(request, stack.tokenizer_settings.special_tokens));
}

}  // namespace

void add_generate_flags(CLI::App& command, GenerateOptions& options) {
  add_model_flags(command, options.model);

  command.add_option("--prompt", options.prompt, "Prompt text")->required();
  command.add_flag("--chat", options.chat,
                   "Send the prompt as a user message through the chat template");
  command.add_flag("--disable-thinking", options.disable_thinking,
                   "With --chat: render the template with enable_thinking=false");
  command.add_option("--max-new-tokens", options.max_new_tokens, "Tokens to generate at most")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();

  command.add_option_function<float>(
      "--temperature", [&options](const float& value) { options.temperature = value; },
      "Sampling temperature; 0 is greedy (default: generation_config.json, else 1)")
      ->check(CLI::NonNegativeNumber);
  command.add_option_function<float>(
      "--top-p", [&options](const float& value) { options.top_p = value; }, "Top-p in (0, 1]")
      ->check(CLI::Range(0.0, 1.0));
  command.add_option_function<int32_t>(
      "--top-k", [&options](const int32_t& value) { options.top_k = value; },
      "Top-k; -1 disables it");
  command.add_option_function<float>(
      "--min-p", [&options](const float& value) { options.min_p = value; }, "Min-p in [0, 1]")
      ->check(CLI::Range(0.0, 1.0));
  command.add_option_function<float>(
      "--repetition-penalty",
      [&options](const float& value) { options.repetition_penalty = value; },
      "Repetition penalty in (0, 2]")
      ->check(CLI::Range(0.0, 2.0));
  command.add_option_function<uint64_t>(
      "--seed", [&options](const uint64_t& value) { options.seed = value; },
      "Seed of this request's sampler");

  command.add_flag("--ignore-eos", options.ignore_eos, "Keep generating past the eos token");
}

int run_generate(const GenerateOptions& options) {
  server::ServeOptions model_options = options.model;
  std::unique_ptr<server::ServingStack> stack = server::load_serving_stack(model_options);
  engine::Engine& engine = *stack->engine;

  server::ChatRequest sampling_request;
  sampling_request.max_tokens = options.max_new_tokens;
  sampling_request.temperature = options.temperature;
  sampling_request.top_p = options.top_p;
  sampling_request.top_k = options.top_k;
  sampling_request.min_p = options.min_p;
  sampling_request.repetition_penalty = options.repetition_penalty;
  sampling_request.seed = options.seed;
  sampling_request.ignore_eos = options.ignore_eos;

  engine::GenerateRequest request;
  request.id = "generate";
  request.prompt = stack->tokenizer->encode(build_prompt(options, *stack));
  const auto prompt_tokens = static_cast<int32_t>(request.prompt.size());
  server::check_context_fits(sampling_request, prompt_tokens, engine.context_length());
  request.sampling = server::to_sampling_params(sampling_request, engine.model_config().generation,
                                                prompt_tokens, engine.context_length());

  std::shared_ptr<engine::OutputChannel> channel = engine.submit(std::move(request));
  while (true) {
    for (const engine::OutputEvent& event : channel->wait()) {
      if (!event.error.empty()) {
        throw_error(ErrorKind::kInternal, "generation failed: {}", event.error);
      }
      std::fwrite(event.text.data(), 1, event.text.size(), stdout);
      std::fflush(stdout);
      if (event.finish_reason == engine::FinishReason::kNone) continue;

      std::fputc('\n', stdout);
      std::fflush(stdout);
      log::info("Finished ({}): {} prompt tokens, {} generated tokens",
                engine::to_string(event.finish_reason), event.prompt_tokens,
                event.completion_tokens);
      return 0;
    }
  }
}

}  // namespace glyph::cli
