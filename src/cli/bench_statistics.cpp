#include "cli/bench_statistics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace glyph::cli::stats {

namespace {

// The block size below which numpy's pairwise summation stops recursing.
constexpr size_t kPairwiseBlock = 128;

// numpy's pairwise_sum for contiguous float64 (numpy/_core/src/umath/loops_utils.h.src).
double pairwise_sum(const double* values, size_t count) {
  if (count < 8) {
    double total = 0.0;
    for (size_t i = 0; i < count; ++i) total += values[i];
    return total;
  }

  if (count <= kPairwiseBlock) {
    double partial[8];
    for (size_t j = 0; j < 8; ++j) partial[j] = values[j];
    size_t i = 8;
    for (; i < count - count % 8; i += 8) {
      for (size_t j = 0; j < 8; ++j) partial[j] += values[i + j];
    }
    double total = ((partial[0] + partial[1]) + (partial[2] + partial[3])) +
                   ((partial[4] + partial[5]) + (partial[6] + partial[7]));
    for (; i < count; ++i) total += values[i];
    return total;
  }

  size_t half = count / 2;
  half -= half % 8;
  return pairwise_sum(values, half) + pairwise_sum(values + half, count - half);
}

std::vector<double> sorted_copy(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

// numpy's _lerp: a + (b - a) * t, computed from b's side when t >= 0.5 so
// that t = 1 returns b exactly.
double lerp(double a, double b, double t) {
  const double difference = b - a;
  if (t >= 0.5) return b - difference * (1.0 - t);
  return a + difference * t;
}

}  // namespace

double sum(std::span<const double> values) { return pairwise_sum(values.data(), values.size()); }

double mean(std::span<const double> values) {
  if (values.empty()) return 0.0;
  return sum(values) / static_cast<double>(values.size());
}

double standard_deviation(std::span<const double> values) {
  if (values.empty()) return 0.0;
  const double average = mean(values);
  std::vector<double> squared_deviations;
  squared_deviations.reserve(values.size());
  for (double value : values) {
    const double deviation = value - average;
    squared_deviations.push_back(deviation * deviation);
  }
  return std::sqrt(mean(squared_deviations));
}

double median(std::span<const double> values) {
  if (values.empty()) return 0.0;
  const std::vector<double> sorted = sorted_copy(values);
  const size_t middle = sorted.size() / 2;
  if (sorted.size() % 2 == 1) return sorted[middle];
  return (sorted[middle - 1] + sorted[middle]) / 2.0;
}

double percentile(std::span<const double> values, double q) {
  if (q < 0.0 || q > 100.0) {
    throw std::invalid_argument(fmt::format("percentile {} is outside [0, 100]", q));
  }
  if (values.empty()) return 0.0;
  const std::vector<double> sorted = sorted_copy(values);
  const size_t count = sorted.size();

  // numpy divides q by 100 first, then scales by count - 1.
  const double index = static_cast<double>(count - 1) * (q / 100.0);
  if (index >= static_cast<double>(count - 1)) return sorted.back();
  const double below = std::floor(index);
  const size_t below_index = static_cast<size_t>(below);
  return lerp(sorted[below_index], sorted[below_index + 1], index - below);
}

double max(std::span<const double> values) {
  if (values.empty()) return 0.0;
  return *std::max_element(values.begin(), values.end());
}

}  // namespace glyph::cli::stats
