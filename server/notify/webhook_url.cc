#include "server/notify/webhook_url.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace ft::notify {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL; empty when it is absent.
std::string Part(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string text(value);
  curl_free(value);
  return text;
}

bool IsLocalhostName(const std::string& host) {
  const std::string name = absl::AsciiStrToLower(host);
  return name == "localhost" || name == "localhost." || absl::EndsWith(name, ".localhost") ||
         absl::EndsWith(name, ".localhost.");
}

}  // namespace

absl::StatusOr<WebhookUrl> ParseWebhookUrl(const std::string& url, const std::string& field) {
  if (url.size() > kMaxUrlBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": URL of ", url.size(), " bytes; at most ", kMaxUrlBytes));
  }
  std::unique_ptr<CURLU, UrlDeleter> parsed(curl_url());
  // Without a default scheme, so that "example.com/hook" is refused rather than guessed.
  if (parsed == nullptr || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", url, "' is not a URL (expected http(s)://HOST[:PORT]/PATH)"));
  }
  WebhookUrl result;
  result.scheme = absl::AsciiStrToLower(Part(parsed.get(), CURLUPART_SCHEME));
  if (result.scheme != "http" && result.scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", url, "' has scheme '", result.scheme, "'; only http and https"));
  }
  result.host = Part(parsed.get(), CURLUPART_HOST);
  if (result.host.size() >= 2 && result.host.front() == '[' && result.host.back() == ']') {
    result.host = result.host.substr(1, result.host.size() - 2);
  }
  if (result.host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", url, "' names no host"));
  }
  return result;
}

absl::Status CheckJobWebhookUrls(const google::protobuf::RepeatedPtrField<std::string>& urls,
                                 const AddressPolicy& policy) {
  if (urls.size() > kMaxJobUrls) {
    return absl::InvalidArgumentError(
        absl::StrCat("spec.notify: ", urls.size(), " URLs; at most ", kMaxJobUrls));
  }
  for (int i = 0; i < urls.size(); ++i) {
    const std::string field = absl::StrCat("spec.notify[", i, "]");
    FT_ASSIGN_OR_RETURN(WebhookUrl url, ParseWebhookUrl(urls[i], field));
    if (!policy.allow_private && (IsLocalhostName(url.host) || IsInternalAddressText(url.host))) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": '", urls[i], "' points at ", url.host,
          ", a loopback, link-local or private address, which job webhooks may not reach unless "
          "ftd runs with --webhook-allow-private"));
    }
  }
  return absl::OkStatus();
}

}  // namespace ft::notify
