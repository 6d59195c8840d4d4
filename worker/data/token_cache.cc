#include "worker/data/token_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/util/atomic_file.h"
#include "worker/data/file_identity.h"

namespace ft::train {
namespace {

constexpr char kMagic[8] = {'F', 'T', 'T', 'O', 'K', 'E', 'N', 'S'};
constexpr uint64_t kHeaderSize = 64;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t width;
  uint64_t examples;
  uint64_t total_tokens;
  uint64_t metadata_size;
  uint64_t checksum;
  uint64_t file_size;
  uint64_t causal_lm;
};
static_assert(sizeof(Header) == kHeaderSize, "the header is 64 bytes");

uint64_t PadTo8(uint64_t size) { return (size + 7) / 8 * 8; }

// Byte positions of the sections after the header; nullopt when the counts cannot fit in
// `file_size` (checked before any multiplication can overflow).
struct Layout {
  uint64_t metadata = kHeaderSize;
  uint64_t offsets = 0;
  uint64_t prompt_tokens = 0;  // causal LM only
  uint64_t labels = 0;         // classification only
  uint64_t ids = 0;
  uint64_t target_mask = 0;  // causal LM only
  uint64_t end = 0;
};

std::optional<Layout> LayoutFor(const Header& header, uint64_t file_size) {
  if (header.metadata_size > file_size || header.examples > file_size / 8 ||
      header.total_tokens > file_size / header.width) {
    return std::nullopt;
  }
  const bool lm = header.causal_lm != 0;
  Layout layout;
  layout.offsets = kHeaderSize + PadTo8(header.metadata_size);
  layout.prompt_tokens = layout.offsets + 8 * (header.examples + 1);
  layout.labels = layout.prompt_tokens + (lm ? 8 * header.examples : 0);
  layout.ids = layout.labels + (lm ? 0 : PadTo8(4 * header.examples));
  layout.target_mask = layout.ids + header.width * header.total_tokens;
  layout.end = layout.target_mask + (lm ? 2 * header.total_tokens : 0);
  return layout;
}

std::string Hex64(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// A read-only mapping of a whole file, unmapped when the last owner lets go.
std::shared_ptr<const void> MapFile(int fd, uint64_t size) {
  void* address = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (address == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
  return std::shared_ptr<const void>(address, [size](const void* mapped) {
    munmap(const_cast<void*>(mapped), size);
  });
}

class Damaged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A causal-LM split's prompt lengths (copied) after checking them and its target mask (mapped by
// the caller): each prompt within its example, every mask value 0 or 1.
void ReadLmSections(const uint8_t* base, const Layout& layout, const Header& header,
                    TokenizedSplit& split) {
  const auto* offsets = reinterpret_cast<const uint64_t*>(base + layout.offsets);
  const auto* prompt_tokens = reinterpret_cast<const int64_t*>(base + layout.prompt_tokens);
  split.prompt_tokens.reserve(header.examples);
  for (uint64_t i = 0; i < header.examples; ++i) {
    if (prompt_tokens[i] < 0 ||
        static_cast<uint64_t>(prompt_tokens[i]) > offsets[i + 1] - offsets[i]) {
      throw Damaged("prompt length out of range");
    }
    split.prompt_tokens.push_back(prompt_tokens[i]);
  }
  const auto* mask = reinterpret_cast<const uint16_t*>(base + layout.target_mask);
  for (uint64_t t = 0; t < header.total_tokens; ++t) {
    if (mask[t] > 1) throw Damaged("target mask value other than 0 or 1");
  }
}

std::optional<CachedSplit> Parse(std::shared_ptr<const void> mapping, uint64_t file_size,
                                 const std::string& key) {
  const auto* base = static_cast<const uint8_t*>(mapping.get());
  Header header;
  std::memcpy(&header, base, kHeaderSize);
  if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0) throw Damaged("not a token cache file");
  if (header.version != kTokenCacheVersion) {
    throw Damaged("format version " + std::to_string(header.version) + ", this ftworker writes " +
                  std::to_string(kTokenCacheVersion));
  }
  if (header.width != 2 && header.width != 4) throw Damaged("impossible id width");
  if (header.causal_lm > 1) throw Damaged("impossible split kind");
  if (header.file_size != file_size) {
    throw Damaged("truncated: " + std::to_string(file_size) + " of " +
                  std::to_string(header.file_size) + " bytes");
  }
  const std::optional<Layout> layout = LayoutFor(header, file_size);
  if (!layout || layout->end != file_size) throw Damaged("section sizes do not add up");

  ContentHash checksum;
  checksum.Add(base + kHeaderSize, file_size - kHeaderSize);
  if (checksum.Value() != header.checksum) throw Damaged("checksum mismatch");

  const auto metadata = nlohmann::json::parse(
      reinterpret_cast<const char*>(base + kHeaderSize),
      reinterpret_cast<const char*>(base + kHeaderSize + header.metadata_size), nullptr,
      /*allow_exceptions=*/false);
  if (!metadata.is_object() || !metadata.contains("key") || !metadata["key"].is_string()) {
    throw Damaged("unreadable metadata");
  }
  if (metadata["key"].get<std::string>() != key) return std::nullopt;  // a hash collision

  CachedSplit cached;
  try {
    cached.label_names = metadata.at("labels").get<std::vector<std::string>>();
    cached.split.name = metadata.at("split").get<std::string>();
    cached.split.source = metadata.at("source").get<std::string>();
    cached.split.notes = metadata.at("notes").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& error) {
    throw Damaged(std::string("incomplete metadata: ") + error.what());
  }
  const auto* offsets = reinterpret_cast<const uint64_t*>(base + layout->offsets);
  if (offsets[0] != 0 || offsets[header.examples] != header.total_tokens) {
    throw Damaged("offsets do not span the ids");
  }
  for (uint64_t i = 0; i < header.examples; ++i) {
    if (offsets[i + 1] < offsets[i]) throw Damaged("offsets go backwards");
  }
  const auto examples = static_cast<std::size_t>(header.examples);
  if (header.causal_lm != 0) {
    ReadLmSections(base, *layout, header, cached.split);
    cached.split.target_mask =
        TokenTable::Borrow(mapping, offsets, examples, base + layout->target_mask, 2);
  } else {
    const auto* labels = reinterpret_cast<const int32_t*>(base + layout->labels);
    cached.split.labels.reserve(examples);
    for (uint64_t i = 0; i < header.examples; ++i) {
      if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= cached.label_names.size()) {
        throw Damaged("label id out of range");
      }
      cached.split.labels.push_back(labels[i]);
    }
  }
  cached.split.input_ids = TokenTable::Borrow(std::move(mapping), offsets, examples,
                                              base + layout->ids, static_cast<int>(header.width));
  return cached;
}

}  // namespace

