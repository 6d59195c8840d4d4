#include "server/notify/webhook_sender.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "server/notify/webhook_signer.h"

namespace ft::notify {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct HeaderListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct TransferState {
  const AddressPolicy* policy = nullptr;  // null: operator URL, any address
  const std::atomic<bool>* stopping = nullptr;
  bool refused = false;
  std::string refused_address;
};

curl_socket_t OpenCheckedSocket(void* user, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* state = static_cast<TransferState*>(user);
  if (state->policy != nullptr && !MayConnect(*state->policy, &address->addr)) {
    state->refused = true;
    char text[INET6_ADDRSTRLEN] = "?";
    const void* raw = address->family == AF_INET6
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr)
                          : &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr;
    inet_ntop(address->family, raw, text, sizeof(text));
    state->refused_address = text;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

size_t DiscardBody(char* /*data*/, size_t size, size_t count, void* /*user*/) {
  return size * count;
}

int AbortWhenStopping(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* state = static_cast<TransferState*>(user);
  return state->stopping != nullptr && state->stopping->load() ? 1 : 0;
}

}  // namespace

WebhookSender::WebhookSender(SenderOptions options, const std::atomic<bool>* stopping)
    : options_(std::move(options)), stopping_(stopping) {
  static std::once_flag curl_initialized;
  std::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SendResult WebhookSender::Send(const WebhookRequest& request) const {
  SendResult result;
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (curl == nullptr) {
    result.error = "libcurl: cannot create a transfer";
    return result;
  }
  TransferState state;
  state.policy = request.operator_url ? nullptr : &options_.policy;
  state.stopping = stopping_;

  curl_slist* raw_headers = nullptr;
  const auto add_header = [&](const std::string& line) {
    raw_headers = curl_slist_append(raw_headers, line.c_str());
  };
  add_header("Content-Type: application/json");
  add_header("User-Agent: ftd-webhooks/1");
  add_header("Expect:");  // no 100-continue round trip
  add_header(absl::StrCat(kDeliveryHeader, ": ", request.delivery_id));
  add_header(absl::StrCat(kEventHeader, ": ", request.event_type));
  if (!options_.secret.empty()) {
    add_header(absl::StrCat(kSignatureHeader, ": ",
                            SignatureValue(options_.secret, request.unix_seconds, request.body)));
  }
  std::unique_ptr<curl_slist, HeaderListDeleter> headers(raw_headers);

  CURL* c = curl.get();
  const long timeout_ms = static_cast<long>(absl::ToInt64Milliseconds(options_.timeout));
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  // Threads of their own: no signals (SIGALRM-based DNS timeouts would hit any thread).
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 5000L));
  // A redirect could lead anywhere, and a proxy would hide the address the policy must see.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, OpenCheckedSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &state);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, AbortWhenStopping);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &state);

  const CURLcode code = curl_easy_perform(c);
  if (state.refused) {
    result.refused_address = true;
    result.error = absl::StrCat("refused: ", state.refused_address,
                                " is a loopback, link-local or private address "
                                "(--webhook-allow-private)");
    return result;
  }
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
    return result;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.http_status);
  if (result.http_status < 200 || result.http_status >= 300) {
    result.error = absl::StrCat("HTTP ", result.http_status);
  }
  return result;
}

}  // namespace ft::notify
