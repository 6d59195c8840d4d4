// Short-lived, single-use download links for the page. A browser follows a plain link without
// an Authorization header, and a model of several GB cannot go through fetch() into memory; so
// the page asks for a link (with its token), and the link carries a random ticket, never the
// token, that stands for that token, job and file for a minute, once.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ft::console {

struct DownloadTicket {
  std::string authorization;  // the Authorization header of the request that asked for it
  std::string job_id;
  std::string name;  // the artifact's name
};

struct DownloadLinkOptions {
  absl::Duration ttl = absl::Seconds(60);
  size_t max_open = 10000;  // links not yet used nor expired; the oldest go first beyond this
  std::function<absl::Time()> now = [] { return absl::Now(); };
};

class DownloadLinks {
 public:
  explicit DownloadLinks(DownloadLinkOptions options = {}) : options_(std::move(options)) {}

  // A new ticket (64 hex digits) for `ticket`.
  std::string Issue(DownloadTicket ticket);

  // What the ticket stands for, once; nullopt when unknown, used or expired.
  std::optional<DownloadTicket> Redeem(const std::string& id);

 private:
  struct Entry {
    absl::Time expires;
    DownloadTicket ticket;
  };

  const DownloadLinkOptions options_;
  absl::Mutex mu_;
  std::map<std::string, Entry> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::console
