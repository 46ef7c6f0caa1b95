#include "engine/stop_strings.h"

#include <algorithm>

namespace glyph::engine {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops, bool keep_stop)
    : keep_stop_(keep_stop) {
  for (std::string& stop : stops) {
    if (!stop.empty()) stops_.push_back(std::move(stop));
  }
}

StopStringMatcher::Result StopStringMatcher::push(std::string_view text) {
  Result result;
  if (matched_) return result;
  held_.append(text);

  // The earliest occurrence wins; among stops starting at the same byte, the longest.
  size_t best_pos = std::string::npos;
  const std::string* best = nullptr;
  for (const std::string& stop : stops_) {
    const size_t pos = held_.find(stop);
    if (pos == std::string::npos) continue;
    if (pos < best_pos || (pos == best_pos && stop.size() > best->size())) {
      best_pos = pos;
      best = &stop;
    }
  }
  if (best != nullptr) {
    matched_ = true;
    result.text = held_.substr(0, keep_stop_ ? best_pos + best->size() : best_pos);
    result.matched = *best;
    held_.clear();
    return result;
  }

  // Hold back the longest tail of the text that is a proper prefix of a stop string.
  size_t hold = 0;
  for (const std::string& stop : stops_) {
    const size_t limit = std::min(stop.size() - 1, held_.size());
    for (size_t length = limit; length > hold; --length) {
      if (held_.compare(held_.size() - length, length, stop, 0, length) == 0) {
        hold = length;
        break;
      }
    }
  }
  result.text = held_.substr(0, held_.size() - hold);
  held_.erase(0, held_.size() - hold);
  return result;
}

std::string StopStringMatcher::flush() {
  std::string rest;
  rest.swap(held_);
  return rest;
}

}  // namespace glyph::engine
