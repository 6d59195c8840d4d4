#include "server/artifacts/digest_cache.h"

#include "common/fetch/file_digest.h"

namespace ft::artifacts {

std::string DigestCache::Sha256(const std::string& where, const store::OpenFile& file) {
  Key key{where, file.inode(), file.size(), file.mtime_ns()};
  {
    absl::MutexLock lock(&mu_);
    if (auto found = digests_.find(key); found != digests_.end()) return found->second;
  }
  // Hashed outside the lock: two callers may hash the same file at once, which is only waste.
  std::string digest = fetch::DescriptorDigest(file.fd(), fetch::DigestKind::kSha256, where);
  absl::MutexLock lock(&mu_);
  if (digests_.size() >= capacity_) digests_.clear();
  digests_.emplace(std::move(key), digest);
  return digest;
}

}  // namespace ft::artifacts
