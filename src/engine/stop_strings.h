// Stop strings over streamed text: finds the first stop string in the
// output and holds back any tail that could still grow into one, so text
// that is sent never has to be taken back.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace glyph::engine {

class StopStringMatcher {
 public:
  StopStringMatcher(std::vector<std::string> stops, bool keep_stop);

  struct Result {
    std::string text;                   // Text that is safe to send now.
    std::optional<std::string> matched;  // The stop string that ended the output.
  };

  // Adds newly decoded text. After a match, further calls return nothing.
  Result push(std::string_view text);
  // Returns what is still held back, when the output ends for another reason.
  std::string flush();

 private:
  std::vector<std::string> stops_;
  bool keep_stop_;
  bool matched_ = false;
  std::string held_;
};

}  // namespace glyph::engine
