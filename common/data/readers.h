// Private to common/data: the per-format readers behind dataset.h and the text-file helpers they
// share. Not installed, not included from outside this folder.
#pragma once

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/data/dataset.h"

namespace ft::data::internal {

// A single field, line or aclImdb file above this size is refused with a DataError.
inline constexpr std::size_t kMaxFieldBytes = std::size_t{16} << 20;
inline constexpr std::string_view kMaxFieldText = "16 MiB";

// The whole file as bytes, a leading UTF-8 BOM removed. Throws DataError when it cannot be read,
// contains a NUL byte (binary file) or is not valid UTF-8 (naming the line).
std::string ReadTextFile(const std::string& path);

// Throws DataError(file, line, 0, ...) for the first NUL byte or invalid UTF-8 sequence in `text`.
// Line numbers count '\n' from the start of `text`.
void CheckText(std::string_view text, const std::string& file);

// `label` without leading and trailing spaces, tabs and carriage returns.
std::string TrimLabel(std::string_view label);

// "a", "b", "c" for error messages.
std::string QuotedList(const std::vector<std::string>& names);

// CSV (delimiter ',') and TSV (delimiter '\t') with a header row.
std::vector<std::string> ReadDelimitedHeader(const std::string& path, char delimiter);
std::vector<RawExample> ReadDelimited(const DatasetSource& source, char delimiter);

// Calls visit(line_number, object) for each non-blank line of a JSON Lines file, which must be a
// JSON object (else DataError naming the line); visit returns false to stop early.
void ForEachJsonlObject(
    std::string_view data, const std::string& file,
    const std::function<bool(std::size_t, const nlohmann::ordered_json&)>& visit);

// One JSON object per line.
std::vector<std::string> ReadJsonlHeader(const std::string& path);
std::vector<RawExample> ReadJsonl(const DatasetSource& source);

// aclImdb layout: <path>/<label>/*.txt.
void CheckAclImdbFolder(const std::string& path);
std::vector<RawExample> ReadAclImdb(const DatasetSource& source);

}  // namespace ft::data::internal
