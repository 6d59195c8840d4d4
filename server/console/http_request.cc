#include "server/console/http_request.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ft::console {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      const int high = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      const int low = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("query: bad %-escape in '", text.substr(0, 64), "'"));
      }
      out += static_cast<char>(high * 16 + low);
      i += 2;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::multimap<std::string, std::string>> ParseQuery(absl::string_view query) {
  std::multimap<std::string, std::string> parameters;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const std::pair<absl::string_view, absl::string_view> key_value =
        absl::StrSplit(pair, absl::MaxSplits('=', 1));
    absl::StatusOr<std::string> key = PercentDecode(key_value.first);
    if (!key.ok()) return key.status();
    absl::StatusOr<std::string> value = PercentDecode(key_value.second);
    if (!value.ok()) return value.status();
    parameters.emplace(*std::move(key), *std::move(value));
  }
  return parameters;
}

}  // namespace ft::console
