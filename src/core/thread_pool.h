// A fixed pool of worker threads for data-parallel loops inside one forward pass.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace glyph {

class ThreadPool {
 public:
  // threads counts the calling thread too: ThreadPool(2) starts one worker. 0 means one thread
  // per hardware thread.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Runs task(i) for every i in [0, count) on the calling thread and whichever workers join,
  // and returns when all are done. Tasks are claimed one at a time, so uneven tasks balance.
  // Workers that have not joined by the time the caller has claimed the last task are not
  // waited for, so a worker the operating system has not scheduled (other processes on the
  // cores) costs no time. The first exception a task throws is rethrown here after the others
  // finish. Not reentrant: a task must not call run on the same pool.
  void run(int64_t count, const std::function<void(int64_t)>& task);

  // Splits [0, count) into at most size() * 4 contiguous ranges of at least min_range items
  // and calls body(begin, end) for each.
  void parallel_for(int64_t count, int64_t min_range,
                    const std::function<void(int64_t, int64_t)>& body);

 private:
  void worker_loop();
  void run_tasks();

  std::vector<std::thread> workers_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<bool> stopping_{false};

  // The current job in one word. Bits 16 and up count the jobs published. Bit 15 is set once
  // the caller has claimed every task, and then no worker may join. Bits 0-14 count the
  // workers inside the job. Workers join with compare-and-swap on the whole word, so a worker
  // can never join a job that the caller has stopped waiting for.
  std::atomic<uint64_t> state_{0};
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t task_count_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace glyph
