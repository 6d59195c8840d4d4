// A small blocking HTTP(S) client over libcurl, for the Hugging Face Hub and named datasets: a
// request gets a response with its headers; a download streams into a file and resumes one
// that is already partly there (Range). Errors name the URL.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace ft::fetch {

// A transfer that could not complete (no connection, reset, timeout): worth retrying, unlike an
// HTTP error status, which the response reports.
class TransferError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  bool follow_redirects = true;
  long connect_timeout_seconds = 20;
  // A transfer slower than 1 KiB/s for this long is abandoned (TransferError).
  long stall_timeout_seconds = 60;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; the last response's
  std::string body;                            // empty for HEAD and file downloads
  std::string Header(const std::string& lower_name) const;
};

HttpResponse HttpHead(const HttpRequest& request);
HttpResponse HttpGet(const HttpRequest& request);

// bytes written to the file so far (including what it held before), total or -1 when unknown.
using DownloadProgress = std::function<void(int64_t done, int64_t total)>;

// GETs request.url into `path`. When `path` already holds bytes, asks for the rest (Range) and
// appends on 206, starts over on 200, and takes 416 (nothing left) as complete. The response's
// status is returned as is: callers check it (a 404 writes nothing).
HttpResponse HttpDownload(const HttpRequest& request, const std::string& path,
                          const DownloadProgress& progress = nullptr);

// HttpDownload, retried with growing pauses while the transfer breaks off (each retry resumes
// where the file stopped); `on_retry` hears why. Throws the last TransferError after `attempts`.
HttpResponse HttpDownloadWithRetries(const HttpRequest& request, const std::string& path,
                                     int attempts,
                                     const std::function<void(const std::string&)>& on_retry);

}  // namespace ft::fetch
