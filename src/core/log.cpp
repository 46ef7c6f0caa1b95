#include "core/log.h"

#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace glyph::log {

spdlog::logger& logger() {
  static const std::shared_ptr<spdlog::logger> instance = [] {
    auto created = spdlog::stderr_color_mt("glyph");
    created->set_pattern("[%Y-%m-%d %H:%M:%S.%e] %^%l%$ %v");
    spdlog::set_default_logger(created);
    return created;
  }();
  return *instance;
}

bool set_level(std::string_view name) {
  spdlog::level::level_enum level;
  if (name == "debug") level = spdlog::level::debug;
  else if (name == "info") level = spdlog::level::info;
  else if (name == "warning" || name == "warn") level = spdlog::level::warn;
  else if (name == "error") level = spdlog::level::err;
  else if (name == "critical") level = spdlog::level::critical;
  else return false;
  logger().set_level(level);
  return true;
}

}  // namespace glyph::log
