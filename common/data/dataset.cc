// Format names, DataError, the text-file helpers every reader shares, format inference and
// dispatch, and the seeded split.
#include "common/data/dataset.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <utility>

#include "common/data/excerpt.h"
#include "common/data/readers.h"

namespace ft::data {
namespace {

namespace fs = std::filesystem;

std::string Describe(const std::string& file, std::size_t line, std::size_t column,
                     const std::string& message) {
  if (file.empty()) return message;
  std::string out = file;
  if (line > 0) {
    out += ':' + std::to_string(line);
    if (column > 0) out += ':' + std::to_string(column);
  }
  return out + ": " + message;
}

std::size_t LineOf(std::string_view text, std::size_t offset) {
  return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + offset, '\n'));
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid (overlong
// forms, surrogates, code points above U+10FFFF and truncated sequences included).
std::size_t Utf8SequenceLength(const unsigned char* text, std::size_t i, std::size_t size) {
  const unsigned lead = text[i];
  std::size_t length;
  unsigned low = 0x80;
  unsigned high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // UTF-16 surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (size - i < length) return 0;
  if (text[i + 1] < low || text[i + 1] > high) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((text[i + k] & 0xC0) != 0x80) return 0;
  }
  return length;
}

// Offset of the first byte that does not start a valid UTF-8 sequence, or npos.
std::size_t FindInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    // ASCII fast path, eight bytes at a time.
    while (size - i >= 8) {
      uint64_t word;
      std::memcpy(&word, bytes + i, sizeof(word));
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= size) break;
    if (bytes[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(bytes, i, size);
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
}

std::string LowerAscii(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

Format InferFormat(const fs::path& path, bool is_directory) {
  if (is_directory) return Format::kAclImdb;
  const std::string extension = LowerAscii(path.extension().string());
  if (extension == ".tsv") return Format::kTsv;
  if (extension == ".jsonl" || extension == ".json" || extension == ".ndjson")
    return Format::kJsonl;
  return Format::kCsv;
}

// Unbiased integer in [0, bound) for bound >= 1: rejects the top 2^64 mod bound values so that
// every residue is equally likely. Portable, unlike std::uniform_int_distribution.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;  // == 2^64 mod bound
  while (true) {
    const uint64_t value = rng();
    if (value >= threshold) return value % bound;
  }
}

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "csv") return Format::kCsv;
  if (name == "tsv") return Format::kTsv;
  if (name == "jsonl") return Format::kJsonl;
  if (name == "aclimdb") return Format::kAclImdb;
  return std::nullopt;
}

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kCsv:
      return "csv";
    case Format::kTsv:
      return "tsv";
    case Format::kJsonl:
      return "jsonl";
    case Format::kAclImdb:
      return "aclimdb";
  }
  return "unknown";
}

DataError::DataError(std::string file, std::size_t line, std::size_t column,
                     const std::string& message)
    : std::runtime_error(Describe(file, line, column, message)),
      file_(std::move(file)),
      line_(line),
      column_(column) {}

namespace internal {

void CheckText(std::string_view text, const std::string& file) {
  if (const void* nul = std::memchr(text.data(), '\0', text.size())) {
    const auto offset = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
    throw DataError(file, LineOf(text, offset), 0,
                    "contains a NUL byte: this looks like a binary file, not text");
  }
  const std::size_t bad = FindInvalidUtf8(text);
  if (bad != std::string_view::npos) {
    char byte[8];
    std::snprintf(byte, sizeof(byte), "0x%02X", static_cast<unsigned char>(text[bad]));
    throw DataError(file, LineOf(text, bad), 0,
                    std::string("not valid UTF-8 (byte ") + byte + "); save the file as UTF-8");
  }
}

std::string ReadTextFile(const std::string& path) {
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    throw DataError(path, 0, 0, "no such file or directory");
  }
  if (ec) throw DataError(path, 0, 0, "cannot access: " + ec.message());
  if (fs::is_directory(status)) throw DataError(path, 0, 0, "is a directory, not a file");
  if (!fs::is_regular_file(status)) throw DataError(path, 0, 0, "not a regular file");

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) throw DataError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  const uintmax_t expected = fs::file_size(path, ec);
  // One byte of slack so that a file of the expected size is read by a single fread.
  std::string data(ec ? std::size_t{1} << 16 : static_cast<std::size_t>(expected) + 1, '\0');
  std::size_t filled = 0;
  while (!std::feof(file.get()) && !std::ferror(file.get())) {
    if (filled == data.size()) data.resize(data.size() * 2);
    filled += std::fread(data.data() + filled, 1, data.size() - filled, file.get());
  }
  if (std::ferror(file.get())) {
    throw DataError(path, 0, 0, std::string("read failed: ") + std::strerror(errno));
  }
  data.resize(filled);
  if (data.compare(0, 3, "\xEF\xBB\xBF") == 0) data.erase(0, 3);
  CheckText(data, path);
  return data;
}

