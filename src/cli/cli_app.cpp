#include "cli/cli_app.h"

#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/bench_command.h"
#include "cli/eval_gsm8k_command.h"
#include "cli/generate_command.h"
#include "cli/render_command.h"
#include "cli/serve_command.h"
#include "core/log.h"

namespace glyph::cli {

namespace {

// Prints a parse error the way users can act on: the message, then where the flags are listed.
int report_usage_error(const std::string& command, const std::string& message) {
  std::cerr << "error: " << message << "\n"
            << "Run '" << command << " --help' to list the flags.\n";
  return kExitUsage;
}

}  // namespace

int run(int argc, char** argv, const CliHooks& hooks) {
  CLI::App app("glyph: serves GLM Glyph models with SGLang's API", "glyph");
  app.require_subcommand(1);

  server::ServeOptions serve_options;
  serve_options.allow_scripted_output = hooks.allow_scripted_output;
  CLI::App* serve = app.add_subcommand(
      "serve", "Start the OpenAI-compatible HTTP server (SGLang's launch_server flags)");
  add_serve_flags(*serve, serve_options);

  GenerateOptions generate_options;
  CLI::App* generate =
      app.add_subcommand("generate", "Run one request without a server and print the text");
  add_generate_flags(*generate, generate_options);

  // bench, eval and render run inside their CLI11 callbacks, during app.parse().
  add_bench_command(app);
  add_eval_command(app);
  add_render_command(app);

  // CLI11 reports a mistyped command as a missing one; name it instead.
  const std::string first_argument = argc > 1 ? argv[1] : "";
  if (!first_argument.empty() && first_argument[0] != '-' && first_argument != "serve" &&
      first_argument != "generate" && first_argument != "bench" && first_argument != "eval" &&
      first_argument != "render") {
    return report_usage_error(
        "glyph", fmt::format("unknown command \"{}\"; use serve, generate, bench, eval or render",
                             first_argument));
  }

  try {
    app.parse(argc, argv);
    if (serve->parsed()) check_serve_options(serve_options);
  } catch (const CLI::RuntimeError& error) {
    return error.get_exit_code();  // A bench, eval or render run failed and printed why.
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
      return app.exit(error);  // --help
    }
    const std::string command = serve->parsed()      ? "glyph serve"
                                : generate->parsed() ? "glyph generate"
                                                     : "glyph";
    return report_usage_error(command, error.what());
  } catch (const UsageError& error) {
    return report_usage_error("glyph serve", error.what());
  }

  if (!serve->parsed() && !generate->parsed()) return 0;  // bench, eval or render already ran.

  const std::string& log_level =
      serve->parsed() ? serve_options.log_level : generate_options.model.log_level;
  log::set_level(log_level);

  try {
    if (serve->parsed()) return run_serve(serve_options);
    return run_generate(generate_options);
  } catch (const std::exception& error) {
    log::error("{}", error.what());
    return kExitFailure;
  }
}

}  // namespace glyph::cli
