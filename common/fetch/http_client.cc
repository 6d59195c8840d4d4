#include "common/fetch/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>

namespace ft::fetch {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  HttpResponse response;
  std::FILE* file = nullptr;      // downloads
  bool append_allowed = false;    // the file held bytes and Range was asked for
  int64_t start_offset = 0;
  bool decided = false;           // status seen; file positioned
  std::string path;
  std::string error;
  DownloadProgress progress;
  int64_t written = 0;
  CURL* curl_handle = nullptr;
  bool discard_body = false;  // an error status: its body is not the file's content
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();  // a redirect's or 100-continue's headers start over
    return size * count;
  }
  const auto colon = line.find(':');
  if (colon == std::string::npos) return size * count;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  size_t start = colon + 1;
  while (start < line.size() && line[start] == ' ') ++start;
  transfer->response.headers[name] = line.substr(start);
  return size * count;
}

size_t OnBodyToString(char* data, size_t size, size_t count, void* user) {
  static_cast<Transfer*>(user)->response.body.append(data, size * count);
  return size * count;
}

// Positions the file once the final status is known: append after a 206, start over otherwise.
bool PrepareFile(Transfer& transfer, CURL* curl) {
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  transfer.decided = true;
  if (status != 200 && status != 206) {
    transfer.discard_body = true;
    return true;
  }
  const bool append = transfer.append_allowed && status == 206;
  transfer.file = std::fopen(transfer.path.c_str(), append ? "ab" : "wb");
  if (transfer.file == nullptr) {
    transfer.error = "cannot write " + transfer.path;
    return false;
  }
  transfer.written = append ? transfer.start_offset : 0;
  return true;
}

// The file is opened at the first body byte, when curl knows the final status.
size_t OnBodyToFile(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->decided && !PrepareFile(*transfer, transfer->curl_handle)) return 0;
  const size_t bytes = size * count;
  if (transfer->discard_body) return bytes;
  if (std::fwrite(data, 1, bytes, transfer->file) != bytes) {
    transfer->error = "cannot write " + transfer->path + " (disk full?)";
    return 0;
  }
  transfer->written += static_cast<int64_t>(bytes);
  return bytes;
}

std::string UrlForErrors(const std::string& url) {
  // Never echo credentials that a URL might carry.
  const auto at = url.find('@');
  const auto scheme = url.find("://");
  if (at != std::string::npos && scheme != std::string::npos && at > scheme) {
    return url.substr(0, scheme + 3) + url.substr(at + 1);
  }
  return url;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

HttpResponse Perform(const HttpRequest& request, Transfer& transfer, bool head, bool to_file) {
  GlobalInitOnce();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw TransferError("cannot initialise libcurl");
  curl_slist* raw_headers = nullptr;
  for (const std::string& header : request.headers) {
    raw_headers = curl_slist_append(raw_headers, header.c_str());
  }
  std::string range;
  if (to_file && transfer.start_offset > 0) {
    range = "Range: bytes=" + std::to_string(transfer.start_offset) + "-";
    raw_headers = curl_slist_append(raw_headers, range.c_str());
    transfer.append_allowed = true;
  }
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  CURL* handle = curl.get();
  curl_easy_setopt(handle, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, request.connect_timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, request.stall_timeout_seconds);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "ftd/1 (+libcurl)");
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &transfer);
  if (head) {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (to_file) {
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBodyToFile);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
    curl_easy_setopt(
        handle, CURLOPT_XFERINFOFUNCTION,
        +[](void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) -> int {
          auto* t = static_cast<Transfer*>(user);
          if (t->progress && t->decided && !t->discard_body) {
            t->progress(t->written, total > 0 ? t->written - now + total : -1);
          }
          return 0;
        });
  } else {
    curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBodyToString);
    curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  }
  transfer.response.body.clear();
  transfer.curl_handle = handle;
  const CURLcode code = curl_easy_perform(handle);
  if (transfer.file != nullptr) {
    if (std::fclose(transfer.file) != 0 && transfer.error.empty()) {
      transfer.error = "cannot write " + transfer.path;
    }
    transfer.file = nullptr;
  }
  if (!transfer.error.empty()) throw TransferError(transfer.error);
  if (code != CURLE_OK) {
    throw TransferError(UrlForErrors(request.url) + ": " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  return transfer.response;
}

}  // namespace

std::string HttpResponse::Header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpResponse HttpHead(const HttpRequest& request) {
  Transfer transfer;
  return Perform(request, transfer, /*head=*/true, /*to_file=*/false);
}

HttpResponse HttpGet(const HttpRequest& request) {
  Transfer transfer;
  return Perform(request, transfer, /*head=*/false, /*to_file=*/false);
}

HttpResponse HttpDownload(const HttpRequest& request, const std::string& path,
                          const DownloadProgress& progress) {
  Transfer transfer;
  transfer.path = path;
  transfer.progress = progress;
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  transfer.start_offset = ec ? 0 : static_cast<int64_t>(size);
  HttpResponse response = Perform(request, transfer, /*head=*/false, /*to_file=*/true);
  if (!transfer.decided && response.status == 200 && transfer.start_offset > 0) {
    // An empty 200 body: the file is the empty resource now.
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file != nullptr) std::fclose(file);
  }
  return response;
}

HttpResponse HttpDownloadWithRetries(const HttpRequest& request, const std::string& path,
                                     int attempts,
                                     const std::function<void(const std::string&)>& on_retry) {
  for (int attempt = 1;; ++attempt) {
    try {
      return HttpDownload(request, path);
    } catch (const TransferError& e) {
      if (attempt >= attempts) throw;
      on_retry(e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
  }
}

}  // namespace ft::fetch
