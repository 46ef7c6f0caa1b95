// Logging: one line per event, to stderr, through spdlog.
#pragma once

#include <string_view>

#include <spdlog/spdlog.h>

namespace glyph::log {

// Sets the level from SGLang's --log-level names: debug, info, warning, error, critical.
// Returns false for an unknown name.
bool set_level(std::string_view name);

template <typename... Args>
void debug(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::debug(format, std::forward<Args>(args)...);
}
template <typename... Args>
void info(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::info(format, std::forward<Args>(args)...);
}
template <typename... Args>
void warn(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::warn(format, std::forward<Args>(args)...);
}
template <typename... Args>
void error(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::error(format, std::forward<Args>(args)...);
}

}  // namespace glyph::log