std::string TokenCache::PathFor(const std::string& key) const {
  ContentHash hash;
  hash.Add(key.data(), key.size());
  return (std::filesystem::path(dir_) / (Hex64(hash.Value()) + ".tokens")).string();
}

std::optional<CachedSplit> TokenCache::Load(const std::string& key,
                                            std::vector<std::string>& warnings) const {
  if (!enabled()) return std::nullopt;
  const std::string path = PathFor(key);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno != ENOENT) {
      warnings.push_back("token cache: cannot open " + path + ": " + std::strerror(errno));
    }
    return std::nullopt;
  }
  std::shared_ptr<const void> mapping;
  uint64_t size = 0;
  std::string problem;
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    problem = std::strerror(errno);
  } else if (size = static_cast<uint64_t>(info.st_size); size < kHeaderSize) {
    problem = "truncated: " + std::to_string(size) + " bytes";
  } else {
    try {
      mapping = MapFile(fd, size);
    } catch (const std::exception& error) {
      problem = error.what();
    }
  }
  close(fd);  // the mapping stays valid without it
  if (problem.empty()) {
    try {
      std::optional<CachedSplit> cached = Parse(std::move(mapping), size, key);
      // The modification time is the entry's last use: ftd's budget removes the least recently
      // used first (server/housekeeping/token_cache_trim.h). A read-only cache stays as it is.
      if (cached) utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
      return cached;
    } catch (const std::exception& error) {
      problem = error.what();
    }
  }
  warnings.push_back("token cache: ignoring " + path + " (" + problem + "); tokenizing again");
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  return std::nullopt;
}

