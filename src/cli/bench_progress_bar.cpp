#include "cli/bench_progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace glyph::cli {

namespace {

constexpr int kBarWidth = 10;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

// "MM:SS", or "H:MM:SS" from one hour on, as tqdm writes durations.
std::string format_duration(double seconds) {
  const auto total = static_cast<int64_t>(std::max(0.0, seconds));
  const int64_t hours = total / 3600;
  const int64_t minutes = total / 60 % 60;
  const int64_t secs = total % 60;
  if (hours > 0) return fmt::format("{}:{:02d}:{:02d}", hours, minutes, secs);
  return fmt::format("{:02d}:{:02d}", minutes, secs);
}

}  // namespace

ProgressBar::ProgressBar(int64_t total, bool enabled, std::FILE* stream)
    : total_(total),
      enabled_(enabled),
      interactive_(isatty(fileno(stream)) == 1),
      stream_(stream),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  std::lock_guard lock(mutex_);
  if (enabled_ && interactive_) draw_locked(false);
}

ProgressBar::~ProgressBar() { close(); }

void ProgressBar::advance() {
  std::lock_guard lock(mutex_);
  ++done_;
  if (!enabled_ || !interactive_ || closed_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= kRedrawInterval || done_ == total_) draw_locked(false);
}

void ProgressBar::close() {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  if (enabled_) draw_locked(true);
}

void ProgressBar::draw_locked(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const std::string text = render(done_, total_, elapsed);
  if (interactive_) {
    std::fprintf(stream_, "\r%s%s", text.c_str(), final ? "\n" : "");
  } else if (final) {
    std::fprintf(stream_, "%s\n", text.c_str());
  }
  std::fflush(stream_);
}

std::string ProgressBar::render(int64_t done, int64_t total, double elapsed_s) {
  const double fraction =
      total > 0 ? std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0)
                : 1.0;
  const int filled = static_cast<int>(fraction * kBarWidth);
  const std::string bar = std::string(static_cast<size_t>(filled), '#') +
                          std::string(static_cast<size_t>(kBarWidth - filled), ' ');

  const double rate = elapsed_s > 0.0 ? static_cast<double>(done) / elapsed_s : 0.0;
  const std::string remaining =
      rate > 0.0 ? format_duration(static_cast<double>(total - done) / rate) : "?";
  return fmt::format("{:3d}%|{}| {}/{} [{}<{}, {:5.2f}it/s]", static_cast<int>(fraction * 100), bar,
                     done, total, format_duration(elapsed_s), remaining, rate);
}

}  // namespace glyph::cli