std::string TrimLabel(std::string_view label) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!label.empty() && is_space(label.front())) label.remove_prefix(1);
  while (!label.empty() && is_space(label.back())) label.remove_suffix(1);
  return std::string(label);
}

std::string QuotedList(const std::vector<std::string>& names) { return ExcerptList(names); }

}  // namespace internal

Format ResolveFormat(const DatasetSource& source) {
  const std::string& path = source.path;
  if (path.empty()) throw DataError(path, 0, 0, "no data path given");
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) {
    throw DataError(path, 0, 0, "no such file or directory");
  }
  if (ec) throw DataError(path, 0, 0, "cannot access: " + ec.message());
  const bool is_directory = fs::is_directory(status);
  if (is_directory) {
    fs::directory_iterator probe(path, ec);
    if (ec) throw DataError(path, 0, 0, "cannot read directory: " + ec.message());
  } else if (fs::is_regular_file(status)) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                         &std::fclose);
    if (!file) throw DataError(path, 0, 0, std::string("cannot open: ") + std::strerror(errno));
  } else {
    throw DataError(path, 0, 0, "not a regular file or directory");
  }
  return source.format ? *source.format : InferFormat(path, is_directory);
}

DatasetHeader ReadHeader(const DatasetSource& source) {
  DatasetHeader header;
  header.format = ResolveFormat(source);
  switch (header.format) {
    case Format::kCsv:
      header.columns = internal::ReadDelimitedHeader(source.path, ',');
      break;
    case Format::kTsv:
      header.columns = internal::ReadDelimitedHeader(source.path, '\t');
      break;
    case Format::kJsonl:
      header.columns = internal::ReadJsonlHeader(source.path);
      break;
    case Format::kAclImdb:
      internal::CheckAclImdbFolder(source.path);
      header.columns = {"text", "label"};
      break;
  }
  return header;
}

std::vector<RawExample> ReadExamples(const DatasetSource& source) {
  switch (ResolveFormat(source)) {
    case Format::kCsv:
      return internal::ReadDelimited(source, ',');
    case Format::kTsv:
      return internal::ReadDelimited(source, '\t');
    case Format::kJsonl:
      return internal::ReadJsonl(source);
    case Format::kAclImdb:
      return internal::ReadAclImdb(source);
  }
  throw DataError(source.path, 0, 0, "unknown format");
}

std::vector<bool> SeededValidationMembers(std::size_t n, double fraction, uint64_t seed) {
  std::size_t validation_count = 0;
  // fraction <= 0 (or NaN) asks for no split; otherwise both sides keep at least one example.
  if (fraction > 0 && n >= 2) {
    const double wanted = std::min(fraction, 1.0) * static_cast<double>(n);
    validation_count = static_cast<std::size_t>(std::llround(wanted));
    validation_count = std::clamp<std::size_t>(validation_count, 1, n - 1);
  }

  // Fisher-Yates over the indices; the first validation_count of them go to validation.
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) {
    const auto j = static_cast<std::size_t>(UniformBelow(rng, i));
    std::swap(order[i - 1], order[j]);
  }
  std::vector<bool> in_validation(n, false);
  for (std::size_t i = 0; i < validation_count; ++i) in_validation[order[i]] = true;
  return in_validation;
}

std::pair<std::vector<RawExample>, std::vector<RawExample>> SplitSeeded(
    std::vector<RawExample> examples, double fraction, uint64_t seed) {
  const std::size_t n = examples.size();
  const std::vector<bool> in_validation = SeededValidationMembers(n, fraction, seed);
  std::pair<std::vector<RawExample>, std::vector<RawExample>> split;
  for (std::size_t i = 0; i < n; ++i) {
    (in_validation[i] ? split.second : split.first).push_back(std::move(examples[i]));
  }
  return split;
}

}  // namespace ft::data
