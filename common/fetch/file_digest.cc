#include "common/fetch/file_digest.h"

#include <openssl/evp.h>

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

}  // namespace

std::string FileDigest(const std::string& path, DigestKind kind) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw std::runtime_error(path + ": cannot read");
  std::unique_ptr<EVP_MD_CTX, ContextDeleter> context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), Algorithm(kind), nullptr) != 1) {
    throw std::runtime_error("cannot initialise a digest");
  }
  if (kind == DigestKind::kGitBlobSha1) {
    // git hashes "blob <size>\0" followed by the content.
    const std::string prefix =
        "blob " + std::to_string(std::filesystem::file_size(path)) + std::string(1, '\0');
    EVP_DigestUpdate(context.get(), prefix.data(), prefix.size());
  }
  std::vector<unsigned char> buffer(1 << 20);
  size_t got;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    EVP_DigestUpdate(context.get(), buffer.data(), got);
  }
  if (std::ferror(file.get())) throw std::runtime_error(path + ": read error");
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

}  // namespace ft::fetch
