// Hex digests of a file's content, to verify downloads: SHA-256 (what the Hub's ETag is for
// large files), git's blob SHA-1 (its ETag for small files), and the MD5/SHA-1 that dataset
// publishers list.
#pragma once

#include <string>

namespace ft::fetch {

enum class DigestKind { kSha256, kSha1, kMd5, kGitBlobSha1 };

// Lower-case hex. Throws std::runtime_error naming the file when it cannot be read.
std::string FileDigest(const std::string& path, DigestKind kind);

}  // namespace ft::fetch
