#include "server/console/download_links.h"

#include "server/auth/authenticator.h"

namespace ft::console {

std::string DownloadLinks::Issue(DownloadTicket ticket) {
  // 256 random bits from OpenSSL: as hard to guess as a token.
  std::string id = auth::NewWorkerSecret();
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  for (auto it = open_.begin(); it != open_.end();) {
    it = it->second.expires <= now ? open_.erase(it) : std::next(it);
  }
  while (open_.size() >= options_.max_open) {
    auto oldest = open_.begin();
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (it->second.expires < oldest->second.expires) oldest = it;
    }
    open_.erase(oldest);
  }
  open_[id] = Entry{now + options_.ttl, std::move(ticket)};
  return id;
}

std::optional<DownloadTicket> DownloadLinks::Redeem(const std::string& id) {
  const absl::Time now = options_.now();
  absl::MutexLock lock(&mu_);
  auto it = open_.find(id);
  if (it == open_.end()) return std::nullopt;
  Entry entry = std::move(it->second);
  open_.erase(it);
  if (entry.expires <= now) return std::nullopt;
  return std::move(entry.ticket);
}

}  // namespace ft::console
