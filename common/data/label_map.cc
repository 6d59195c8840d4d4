// LabelMap: integer labels are their own class ids; any other label set is numbered in byte-wise
// sorted order.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "common/data/excerpt.h"

namespace ft::data {
namespace {

constexpr int64_t kMaxIntegerLabel = 100000;
constexpr std::size_t kMaxLabelsInMessage = 20;

// Only canonical decimals count as integers ("7", "-3"; not "07", "+7", "-0", " 7"), so two
// different label strings never share an id.
bool IsCanonicalInteger(const std::string& label) {
  std::size_t digits = label.size();
  std::size_t first = 0;
  if (!label.empty() && label[0] == '-') {
    first = 1;
    --digits;
  }
  if (digits == 0) return false;
  if (!std::all_of(label.begin() + first, label.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (label[first] == '0') return digits == 1 && first == 0;
  return true;
}

// Value of a canonical integer, saturated to just above kMaxIntegerLabel in magnitude.
int64_t SaturatedValue(const std::string& label) {
  const bool negative = label[0] == '-';
  int64_t value = 0;
  for (std::size_t i = negative ? 1 : 0; i < label.size(); ++i) {
    value = value * 10 + (label[i] - '0');
    if (value > kMaxIntegerLabel) {
      value = kMaxIntegerLabel + 1;
      break;
    }
  }
  return negative ? -value : value;
}

std::string Where(const RawExample& example) {
  return example.line > 0 ? " (line " + std::to_string(example.line) + ")" : "";
}

}  // namespace

LabelMap LabelMap::Build(const std::vector<RawExample>& train, const std::string& file) {
  if (train.empty()) {
    throw DataError(file, 0, 0, "no training examples to build the label map from");
  }
  // With the file named, DataError puts "file:line: " in front; without, the message says the line.
  const auto where = [&file](const RawExample& example) {
    return file.empty() ? Where(example) : std::string();
  };
  LabelMap map;
  const bool all_integers = std::all_of(
      train.begin(), train.end(), [](const RawExample& e) { return IsCanonicalInteger(e.label); });
  if (all_integers) {
    int64_t max_label = 0;
    for (const RawExample& example : train) {
      const int64_t value = SaturatedValue(example.label);
      if (value < 0) {
        throw DataError(file, example.line, 0,
                        "label \"" + Excerpt(example.label) + "\"" + where(example) +
                            " is negative: integer labels must be class ids 0..N-1");
      }
      if (value > kMaxIntegerLabel) {
        throw DataError(file, example.line, 0,
                        "label \"" + Excerpt(example.label) + "\"" + where(example) +
                            " is too large: integer labels must be class ids 0.." +
                            std::to_string(kMaxIntegerLabel));
      }
      max_label = std::max(max_label, value);
      map.ids_[example.label] = value;
    }
    for (int64_t id = 0; id <= max_label; ++id) map.names_.push_back(std::to_string(id));
    return map;
  }
  const std::set<std::string> sorted = [&train] {
    std::set<std::string> labels;
    for (const RawExample& example : train) labels.insert(example.label);
    return labels;
  }();
  for (const std::string& label : sorted) {
    map.ids_[label] = static_cast<int64_t>(map.names_.size());
    map.names_.push_back(label);
  }
  return map;
}

int64_t LabelMap::IdOf(const RawExample& example, const std::string& file) const {
  const auto found = ids_.find(example.label);
  if (found != ids_.end()) return found->second;

  // The labels the training split had, in id order.
  std::vector<const std::string*> known;
  for (const std::string& name : names_) {
    if (ids_.count(name) > 0) known.push_back(&name);
  }
  std::string list;
  for (std::size_t i = 0; i < known.size() && i < kMaxLabelsInMessage; ++i) {
    if (!list.empty()) list += ", ";
    list += '"' + Excerpt(*known[i]) + '"';
  }
  if (known.size() > kMaxLabelsInMessage) {
    list += ", ... (" + std::to_string(known.size()) + " in all)";
  }
  throw DataError(file, example.line, 0,
                  "unknown label \"" + Excerpt(example.label) +
                      "\" in the label column: the training split has only " + list);
}

}  // namespace ft::data
