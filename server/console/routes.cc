#include "server/console/routes.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace ft::console {
namespace {

constexpr absl::string_view kJobs = "/api/v1/jobs";

// Job ids are ftd's own ("job-..."): letters, digits, '-' and '_'. Anything else (a '/', '..',
// an empty id) names no job.
bool IsJobId(absl::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Route JobRoute(Endpoint endpoint, absl::string_view id) {
  if (!IsJobId(id)) return Route{};
  return Route{endpoint, std::string(id), ""};
}

Route ForMethod(absl::string_view method, absl::string_view wanted, Route route) {
  if (route.endpoint == Endpoint::kNotFound || method == wanted) return route;
  return Route{Endpoint::kMethodNotAllowed, "", ""};
}

}  // namespace

Route MatchRoute(absl::string_view method, absl::string_view path) {
  if (!absl::StartsWith(path, "/api/")) {
    if (method != "GET" && method != "HEAD") return Route{Endpoint::kMethodNotAllowed, "", ""};
    return Route{Endpoint::kAsset, "", path == "/" ? "/index.html" : std::string(path)};
  }
  if (path == kJobs) {
    if (method == "GET") return Route{Endpoint::kListJobs, "", ""};
    if (method == "POST") return Route{Endpoint::kSubmitJob, "", ""};
    return Route{Endpoint::kMethodNotAllowed, "", ""};
  }
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, kJobs) || !absl::ConsumePrefix(&rest, "/")) return Route{};
  if (absl::ConsumeSuffix(&rest, ":cancel")) {
    return ForMethod(method, "POST", JobRoute(Endpoint::kCancelJob, rest));
  }
  if (absl::ConsumeSuffix(&rest, "/events")) {
    return ForMethod(method, "GET", JobRoute(Endpoint::kWatchJob, rest));
  }
  Route job = JobRoute(Endpoint::kGetJob, rest);
  if (job.endpoint == Endpoint::kNotFound || method == "GET") return job;
  if (method == "DELETE") {
    job.endpoint = Endpoint::kDeleteJob;
    return job;
  }
  return Route{Endpoint::kMethodNotAllowed, "", ""};
}

}  // namespace ft::console
