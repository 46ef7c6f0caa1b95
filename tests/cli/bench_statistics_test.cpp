// numpy's definitions, checked on worked examples. Values marked "numpy"
// were printed by numpy 2.x for the same inputs.
#include "cli/bench_statistics.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace glyph::cli::stats {
namespace {

// 300 values whose left-to-right sum (195.00000000000003) differs from
// numpy's pairwise sum (195.0); built from exact operations only.
std::vector<double> three_hundred_values() {
  std::vector<double> values;
  for (int i = 0; i < 300; ++i) values.push_back((i * 7919 % 1000) / 1000.0 + i * 1e-3);
  return values;
}

TEST(Percentile, InterpolatesBetweenNeighbours) {
  // Sorted [1, 2, 3, 4]: index (4 - 1) * 0.99 = 2.97 lies between 3 and 4,
  // 0.97 of the way: 4 - (4 - 3) * 0.03 = 3.97 (numpy: 3.9699999999999998).
  const std::vector<double> values = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(values, 99), 3.9699999999999998);
}

TEST(Percentile, NinetyFifthOfOneToTen) {
  // Index 9 * 0.95 = 8.55: 9 + 0.55 * (10 - 9) (numpy: 9.549999999999999).
  std::vector<double> values;
  for (int i = 1; i <= 10; ++i) values.push_back(i);
  EXPECT_DOUBLE_EQ(percentile(values, 95), 9.549999999999999);
}

TEST(Percentile, ExactIndexNeedsNoInterpolation) {
  // Index 2 * 0.5 = 1 is the middle value.
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{5, 1, 3}, 50), 3.0);
}

TEST(Percentile, EndsAreMinimumAndMaximum) {
  const std::vector<double> values = {0.3, 0.1, 0.2};
  EXPECT_DOUBLE_EQ(percentile(values, 0), 0.1);
  EXPECT_DOUBLE_EQ(percentile(values, 100), 0.3);
}

TEST(Percentile, SingleValueIsEveryPercentile) {
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{10}, 99), 10.0);
}

TEST(Percentile, EmptySampleIsZero) {
  // bench_serving passes `values or 0`, and np.percentile(0, q) is 0.
  EXPECT_DOUBLE_EQ(percentile(std::vector<double>{}, 99), 0.0);
}

TEST(Percentile, RejectsOutOfRangeQ) {
  EXPECT_THROW(percentile(std::vector<double>{1}, 101), std::invalid_argument);
}

TEST(Percentile, LargeSampleMatchesNumpy) {
  const std::vector<double> values = three_hundred_values();
  EXPECT_DOUBLE_EQ(percentile(values, 99), 1.24);
  EXPECT_DOUBLE_EQ(percentile(values, 95), 1.12);
}

TEST(Median, EvenCountAveragesMiddlePair) {
  EXPECT_DOUBLE_EQ(median(std::vector<double>{4, 1, 3, 2}), 2.5);
}

TEST(Median, OddCountTakesMiddle) {
  EXPECT_DOUBLE_EQ(median(std::vector<double>{3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median(three_hundred_values()), 0.64);
}

TEST(Sum, TenTenthsAddUpLikeNumpy) {
  // Eight partial sums of 0.1, combined pairwise to 0.8, plus two more 0.1
  // give exactly 1.0; a left-to-right loop gives 0.9999999999999999.
  const std::vector<double> values(10, 0.1);
  EXPECT_EQ(sum(values), 1.0);
}

TEST(Sum, RecursesAboveBlockSize) {
  const std::vector<double> values = three_hundred_values();
  double left_to_right = 0.0;
  for (double value : values) left_to_right += value;
  EXPECT_EQ(left_to_right, 195.00000000000003);
  EXPECT_EQ(sum(values), 195.0);
}

TEST(Mean, DividesPairwiseSum) {
  EXPECT_EQ(mean(three_hundred_values()), 0.65);
  EXPECT_DOUBLE_EQ(mean(std::vector<double>{}), 0.0);
}

TEST(StandardDeviation, PopulationDefinition) {
  // Deviations from 2.5 are ±0.5 and ±1.5; their mean square is 1.25.
  EXPECT_DOUBLE_EQ(standard_deviation(std::vector<double>{1, 2, 3, 4}), std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(standard_deviation(three_hundred_values()), 0.3042477060992682);
}

TEST(Max, LargestOrZero) {
  EXPECT_DOUBLE_EQ(max(std::vector<double>{0.2, 0.9, 0.1}), 0.9);
  EXPECT_DOUBLE_EQ(max(std::vector<double>{}), 0.0);
}

}  // namespace
}  // namespace glyph::cli::stats
