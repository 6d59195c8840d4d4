// CSV and TSV with a header row. RFC 4180 quoting ("..." fields, "" for a quote, delimiters and
// line breaks inside quotes), CRLF or LF line ends. A field is quoted only when its first byte is
// a quote, so SST-2 style TSV without quoting reads as is. Blank lines are skipped.
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/data/dataset.h"
#include "common/data/readers.h"

namespace ft::data::internal {
namespace {

// More header columns than this is refused (a line of 16 MiB of delimiters would otherwise
// become millions of strings).
constexpr std::size_t kMaxColumns = 1 << 16;

// Splits an in-memory file into records, one pass, tracking 1-based physical line numbers.
class RecordReader {
 public:
  RecordReader(std::string_view data, char delimiter, const std::string& file)
      : data_(data), delimiter_(delimiter), file_(file) {}

  // Reads the next record that is not a blank line. Keeps its first `keep` fields in *fields
  // (resized to at most `keep`) and returns how many fields it had; 0 at the end of the input.
  std::size_t Next(std::size_t keep, std::vector<std::string>* fields) {
    SkipBlankLines();
    if (pos_ >= data_.size()) return 0;
    record_line_ = line_;
    const std::size_t record_start = pos_;
    std::size_t count = 0;
    while (true) {
      ++count;
      std::string* out = &scratch_;
      if (count <= keep) {
        if (fields->size() < count) fields->emplace_back();
        out = &(*fields)[count - 1];
      }
      out->clear();
      ReadField(count, out);
      if (pos_ - record_start > kMaxFieldBytes) {
        throw DataError(file_, record_line_, 0, "record longer than " + std::string(kMaxFieldText));
      }
      if (pos_ >= data_.size()) break;
      if (data_[pos_] == delimiter_) {
        ++pos_;
        continue;
      }
      // End of line: ReadField stops only at '\n' or at the '\r' of "\r\n".
      if (data_[pos_] == '\r') ++pos_;
      ++pos_;
      ++line_;
      break;
    }
    fields->resize(std::min(count, keep));
    return count;
  }

  // Line on which the record last returned by Next starts.
  std::size_t record_line() const { return record_line_; }

 private:
  bool AtCrLf(std::size_t pos) const {
    return data_[pos] == '\r' && pos + 1 < data_.size() && data_[pos + 1] == '\n';
  }

  void SkipBlankLines() {
    while (pos_ < data_.size()) {
      if (data_[pos_] == '\n') {
        pos_ += 1;
      } else if (AtCrLf(pos_)) {
        pos_ += 2;
      } else {
        return;
      }
      ++line_;
    }
  }

  // Reads one field at pos_ into *out and leaves pos_ at the delimiter, the line end or the end.
  void ReadField(std::size_t field_number, std::string* out) {
    if (pos_ < data_.size() && data_[pos_] == '"') {
      ReadQuotedField(field_number, out);
      return;
    }
    const std::size_t start = pos_;
    while (pos_ < data_.size() && data_[pos_] != delimiter_ && data_[pos_] != '\n') ++pos_;
    std::size_t end = pos_;
    if (end > start && data_[end - 1] == '\r' && (pos_ == data_.size() || data_[pos_] == '\n')) {
      --end;  // CRLF line end; pos_ stays on the '\n'
    }
    if (end - start > kMaxFieldBytes) {
      throw DataError(file_, line_, field_number,
                      "field longer than " + std::string(kMaxFieldText));
    }
    out->assign(data_.data() + start, end - start);
  }

