// Tells watchers of a job that new events were stored, and keeps each live job's newest events in
// memory so watchers rarely read SQLite. A watcher never receives events through the hub: it is
// woken and pulls what it has not seen yet (from the cache, else the store). So a slow watcher
// holds no buffer here and never slows the training reports or other watchers.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ft/v1/event.pb.h"

namespace ft::sched {

class EventListener {
 public:
  virtual ~EventListener() = default;
  // Called after events of the job were stored. Must not block.
  virtual void OnNewEvents() = 0;
};

class EventHub {
 public:
  explicit EventHub(size_t cache_per_job = 256) : cache_per_job_(cache_per_job) {}

  void Subscribe(const std::string& job_id, std::shared_ptr<EventListener> listener);
  void Unsubscribe(const std::string& job_id, const EventListener* listener);

  // Records stored events (in seq order) and wakes the job's listeners.
  void Publish(const std::string& job_id, const std::vector<ft::v1::JobEvent>& events);

  // Events with seq > after_seq from the cache, at most `limit`; nullopt when the cache cannot
  // prove it holds all of them (the caller then reads the store).
  std::optional<std::vector<ft::v1::JobEvent>> CachedAfter(const std::string& job_id,
                                                           uint64_t after_seq, size_t limit);

  // Drops a finished job's cache.
  void Forget(const std::string& job_id);

  size_t listener_count(const std::string& job_id);

 private:
  const size_t cache_per_job_;
  absl::Mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<EventListener>>> listeners_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::deque<ft::v1::JobEvent>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::sched
