#include "client/lib/format/text_util.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace ft::client {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<int64_t>(std::llround(seconds));
  if (total < 60) return absl::StrFormat("%ds", total);
  if (total < 3600) return absl::StrFormat("%dm%02ds", total / 60, total % 60);
  if (total < 86400) return absl::StrFormat("%dh%02dm", total / 3600, total % 3600 / 60);
  return absl::StrFormat("%dd%02dh", total / 86400, total % 86400 / 3600);
}

std::string FormatAge(absl::Duration age) {
  const int64_t seconds = std::max<int64_t>(0, absl::ToInt64Seconds(age));
  if (seconds < 60) return absl::StrFormat("%ds", seconds);
  if (seconds < 3600) return absl::StrFormat("%dm", seconds / 60);
  if (seconds < 86400) return absl::StrFormat("%dh", seconds / 3600);
  return absl::StrFormat("%dd", seconds / 86400);
}

std::string StateName(ft::v1::JobState state) {
  const std::string& name = ft::v1::JobState_Name(state);
  return name.empty() ? absl::StrFormat("STATE_%d", static_cast<int>(state)) : name;
}

bool IsFinalState(ft::v1::JobState state) {
  return state == ft::v1::SUCCEEDED || state == ft::v1::FAILED || state == ft::v1::CANCELLED;
}

std::optional<ft::v1::JobState> ParseState(absl::string_view name) {
  ft::v1::JobState state;
  if (!ft::v1::JobState_Parse(absl::AsciiStrToUpper(name), &state) ||
      state == ft::v1::JOB_STATE_UNSPECIFIED) {
    return std::nullopt;
  }
  return state;
}

size_t VisibleWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte == 0x1b && i + 1 < text.size() && text[i + 1] == '[') {
      // CSI ... final byte in 0x40..0x7e.
      i += 2;
      while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      continue;
    }
    if ((byte & 0xC0) != 0x80) ++width;  // not a UTF-8 continuation byte
  }
  return width;
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], VisibleWidth(row[i]));
    }
  };
  measure(header);
  for (const auto& row : rows) measure(row);
  std::string out;
  auto append = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - VisibleWidth(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  append(header);
  for (const auto& row : rows) append(row);
  return out;
}

}  // namespace ft::client
