// Reading labeled text examples from CSV, TSV, JSONL files and aclImdb-style folders.
// Standard library only: linked by ftd (validation) and by the LibTorch training core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ft::data {

enum class Format { kCsv, kTsv, kJsonl, kAclImdb };

// "csv", "tsv", "jsonl", "aclimdb" -> Format; nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view name);
std::string_view FormatName(Format format);

// A problem with a data file. what() names the file and, where known, line and column, e.g.
// "data/train.csv:17:3: unterminated quoted field".
class DataError : public std::runtime_error {
 public:
  DataError(std::string file, std::size_t line, std::size_t column, const std::string& message);
  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }      // 1-based; 0 when not tied to a line
  std::size_t column() const { return column_; }  // 1-based field number; 0 when unknown
 private:
  std::string file_;
  std::size_t line_;
  std::size_t column_;
};

// Where to read and which columns hold text and label.
struct DatasetSource {
  std::string path;
  std::optional<Format>
      format;  // nullopt: inferred (folder -> aclimdb, .tsv, .jsonl/.json, else csv)
  std::string text_column = "text";
  std::string label_column = "label";
};

// The format (as inferred) and the column names a source offers. For JSONL the keys of the first
// record; for aclimdb {"text", "label"}. Throws DataError (missing file, unreadable, empty, ...).
struct DatasetHeader {
  Format format;
  std::vector<std::string> columns;
};
DatasetHeader ReadHeader(const DatasetSource& source);

// Format after inference. Throws DataError when the path does not exist.
Format ResolveFormat(const DatasetSource& source);

// One example as read, label still a string.
struct RawExample {
  std::string text;
  std::string label;
  std::size_t line = 0;  // 1-based line (record start) or file index for aclimdb
};

// Reads every example. Throws DataError naming file, line and column for a malformed row, a
// missing column, an empty label, or a file without examples.
std::vector<RawExample> ReadExamples(const DatasetSource& source);

// Maps label strings to class ids in a stable, documented order: if every label is an integer,
// the ids are the integers themselves (they must be 0..N-1, all present or not); otherwise labels
// are sorted byte-wise and numbered from 0. Built from the training split only.
class LabelMap {
 public:
  // `file` (the training data's path) is named in the errors when given.
  static LabelMap Build(const std::vector<RawExample>& train, const std::string& file = "");
  std::size_t num_labels() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }  // id -> name
  // Throws DataError(file, line, label column) for a label the training split did not have.
  int64_t IdOf(const RawExample& example, const std::string& file) const;

 private:
  std::vector<std::string> names_;
  std::map<std::string, int64_t> ids_;
};

// Which of n examples SplitSeeded puts in validation (the same draw for any kind of example).
std::vector<bool> SeededValidationMembers(std::size_t n, double fraction, uint64_t seed);

// Deterministic split of `examples` into (train, validation): validation gets
// round(fraction * n) examples chosen by a seeded shuffle; both keep their original order.
std::pair<std::vector<RawExample>, std::vector<RawExample>> SplitSeeded(
    std::vector<RawExample> examples, double fraction, uint64_t seed);

}  // namespace ft::data
