// The console's URL space: which endpoint a method and path name, and the job id in it. Knows
// nothing of HTTP servers or gRPC, so that it is tested by itself.
//
//   GET    /api/v1/jobs                 ListJobs (?state=RUNNING&state=...&page_size=&page_token=)
//   POST   /api/v1/jobs                 SubmitJob (body: SubmitJobRequest as JSON)
//   GET    /api/v1/jobs/{id}            GetJob
//   DELETE /api/v1/jobs/{id}            DeleteJob
//   POST   /api/v1/jobs/{id}:cancel     CancelJob (body: optional {"reason": "..."})
//   GET    /api/v1/jobs/{id}/events     WatchJob as server-sent events (?after_seq=N)
//   GET    /api/v1/jobs/{id}/artifacts  ListArtifacts
//   GET    /api/v1/jobs/{id}/artifacts/{name}  DownloadArtifact (name may hold '/'; Range:
//   bytes=N-) POST   /api/v1/jobs/{id}/download_links    a one-use link for the page (body:
//   {"name": ...}) GET    /api/v1/downloads/{ticket}   the download such a link stands for GET
//   anything else                a page asset (/ is /index.html)
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace ft::console {

enum class Endpoint {
  kListJobs,
  kSubmitJob,
  kGetJob,
  kDeleteJob,
  kCancelJob,
  kWatchJob,
  kListArtifacts,
  kDownloadArtifact,
  kCreateDownloadLink,
  kDownloadByLink,
  kAsset,             // a GET outside /api/
  kNotFound,          // no such API path
  kMethodNotAllowed,  // a known path, another method
};

struct Route {
  Endpoint endpoint = Endpoint::kNotFound;
  std::string job_id;  // for the per-job endpoints
  // kAsset: the asset's path ("/index.html"); kDownloadArtifact: the artifact's name;
  // kDownloadByLink: the ticket.
  std::string name;
};

// `path` is the decoded path without the query string.
Route MatchRoute(absl::string_view method, absl::string_view path);

}  // namespace ft::console