bool TokenCache::Store(const std::string& key, const TokenizedSplit& split,
                       const std::vector<std::string>& label_names,
                       std::vector<std::string>& warnings) const {
  if (!enabled()) return false;
  const std::string path = PathFor(key);
  try {
    std::filesystem::create_directories(dir_);
    nlohmann::ordered_json json;
    json["key"] = key;
    json["split"] = split.name;
    json["source"] = split.source;
    json["labels"] = label_names;
    json["notes"] = split.notes;
    const std::string metadata = json.dump();

    const TokenTable& ids = split.input_ids;
    Header header{};
    std::memcpy(header.magic, kMagic, sizeof(kMagic));
    header.version = kTokenCacheVersion;
    header.width = static_cast<uint32_t>(ids.width());
    header.examples = ids.size();
    header.total_tokens = ids.total_tokens();
    header.metadata_size = metadata.size();
    header.causal_lm = split.causal_lm() ? 1 : 0;

    std::vector<int32_t> labels(split.labels.begin(), split.labels.end());
    std::vector<uint16_t> target_mask;
    if (split.causal_lm()) {
      if (split.prompt_tokens.size() != ids.size() || split.target_mask.size() != ids.size() ||
          split.target_mask.total_tokens() != ids.total_tokens()) {
        throw std::logic_error("a causal-LM split whose mask or prompts do not match its ids");
      }
      target_mask.reserve(ids.total_tokens());
      for (std::size_t i = 0; i < split.target_mask.size(); ++i) {
        for (const int64_t target : split.target_mask[i]) {
          target_mask.push_back(static_cast<uint16_t>(target));
        }
      }
    }
    const std::string zeros(8, '\0');
    const uint64_t metadata_padding = PadTo8(metadata.size()) - metadata.size();
    const uint64_t labels_padding = PadTo8(4 * labels.size()) - 4 * labels.size();
    const uint64_t ids_bytes = header.total_tokens * header.width;
    struct Piece {
      const void* data;
      uint64_t size;
    };
    const Piece pieces[] = {{metadata.data(), metadata.size()},
                            {zeros.data(), metadata_padding},
                            {ids.offsets(), 8 * (ids.size() + 1)},
                            {split.prompt_tokens.data(), 8 * split.prompt_tokens.size()},
                            {labels.data(), 4 * labels.size()},
                            {zeros.data(), labels_padding},
                            {ids.ids_bytes(), ids_bytes},
                            {target_mask.data(), 2 * target_mask.size()}};
    ContentHash checksum;
    uint64_t size = kHeaderSize;
    for (const Piece& piece : pieces) {
      checksum.Add(piece.data, piece.size);
      size += piece.size;
    }
    header.checksum = checksum.Value();
    header.file_size = size;

    static std::atomic<uint64_t> writes{0};
    AtomicFileWriter writer(
        path, ".tmp." + std::to_string(getpid()) + "." + std::to_string(writes.fetch_add(1)));
    writer.Write(&header, sizeof(header));
    for (const Piece& piece : pieces) writer.Write(piece.data, piece.size);
    writer.Commit();
    return true;
  } catch (const std::exception& error) {
    warnings.push_back("token cache: cannot write " + path + ": " + error.what());
    return false;
  }
}

}  // namespace ft::train
