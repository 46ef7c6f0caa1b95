// Logging: one line per event, to stderr, through spdlog.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace glyph::log {

// The stderr logger every glyph component writes to, so stdout stays free
// for command output. Created on first use.
spdlog::logger& logger();

// Sets the level from SGLang's --log-level names: debug, info, warning, error, critical.
// Returns false for an unknown name.
bool set_level(std::string_view name);

template <typename... Args>
void debug(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().debug(format, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().info(format, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().warn(format, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> format, Args&&... args) {
  logger().error(format, std::forward<Args>(args)...);
}

}  // namespace glyph::log
