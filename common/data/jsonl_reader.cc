// JSON Lines: one JSON object per line, blank lines skipped. The text and label columns are keys;
// a label may be a string or an integer (read as its decimal string).
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/data/dataset.h"
#include "common/data/readers.h"

namespace ft::data::internal {
namespace {

// ordered_json keeps the keys in file order, which is what ReadHeader reports.
using Json = nlohmann::ordered_json;

// Calls visit(line_number, line) for every line that is not blank, '\r' of CRLF removed.
template <typename Visit>
void ForEachLine(std::string_view data, const std::string& file, Visit&& visit) {
  std::size_t line_number = 0;
  std::size_t pos = 0;
  while (pos < data.size()) {
    ++line_number;
    std::size_t end = data.find('\n', pos);
    if (end == std::string_view::npos) end = data.size();
    std::string_view line = data.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() > kMaxFieldBytes) {
      throw DataError(file, line_number, 0, "line longer than " + std::string(kMaxFieldText));
    }
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (line.back() == '\r') line.remove_suffix(1);
    if (!visit(line_number, line)) return;
  }
}

Json ParseObject(std::string_view line, const std::string& file, std::size_t line_number) {
  Json value;
  try {
    value = Json::parse(line.begin(), line.end());
  } catch (const Json::exception& error) {  // parse_error, or out_of_range for 1e999
    // nlohmann's message ends with "; last read: '<bytes of the line>'": not for error messages.
    std::string what = error.what();
    what = what.substr(0, what.find("; last read"));
    throw DataError(file, line_number, 0, "invalid JSON: " + what);
  }
  if (!value.is_object()) {
    throw DataError(file, line_number, 0,
                    std::string("expected a JSON object, got ") + value.type_name());
  }
  return value;
}

std::vector<std::string> KeysOf(const Json& object) {
  std::vector<std::string> keys;
  for (const auto& item : object.items()) keys.push_back(item.key());
  return keys;
}

const Json& Member(const Json& object, const std::string& key, const char* role,
                   const std::string& file, std::size_t line_number) {
  const auto found = object.find(key);
  if (found == object.end()) {
    throw DataError(file, line_number, 0,
                    std::string("missing ") + role + " key \"" + key + "\"; the object has keys " +
                        QuotedList(KeysOf(object)));
  }
  return *found;
}

std::string LabelText(const Json& label, const DatasetSource& source, std::size_t line_number) {
  std::string text;
  if (label.is_string()) {
    text = TrimLabel(label.get_ref<const std::string&>());
  } else if (label.is_number_unsigned()) {
    text = std::to_string(label.get<uint64_t>());
  } else if (label.is_number_integer()) {
    text = std::to_string(label.get<int64_t>());
  } else {
    throw DataError(source.path, line_number, 0,
                    "label \"" + source.label_column + "\" must be a string or an integer, got " +
                        label.type_name());
  }
  if (text.empty()) {
    throw DataError(source.path, line_number, 0, "empty label \"" + source.label_column + "\"");
  }
  return text;
}

}  // namespace

void ForEachJsonlObject(std::string_view data, const std::string& file,
                        const std::function<bool(std::size_t, const Json&)>& visit) {
  ForEachLine(data, file, [&](std::size_t line_number, std::string_view line) {
    return visit(line_number, ParseObject(line, file, line_number));
  });
}

std::vector<std::string> ReadJsonlHeader(const std::string& path) {
  const std::string data = ReadTextFile(path);
  std::vector<std::string> keys;
  bool found = false;
  ForEachLine(data, path, [&](std::size_t line_number, std::string_view line) {
    keys = KeysOf(ParseObject(line, path, line_number));
    found = true;
    return false;  // only the first record
  });
  if (!found) throw DataError(path, 0, 0, "empty file: no JSON records");
  return keys;
}

std::vector<RawExample> ReadJsonl(const DatasetSource& source) {
  const std::string& path = source.path;
  const std::string data = ReadTextFile(path);
  std::vector<RawExample> examples;
  ForEachLine(data, path, [&](std::size_t line_number, std::string_view line) {
    const Json object = ParseObject(line, path, line_number);
    const Json& text = Member(object, source.text_column, "text", path, line_number);
    const Json& label = Member(object, source.label_column, "label", path, line_number);
    if (!text.is_string()) {
      throw DataError(
          path, line_number, 0,
          "text \"" + source.text_column + "\" must be a string, got " + text.type_name());
    }
    RawExample example;
    example.line = line_number;
    example.label = LabelText(label, source, line_number);
    example.text = text.get<std::string>();
    examples.push_back(std::move(example));
    return true;
  });
  if (examples.empty()) throw DataError(path, 0, 0, "no examples: the file has no JSON records");
  return examples;
}

}  // namespace ft::data::internal
