#include "core/log.h"

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace glyph::log {

namespace {

// Routes the default logger to stderr so stdout stays free for command output.
struct StderrLogger {
  StderrLogger() {
    auto logger = spdlog::stderr_color_mt("glyph");
    logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v");
    spdlog::set_default_logger(logger);
  }
};

const StderrLogger stderr_logger;

}  // namespace

bool set_level(std::string_view name) {
  if (name == "debug") spdlog::set_level(spdlog::level::debug);
  else if (name == "info") spdlog::set_level(spdlog::level::info);
  else if (name == "warning" || name == "warn") spdlog::set_level(spdlog::level::warn);
  else if (name == "error") spdlog::set_level(spdlog::level::err);
  else if (name == "critical") spdlog::set_level(spdlog::level::critical);
  else return false;
  return true;
}

}  // namespace glyph::log
