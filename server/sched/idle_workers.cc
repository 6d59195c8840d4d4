#include "server/sched/idle_workers.h"

#include <algorithm>
#include <utility>

namespace ft::sched {

std::vector<std::string> IdleWorkers::Others(const std::string& except, absl::Time now) {
  std::vector<std::pair<absl::Time, std::string>> recent;
  for (auto it = last_asked_.begin(); it != last_asked_.end();) {
    if (now - it->second > window_) {
      it = last_asked_.erase(it);
      continue;
    }
    if (it->first != except) recent.emplace_back(it->second, it->first);
    ++it;
  }
  std::sort(recent.begin(), recent.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<std::string> ids;
  ids.reserve(recent.size());
  for (auto& [time, id] : recent) ids.push_back(std::move(id));
  return ids;
}

}  // namespace ft::sched
