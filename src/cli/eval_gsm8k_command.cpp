#include "cli/eval_gsm8k_command.h"

#include <iostream>
#include <memory>

namespace glyph::cli {

void add_gsm8k_flags(CLI::App& command, Gsm8kOptions& options) {
  command.add_option("--data-path", options.data_path,
                     "GSM8K test.jsonl (openai/grade-school-math); required, never downloaded");
  command.add_option("--num-questions", options.num_questions, "Questions to ask, from the first")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--num-shots", options.num_shots,
                  "Worked examples before each question, from the first")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--parallel", options.parallel, "Requests in flight at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--max-new-tokens", options.max_new_tokens, "Output tokens per reply")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command.add_option("--temperature", options.temperature, "Sampling temperature")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command.add_option("--host", options.host, "Server URL without the port")->capture_default_str();
  command.add_option("--port", options.port, "Server port")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  command.add_option_function<std::string>(
      "--output-file", [&options](const std::string& path) { options.output_file = path; },
      "JSONL file of each question's prompt, reply, prediction, label and verdict");
  command.add_flag("--disable-tqdm", options.disable_tqdm, "Do not draw the progress bar");
}

void add_eval_command(CLI::App& app) {
  CLI::App* eval =
      app.add_subcommand("eval", "Measure accuracy on a benchmark against a running server");
  eval->require_subcommand(1);

  auto options = std::make_shared<Gsm8kOptions>();
  CLI::App* gsm8k = eval->add_subcommand(
      "gsm8k", "Few-shot GSM8K accuracy through /generate (SGLang's test.few_shot_gsm8k)");
  add_gsm8k_flags(*gsm8k, *options);
  gsm8k->callback([options] {
    const int exit_code = run_gsm8k(*options, std::cout);
    if (exit_code != 0) throw CLI::RuntimeError(exit_code);
  });
}

}  // namespace glyph::cli
