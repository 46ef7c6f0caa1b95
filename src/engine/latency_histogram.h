// A Prometheus-style histogram of durations in seconds, safe to update from
// the scheduler thread while the metrics route reads it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace glyph::engine {

class LatencyHistogram {
 public:
  explicit LatencyHistogram(std::vector<double> upper_bounds)
      : upper_bounds_(std::move(upper_bounds)),
        counts_(std::make_unique<std::atomic<int64_t>[]>(upper_bounds_.size() + 1)) {}

  void observe(double seconds) {
    size_t bucket = 0;
    while (bucket < upper_bounds_.size() && seconds > upper_bounds_[bucket]) ++bucket;
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    // Sum in microseconds, so it fits an atomic integer.
    sum_micros_.fetch_add(static_cast<int64_t>(seconds * 1e6), std::memory_order_relaxed);
  }

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Observations in bucket i (i == upper_bounds().size(): above the last bound).
  int64_t bucket_count(size_t i) const { return counts_[i].load(std::memory_order_relaxed); }
  double sum_seconds() const { return static_cast<double>(sum_micros_.load()) * 1e-6; }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> counts_;
  std::atomic<int64_t> sum_micros_{0};
};

}  // namespace glyph::engine
