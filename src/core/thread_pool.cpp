#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace glyph {

namespace {

// Workers poll for the next job this long before sleeping on the condition variable. A decode
// step issues a few dozen parallel ops back to back, microseconds apart. Waking a sleeping
// thread costs tens of microseconds each time, which brief polling avoids.
constexpr auto kSpinTime = std::chrono::microseconds(200);

void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

// Polls done() until it returns true or kSpinTime passes; returns its last result. Reads the
// clock only every 64 polls because a clock read costs more than a poll.
template <typename Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (uint32_t polls = 1;; ++polls) {
    if (done()) return true;
    if (polls % 64 == 0 && std::chrono::steady_clock::now() > deadline) return false;
    cpu_relax();
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  workers_.reserve(static_cast<size_t>(threads - 1));
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run(int64_t count, const std::function<void(int64_t)>& task) {
  if (count <= 0) return;
  if (workers_.empty() || count == 1) {
    for (int64_t i = 0; i < count; ++i) task(i);
    return;
  }

  {
    std::lock_guard lock(mutex_);
    task_ = &task;
    task_count_ = count;
    next_task_.store(0, std::memory_order_relaxed);
    error_ = nullptr;
    pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();

  run_tasks();

  // Every worker must finish with this job before task goes out of scope.
  auto finished = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(finished)) {
    std::unique_lock lock(mutex_);
    done_.wait(lock, finished);
  }

  if (error_) std::rethrow_exception(error_);
}

void ThreadPool::parallel_for(int64_t count, int64_t min_range,
                              const std::function<void(int64_t, int64_t)>& body) {
  if (count <= 0) return;
  min_range = std::max<int64_t>(min_range, 1);
  int64_t max_ranges = static_cast<int64_t>(size()) * 4;
  int64_t ranges = std::clamp<int64_t>(count / min_range, 1, max_ranges);
  int64_t range_size = (count + ranges - 1) / ranges;
  ranges = (count + range_size - 1) / range_size;
  run(ranges, [&](int64_t index) {
    int64_t begin = index * range_size;
    body(begin, std::min(count, begin + range_size));
  });
}

void ThreadPool::run_tasks() {
  const std::function<void(int64_t)>& task = *task_;
  while (true) {
    int64_t index = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (index >= task_count_) return;
    try {
      task(index);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  while (true) {
    auto woken = [&] {
      return stopping_.load() || generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(woken)) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, woken);
    }
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);

    run_tasks();

    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);
      done_.notify_all();
    }
  }
}

}  // namespace glyph
