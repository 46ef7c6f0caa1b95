// Summary statistics computed the way numpy computes them, so that glyph
// bench prints the same digits as SGLang's bench_serving for the same samples.
//
// bench_serving calls np.mean, np.median, np.std, np.percentile and np.max on
// plain lists of float64, and replaces an empty list by the scalar 0. These
// functions do the same: an empty sample yields 0.
#pragma once

#include <span>

namespace glyph::cli::stats {

// np.sum: pairwise summation in blocks of 128 with eight partial sums, which
// rounds differently from a left-to-right loop once there are 8 or more values.
double sum(std::span<const double> values);

// np.mean: sum(values) / count.
double mean(std::span<const double> values);

// np.std with ddof=0: the square root of the mean squared deviation.
double standard_deviation(std::span<const double> values);

// np.median: the middle value, or the mean of the two middle values.
double median(std::span<const double> values);

// np.percentile(values, q) with the default "linear" method: the sorted
// values interpolated at fractional index (count - 1) * q / 100. `q` is in
// [0, 100].
double percentile(std::span<const double> values, double q);

// np.max.
double max(std::span<const double> values);

}  // namespace glyph::cli::stats
