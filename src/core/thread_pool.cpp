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

// Fields of ThreadPool::state_.
constexpr int kGenerationShift = 16;
constexpr uint64_t kClosed = uint64_t{1} << 15;
constexpr uint64_t kActiveMask = kClosed - 1;

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

  // No worker is inside a job here: the previous run returned only after every worker that
  // joined it had left, and none can join a closed job.
  task_ = &task;
  task_count_ = count;
  next_task_.store(0, std::memory_order_relaxed);
  error_ = nullptr;
  {
    std::lock_guard lock(mutex_);
    const uint64_t generation = (state_.load(std::memory_order_relaxed) >> kGenerationShift) + 1;
    state_.store(generation << kGenerationShift, std::memory_order_release);
  }
  wake_.notify_all();

  run_tasks();

  // Every task is claimed: close the job to latecomers, then wait for the workers inside it,
  // which are running tasks, before task goes out of scope.
  state_.fetch_or(kClosed, std::memory_order_acq_rel);
  auto finished = [this] { return (state_.load(std::memory_order_acquire) & kActiveMask) == 0; };
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
  uint64_t seen = 0;  // The last generation this worker joined or skipped.
  while (true) {
    auto woken = [&] {
      return stopping_.load() ||
             (state_.load(std::memory_order_acquire) >> kGenerationShift) != seen;
    };
    if (!spin_until(woken)) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, woken);
    }
    if (stopping_.load()) return;

    // Join the job unless the caller has closed it. A failed exchange means that another
    // worker joined or left or that the job closed, so the loop looks again.
    uint64_t state = state_.load(std::memory_order_acquire);
    bool joined = false;
    while ((state & kClosed) == 0) {
      if (state_.compare_exchange_weak(state, state + 1, std::memory_order_acq_rel)) {
        joined = true;
        break;
      }
    }
    seen = state >> kGenerationShift;
    if (!joined) continue;

    run_tasks();

    const uint64_t before = state_.fetch_sub(1, std::memory_order_acq_rel);
    if ((before & kActiveMask) == 1 && (before & kClosed) != 0) {
      // The caller may be asleep waiting for the last worker.
      std::lock_guard lock(mutex_);
      done_.notify_all();
    }
  }
}

}  // namespace glyph
