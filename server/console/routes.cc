#include "server/console/routes.h"

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ft::console {
namespace {

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

// A relative '/'-separated path without empty, "." or ".." parts. ftd's DownloadArtifact refuses
// the others too; the console does not even pass them on.
bool IsArtifactName(absl::string_view name) {
  if (name.empty() || name.size() > 4096) return false;
  if (name.find('\0') != absl::string_view::npos) return false;
  if (name.find('\\') != absl::string_view::npos) return false;
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool IsTicket(absl::string_view ticket) {
  if (ticket.size() != 64) return false;
  for (char c : ticket) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Route JobRoute(Endpoint endpoint, absl::string_view id, absl::string_view name = "") {
  if (!IsJobId(id)) return Route{};
  return Route{endpoint, std::string(id), std::string(name)};
}

Route NotAllowed() { return Route{Endpoint::kMethodNotAllowed, "", ""}; }

Route ForMethod(absl::string_view method, absl::string_view wanted, Route route) {
  if (route.endpoint == Endpoint::kNotFound || method == wanted) return route;
  return NotAllowed();
}

// The path after /api/v1/jobs/ with no further '/': {id} or {id}:cancel.
Route MatchJob(absl::string_view method, absl::string_view id) {
  if (absl::ConsumeSuffix(&id, ":cancel")) {
    return ForMethod(method, "POST", JobRoute(Endpoint::kCancelJob, id));
  }
  Route job = JobRoute(Endpoint::kGetJob, id);
  if (job.endpoint == Endpoint::kNotFound || method == "GET") return job;
  if (method != "DELETE") return NotAllowed();
  job.endpoint = Endpoint::kDeleteJob;
  return job;
}

}  // namespace

Route MatchRoute(absl::string_view method, absl::string_view path) {
  if (!absl::StartsWith(path, "/api/")) {
    if (method != "GET" && method != "HEAD") return NotAllowed();
    return Route{Endpoint::kAsset, "", path == "/" ? "/index.html" : std::string(path)};
  }
  if (path == "/api/v1/jobs") {
    if (method == "GET") return Route{Endpoint::kListJobs, "", ""};
    if (method == "POST") return Route{Endpoint::kSubmitJob, "", ""};
    return NotAllowed();
  }
  absl::string_view rest = path;
  if (absl::ConsumePrefix(&rest, "/api/v1/downloads/")) {
    if (!IsTicket(rest)) return Route{};
    return ForMethod(method, "GET", Route{Endpoint::kDownloadByLink, "", std::string(rest)});
  }
  if (!absl::ConsumePrefix(&rest, "/api/v1/jobs/")) return Route{};
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return MatchJob(method, rest);
  const absl::string_view id = rest.substr(0, slash);
  absl::string_view tail = rest.substr(slash);
  if (tail == "/events") return ForMethod(method, "GET", JobRoute(Endpoint::kWatchJob, id));
  if (tail == "/artifacts") {
    return ForMethod(method, "GET", JobRoute(Endpoint::kListArtifacts, id));
  }
  if (tail == "/download_links") {
    return ForMethod(method, "POST", JobRoute(Endpoint::kCreateDownloadLink, id));
  }
  if (absl::ConsumePrefix(&tail, "/artifacts/") && IsArtifactName(tail)) {
    return ForMethod(method, "GET", JobRoute(Endpoint::kDownloadArtifact, id, tail));
  }
  return Route{};
}

}  // namespace ft::console
