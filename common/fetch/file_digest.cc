#include "common/fetch/file_digest.h"

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <vector>

namespace ft::fetch {
namespace {

const EVP_MD* Algorithm(DigestKind kind) {
  switch (kind) {
    case DigestKind::kSha256:
      return EVP_sha256();
    case DigestKind::kMd5:
      return EVP_md5();
    case DigestKind::kSha1:
    case DigestKind::kGitBlobSha1:
      return EVP_sha1();
  }
  return EVP_sha256();
}

struct ContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

// Digests what `read_more` yields (bytes read into the buffer, 0 at the end, -1 on an error).
template <typename Read>
std::string Digest(DigestKind kind, uint64_t size, const std::string& what, Read read_more) {
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), Algorithm(kind), nullptr) != 1) {
    throw std::runtime_error("cannot initialise a digest");
  }
  if (kind == DigestKind::kGitBlobSha1) {
    // git hashes "blob <size>\0" followed by the content.
    const std::string prefix = "blob " + std::to_string(size) + std::string(1, '\0');
    EVP_DigestUpdate(context.get(), prefix.data(), prefix.size());
  }
  std::vector<unsigned char> buffer(1 << 20);
  int64_t got;
  while ((got = read_more(buffer.data(), buffer.size())) > 0) {
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<size_t>(got));
  }
  if (got < 0) throw std::runtime_error(what + ": read error");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 15];
  }
  return hex;
}

}  // namespace

std::string FileDigest(const std::string& path, DigestKind kind) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path + ": cannot read");
  const uint64_t size = kind == DigestKind::kGitBlobSha1 ? std::filesystem::file_size(path) : 0;
  return Digest(kind, size, path, [&](unsigned char* buffer, size_t capacity) -> int64_t {
    const size_t got = std::fread(buffer, 1, capacity, file.get());
    if (got == 0 && std::ferror(file.get())) return -1;
    return static_cast<int64_t>(got);
  });
}

std::string DescriptorDigest(int fd, DigestKind kind, const std::string& what) {
  struct stat info {};
  if (fstat(fd, &info) != 0) throw std::runtime_error(what + ": cannot stat");
  uint64_t offset = 0;
  return Digest(kind, static_cast<uint64_t>(info.st_size), what,
                [&](unsigned char* buffer, size_t capacity) -> int64_t {
                  ssize_t got;
                  do {
                    got = pread(fd, buffer, capacity, static_cast<off_t>(offset));
                  } while (got < 0 && errno == EINTR);
                  if (got > 0) offset += static_cast<uint64_t>(got);
                  return got;
                });
}

}  // namespace ft::fetch
