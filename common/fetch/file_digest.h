// Hex digests of a file's content, to verify downloads: SHA-256 (what the Hub's ETag is for
// large files), git's blob SHA-1 (its ETag for small files), and the MD5/SHA-1 that dataset
// publishers list.
#pragma once

#include <string>

namespace ft::fetch {

enum class DigestKind { kSha256, kSha1, kMd5, kGitBlobSha1 };

// Lower-case hex. Throws std::runtime_error naming the file when it cannot be read.
std::string FileDigest(const std::string& path, DigestKind kind);

// The same over an open file descriptor, read from its start with pread (the descriptor's own
// position is left alone), so that a caller that opened the file safely hashes what it opened.
// Throws std::runtime_error naming `what` on a read error.
std::string DescriptorDigest(int fd, DigestKind kind, const std::string& what);

}  // namespace ft::fetch
