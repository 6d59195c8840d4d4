// An HTTP request and reply as the console's logic sees them: plain values, no server library.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ft::console {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // decoded, without the query string
  std::string query;          // raw query string, without '?'
  std::string authorization;  // the Authorization header as sent ("Bearer TOKEN"), or empty
  std::string content_type;
  std::string range;  // the Range header ("bytes=N-"), or empty
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The status line and headers of a reply whose body is streamed.
struct StreamHead {
  int status = 200;
  std::string content_type;
  std::optional<uint64_t> content_length;  // none: the body ends when the connection closes
  std::vector<std::pair<std::string, std::string>> headers;
};

// Where a streamed reply goes: the HTTP connection, or a test's buffer.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Sends the status line and headers; false when the client has gone.
  virtual bool Start(const StreamHead& head) = 0;
  // Sends bytes of the body; false when the client has gone.
  virtual bool Write(absl::string_view bytes) = 0;
};

// The decoded parameters of a query string ("a=1&b=x%20y&a=2"), repeated keys kept in order.
// INVALID_ARGUMENT for a bad %-escape.
absl::StatusOr<std::multimap<std::string, std::string>> ParseQuery(absl::string_view query);

}  // namespace ft::console
