// A job's files over HTTP: GET /api/v1/jobs/{id}/artifacts/{name} streams DownloadArtifact as
// the body (one 1 MiB chunk in flight, so ftd's memory stays flat however large the file), with
// its length, its SHA-256 (Repr-Digest) and resume from a byte offset (Range: bytes=N-, 206).
// The page cannot set an Authorization header on a link, so it asks for a one-use link instead
// (POST /api/v1/jobs/{id}/download_links, download_links.h) and follows that.
#pragma once

#include <optional>
#include <string>

#include "ft/v1/finetune_service.grpc.pb.h"
#include "server/console/download_links.h"
#include "server/console/http_request.h"
#include "server/console/open_calls.h"
#include "server/console/routes.h"

namespace ft::console {

class ArtifactDownloads {
 public:
  ArtifactDownloads(ft::v1::FinetuneService::StubInterface* stub, DownloadLinks* links)
      : stub_(stub), links_(links) {}

  // POST /api/v1/jobs/{id}/download_links, body {"name": "..."}: {"url": "/api/v1/downloads/T",
  // "expires_in_seconds": 60} once the caller may see the job.
  HttpReply CreateLink(const Route& route, const HttpRequest& request);

  // kDownloadArtifact or kDownloadByLink: streams the file into `out`; a refusal before the
  // first byte (bad token or link, unknown job or file, offset past the end) is returned.
  std::optional<HttpReply> Serve(const Route& route, const HttpRequest& request,
                                 ResponseStream* out);

  // Ends every download in progress and refuses new ones (shutdown).
  void CancelAll() { open_.CancelAll(); }

 private:
  std::optional<HttpReply> Stream(const std::string& job_id, const std::string& name,
                                  const HttpRequest& request, ResponseStream* out);

  ft::v1::FinetuneService::StubInterface* stub_;
  DownloadLinks* links_;
  OpenCalls open_;
};

// The first byte a Range header asks for: N of "bytes=N-"; 0 for no header or any other form,
// which is then answered in full (RFC 9110 lets a server ignore Range).
uint64_t RangeStart(const std::string& range);

}  // namespace ft::console
