#include "server/api/blocking_call_pool.h"

namespace ft::api {

BlockingCallPool::BlockingCallPool(int threads) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

BlockingCallPool::~BlockingCallPool() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_or_stop_.SignalAll();
  }
  for (std::thread& thread : threads_) thread.join();
}

void BlockingCallPool::Run(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
  work_or_stop_.Signal();
}

void BlockingCallPool::Loop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      // A CondVar rather than Await with a condition: TSan sees the wait and the wake-up as
      // the lock's own acquire and release (tests/support/tsan_absl_mutex.cc).
      while (!stopping_ && tasks_.empty()) work_or_stop_.Wait(&mu_);
      if (tasks_.empty()) return;  // stopping, and nothing left to run
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

}  // namespace ft::api
