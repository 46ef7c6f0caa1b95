// The random streams must match numpy 2.x and CPython 3.11 draw for draw.
// Expected values were printed by those libraries, e.g.
// `np.random.seed(1); np.random.randint(1, 1001, size=10)`.
#include "cli/bench_random.h"

#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace glyph::cli {
namespace {

TEST(Mt19937, MatchesStandardLibraryEngine) {
  Mt19937 ours;
  ours.seed(5489);
  std::mt19937 reference(5489);
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(ours.next_uint32(), reference()) << "draw " << i;
}

TEST(NumpyRandomState, RandintMatchesNumpy) {
  NumpyRandomState random(1);
  EXPECT_EQ(random.randint(1, 1001, 10),
            (std::vector<int64_t>{38, 236, 909, 73, 768, 906, 716, 646, 848, 961}));
  EXPECT_EQ(random.randint(1, 1001, 10),
            (std::vector<int64_t>{145, 130, 973, 584, 750, 509, 391, 282, 179, 277}));
}

TEST(NumpyRandomState, RandintOffsetRangeMatchesNumpy) {
  NumpyRandomState random(1);
  EXPECT_EQ(random.randint(500, 1001, 6), (std::vector<int64_t>{537, 735, 896, 572, 755, 893}));
}

TEST(NumpyRandomState, RandintWideRangeUsesTwoWords) {
  NumpyRandomState random(1);
  EXPECT_EQ(random.randint(0, int64_t{1} << 40, 3),
            (std::vector<int64_t>{163196666091, 605300724808, 1095766950793}));
}

TEST(NumpyRandomState, SingleValueRangeConsumesNoDraw) {
  // np.random.seed(3); randint(0, 1, 3); randint(5, 6, 2); randint(1, 2**32, 2)
  NumpyRandomState random(3);
  EXPECT_EQ(random.randint(0, 1, 3), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(random.randint(5, 6, 2), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(random.randint(1, int64_t{1} << 32, 2), (std::vector<int64_t>{2365658987, 303761049}));
}

TEST(NumpyRandomState, LargestSeedMatchesNumpy) {
  NumpyRandomState random(4294967295u);
  EXPECT_EQ(random.randint(10, 20, 5), (std::vector<int64_t>{13, 12, 17, 14, 10}));
}

TEST(NumpyRandomState, RandomSampleMatchesNumpy) {
  NumpyRandomState random(1);
  EXPECT_DOUBLE_EQ(random.random_sample(), 0.417022004702574);
}

TEST(NumpyRandomState, ExponentialMatchesNumpy) {
  // np.random.seed(7); np.random.exponential(0.25, size=4)
  NumpyRandomState random(7);
  EXPECT_DOUBLE_EQ(random.exponential(0.25), 0.019844227380361127);
  EXPECT_DOUBLE_EQ(random.exponential(0.25), 0.3784396686396967);
  EXPECT_DOUBLE_EQ(random.exponential(0.25), 0.14424546603912894);
  EXPECT_DOUBLE_EQ(random.exponential(0.25), 0.3213546317052027);
}

TEST(NumpyRandomState, RandintRejectsEmptyRange) {
  NumpyRandomState random(1);
  EXPECT_THROW(random.randint(5, 5), std::invalid_argument);
}

TEST(PythonRandom, GetrandbitsMatchesCPython) {
  PythonRandom random(1);
  EXPECT_EQ(random.getrandbits(32), 577090037u);
  EXPECT_EQ(random.getrandbits(32), 2444712010u);
  EXPECT_EQ(random.getrandbits(32), 3639700191u);
}

TEST(PythonRandom, SeedWiderThan32BitsMatchesCPython) {
  PythonRandom random((uint64_t{1} << 40) + 5);
  EXPECT_EQ(random.getrandbits(32), 2166296868u);
  EXPECT_EQ(random.getrandbits(32), 2220160828u);
}

TEST(PythonRandom, ShuffleMatchesCPython) {
  PythonRandom seeded_one(1);
  std::vector<int> ten = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  seeded_one.shuffle(ten);
  EXPECT_EQ(ten, (std::vector<int>{6, 8, 9, 7, 5, 3, 0, 4, 1, 2}));

  PythonRandom seeded_zero(0);
  std::vector<int> twenty;
  for (int i = 0; i < 20; ++i) twenty.push_back(i);
  seeded_zero.shuffle(twenty);
  EXPECT_EQ(twenty, (std::vector<int>{10, 18, 16, 14, 0, 17, 11, 2, 3,  9,
                                      5,  7,  4,  19, 6, 15, 8,  1, 13, 12}));
}

}  // namespace
}  // namespace glyph::cli
