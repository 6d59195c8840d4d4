// An HTTP request and reply as the console's logic sees them: plain values, no server library.
#pragma once

#include <map>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace ft::console {

struct HttpRequest {
  std::string method;         // "GET", "POST", ...
  std::string path;           // decoded, without the query string
  std::string query;          // raw query string, without '?'
  std::string authorization;  // the Authorization header as sent ("Bearer TOKEN"), or empty
  std::string content_type;
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// The decoded parameters of a query string ("a=1&b=x%20y&a=2"), repeated keys kept in order.
// INVALID_ARGUMENT for a bad %-escape.
absl::StatusOr<std::multimap<std::string, std::string>> ParseQuery(absl::string_view query);

}  // namespace ft::console