  void ReadQuotedField(std::size_t field_number, std::string* out) {
    const std::size_t open_line = line_;
    ++pos_;  // opening quote
    while (true) {
      const void* quote = std::memchr(data_.data() + pos_, '"', data_.size() - pos_);
      if (quote == nullptr) {
        throw DataError(file_, open_line, field_number,
                        "unterminated quoted field: the quote opened here never closes");
      }
      const auto end = static_cast<std::size_t>(static_cast<const char*>(quote) - data_.data());
      const std::string_view chunk = data_.substr(pos_, end - pos_);
      if (out->size() + chunk.size() > kMaxFieldBytes) {
        throw DataError(file_, open_line, field_number,
                        "field longer than " + std::string(kMaxFieldText));
      }
      line_ += static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
      out->append(chunk);
      pos_ = end + 1;
      if (pos_ < data_.size() && data_[pos_] == '"') {  // "" stands for one quote
        out->push_back('"');
        ++pos_;
        continue;
      }
      break;
    }
    if (pos_ == data_.size() || data_[pos_] == delimiter_ || data_[pos_] == '\n' || AtCrLf(pos_)) {
      return;
    }
    throw DataError(file_, line_, field_number,
                    "unexpected text after the closing quote of a quoted field (a quote inside "
                    "a quoted field must be doubled: \"\")");
  }

  std::string_view data_;
  char delimiter_;
  const std::string& file_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t record_line_ = 0;
  std::string scratch_;  // fields beyond `keep`, parsed and dropped
};

std::vector<std::string> ReadHeaderRecord(RecordReader& reader, const std::string& file) {
  std::vector<std::string> header;
  const std::size_t count = reader.Next(kMaxColumns, &header);
  if (count == 0) throw DataError(file, 0, 0, "empty file: no header row and no examples");
  if (count > kMaxColumns) {
    throw DataError(file, reader.record_line(), 0,
                    "header has " + std::to_string(count) + " columns; at most " +
                        std::to_string(kMaxColumns) + " are supported");
  }
  return header;
}

// Index of `name` in the header; `role` ("text", "label") is for the message.
std::size_t FindColumn(const std::vector<std::string>& header, const std::string& name,
                       const char* role, const std::string& file, std::size_t header_line) {
  const auto found = std::find(header.begin(), header.end(), name);
  if (found == header.end()) {
    throw DataError(file, header_line, 0,
                    std::string("no ") + role + " column \"" + name +
                        "\" in the header; its columns are " + QuotedList(header));
  }
  if (std::count(header.begin(), header.end(), name) > 1) {
    throw DataError(file, header_line, 0,
                    std::string(role) + " column \"" + name + "\" appears more than once");
  }
  return static_cast<std::size_t>(found - header.begin());
}

}  // namespace

std::vector<std::string> ReadDelimitedHeader(const std::string& path, char delimiter) {
  const std::string data = ReadTextFile(path);
  RecordReader reader(data, delimiter, path);
  return ReadHeaderRecord(reader, path);
}

std::vector<RawExample> ReadDelimited(const DatasetSource& source, char delimiter) {
  const std::string& path = source.path;
  const std::string data = ReadTextFile(path);
  RecordReader reader(data, delimiter, path);
  const std::vector<std::string> header = ReadHeaderRecord(reader, path);
  const std::size_t header_line = reader.record_line();
  const std::size_t text_index = FindColumn(header, source.text_column, "text", path, header_line);
  const std::size_t label_index =
      FindColumn(header, source.label_column, "label", path, header_line);
  const std::size_t expected = header.size();

  std::vector<RawExample> examples;
  std::vector<std::string> fields;
  while (true) {
    const std::size_t count = reader.Next(expected, &fields);
    if (count == 0) break;
    const std::size_t line = reader.record_line();
    if (count != expected) {
      // Column: the first extra field, or the first missing one.
      throw DataError(path, line, std::min(count, expected) + 1,
                      "expected " + std::to_string(expected) +
                          " fields (as in the header) but got " + std::to_string(count));
    }
    RawExample example;
    example.line = line;
    example.label = TrimLabel(fields[label_index]);
    if (example.label.empty()) {
      throw DataError(path, line, label_index + 1,
                      "empty label in column \"" + source.label_column + "\"");
    }
    example.text = std::move(fields[text_index]);
    examples.push_back(std::move(example));
  }
  if (examples.empty()) {
    throw DataError(path, 0, 0, "no examples: the file has a header row but no data rows");
  }
  return examples;
}

}  // namespace ft::data::internal
