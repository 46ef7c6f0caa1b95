#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <vector>

namespace glyph {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  ThreadPool pool(4);
  EXPECT_EQ(pool.size(), 4);
  for (int64_t count : {0, 1, 3, 4, 100, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
    pool.run(count, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (int64_t i = 0; i < count; ++i) {
      ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "task " << i << " of " << count;
    }
  }
}

// Each of two tasks waits until both are running at once. Only two threads can get there; on
// one thread the first task would wait out its 10-second limit alone.
TEST(ThreadPool, RunsTasksConcurrently) {
  ThreadPool pool(2);
  std::atomic<int> inside{0};
  std::atomic<int> met{0};
  pool.run(2, [&](int64_t) {
    inside.fetch_add(1);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (inside.load() < 2 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    if (inside.load() == 2) met.fetch_add(1);
  });
  EXPECT_EQ(met.load(), 2);
}

TEST(ThreadPool, ParallelForCoversRange) {
  ThreadPool pool(3);
  for (int64_t count : {1, 7, 64, 1000}) {
    for (int64_t min_range : {1, 5, 2000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(count));
      pool.parallel_for(count, min_range, [&](int64_t begin, int64_t end) {
        ASSERT_LT(begin, end);
        for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < count; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1);
    }
  }
}

TEST(ThreadPool, RethrowsTaskException) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(10,
                        [](int64_t i) {
                          if (i == 7) throw std::runtime_error("task 7 failed");
                        }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> count{0};
  pool.run(10, [&](int64_t) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 10);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1);
  std::thread::id caller = std::this_thread::get_id();
  pool.run(5, [&](int64_t) { EXPECT_EQ(std::this_thread::get_id(), caller); });
}

TEST(ThreadPool, SurvivesManySmallJobs) {
  ThreadPool pool(2);
  int64_t total = 0;
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 5000; ++job) {
    pool.run(3, [&](int64_t i) { sum.fetch_add(i + 1); });
    total += 6;
  }
  EXPECT_EQ(sum.load(), total);
}

}  // namespace
}  // namespace glyph
