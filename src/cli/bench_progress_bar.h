// A tqdm-style progress bar on stderr for glyph bench and glyph eval:
// "100%|##########| 20/20 [00:03<00:00,  6.25it/s]".
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace glyph::cli {

class ProgressBar {
 public:
  // Draws nothing when `enabled` is false. On a terminal the bar is redrawn
  // in place at most ten times a second. Elsewhere only the final state is
  // printed, so that logs get one line.
  ProgressBar(int64_t total, bool enabled, std::FILE* stream = stderr);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Counts one finished item. Safe to call from several threads.
  void advance();

  // Prints the final state and a newline. Later calls do nothing.
  void close();

  // The bar's text for `done` of `total` after `elapsed_s` seconds.
  static std::string render(int64_t done, int64_t total, double elapsed_s);

 private:
  void draw_locked(bool final);

  std::mutex mutex_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool interactive_;
  bool closed_ = false;
  std::FILE* stream_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace glyph::cli
