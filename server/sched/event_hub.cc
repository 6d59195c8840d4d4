#include "server/sched/event_hub.h"

#include <algorithm>

namespace ft::sched {

void EventHub::Subscribe(const std::string& job_id, std::shared_ptr<EventListener> listener) {
  absl::MutexLock lock(&mu_);
  listeners_[job_id].push_back(std::move(listener));
}

void EventHub::Unsubscribe(const std::string& job_id, const EventListener* listener) {
  absl::MutexLock lock(&mu_);
  auto it = listeners_.find(job_id);
  if (it == listeners_.end()) return;
  auto& list = it->second;
  list.erase(
      std::remove_if(list.begin(), list.end(), [&](const auto& l) { return l.get() == listener; }),
      list.end());
  if (list.empty()) listeners_.erase(it);
}

void EventHub::Publish(const std::string& job_id, const std::vector<ft::v1::JobEvent>& events) {
  std::vector<std::shared_ptr<EventListener>> to_wake;
  {
    absl::MutexLock lock(&mu_);
    auto& cache = cache_[job_id];
    for (const ft::v1::JobEvent& event : events) {
      // An event older than the newest cached one was published late (another thread stored
      // and published a newer one first). Caching it after that one would make the cache claim
      // nothing follows it; skip it (a watcher that needs it reads the store).
      if (!cache.empty() && event.seq() <= cache.back().seq()) continue;
      // Keep the cache contiguous: a gap (events published out of order) resets it.
      if (!cache.empty() && event.seq() != cache.back().seq() + 1) cache.clear();
      cache.push_back(event);
      if (cache.size() > cache_per_job_) cache.pop_front();
    }
    auto it = listeners_.find(job_id);
    if (it != listeners_.end()) to_wake = it->second;
  }
  // Woken outside the lock: a listener may call back into the hub.
  for (const auto& listener : to_wake) listener->OnNewEvents();
}

std::optional<std::vector<ft::v1::JobEvent>> EventHub::CachedAfter(const std::string& job_id,
                                                                   uint64_t after_seq,
                                                                   size_t limit) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(job_id);
  if (it == cache_.end() || it->second.empty()) return std::nullopt;
  const auto& cache = it->second;
  if (cache.front().seq() > after_seq + 1) return std::nullopt;  // older events were dropped
  std::vector<ft::v1::JobEvent> events;
  for (const ft::v1::JobEvent& event : cache) {
    if (event.seq() <= after_seq) continue;
    if (events.size() == limit) break;
    events.push_back(event);
  }
  return events;
}

void EventHub::Forget(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  cache_.erase(job_id);
}

size_t EventHub::listener_count(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = listeners_.find(job_id);
  return it == listeners_.end() ? 0 : it->second.size();
}

}  // namespace ft::sched
