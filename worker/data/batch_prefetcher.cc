#include "worker/data/batch_prefetcher.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace ft::train {

PreparedWindow PrepareWindow(const TokenizedSplit& split, const Window& window, std::size_t index,
                             bool pin_memory) {
  PreparedWindow prepared;
  prepared.index = index;
  prepared.micro_batches.reserve(window.micro_batches.size());
  for (std::size_t m = 0; m < window.micro_batches.size(); ++m) {
    MicroBatch batch = CollateWindowMicroBatch(split, window, m, torch::kCPU);
    if (pin_memory) {
      batch.input_ids = batch.input_ids.pin_memory();
      batch.attention_mask = batch.attention_mask.pin_memory();
      batch.labels = batch.labels.pin_memory();
    }
    prepared.tokens += batch.tokens;
    prepared.padded_slots += batch.input_ids.numel();
    prepared.micro_batches.push_back(std::move(batch));
  }
  return prepared;
}

BatchPrefetcher::BatchPrefetcher(const TokenizedSplit& split, const std::vector<Window>& windows,
                                 std::size_t first, std::size_t depth, bool pin_memory)
    : split_(split),
      windows_(windows),
      depth_(std::max<std::size_t>(1, depth)),
      pin_memory_(pin_memory),
      first_(first),
      next_to_take_(first),
      thread_([this] { Produce(); }) {}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BatchPrefetcher::Produce() {
  for (std::size_t index = first_; index < windows_.size(); ++index) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
      if (stop_) return;
    }
    try {
      PreparedWindow prepared = PrepareWindow(split_, windows_[index], index, pin_memory_);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(prepared));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      changed_.notify_all();
      return;
    }
    changed_.notify_all();
  }
}

PreparedWindow BatchPrefetcher::Next() {
  if (next_to_take_ >= windows_.size()) {
    throw std::logic_error("the prefetcher has no window " + std::to_string(next_to_take_));
  }
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty() || error_; });
  wait_seconds_ +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (ready_.empty()) std::rethrow_exception(error_);
  PreparedWindow prepared = std::move(ready_.front());
  ready_.pop_front();
  ++next_to_take_;
  lock.unlock();
  changed_.notify_all();
  return prepared;
}

}  // namespace ft::train
