#include "server/console/artifact_download.h"

#include <chrono>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/console/json_gateway.h"
#include "spdlog/spdlog.h"

namespace ft::console {
namespace {

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

// The file name a browser saves under: the last part of the artifact's name, with anything that
// could break the header or a file system replaced.
std::string SaveAsName(const std::string& name) {
  std::string base = name.substr(name.rfind('/') + 1);
  for (char& c : base) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  return base;
}

StreamHead HeadFor(const ft::v1::Artifact& artifact, uint64_t offset) {
  StreamHead head;
  head.status = offset > 0 ? 206 : 200;
  head.content_type = "application/octet-stream";
  head.content_length = artifact.size_bytes() - offset;
  head.headers.push_back({"Content-Disposition", absl::StrCat("attachment; filename=\"",
                                                              SaveAsName(artifact.name()), "\"")});
  head.headers.push_back({"Accept-Ranges", "bytes"});
  // RFC 9530: the digest of the whole file, also on a 206, so that a resumed download is checked.
  head.headers.push_back(
      {"Repr-Digest",
       absl::StrCat("sha-256=:", absl::Base64Escape(absl::HexStringToBytes(artifact.sha256())),
                    ":")});
  head.headers.push_back({"ETag", absl::StrCat("\"", artifact.sha256(), "\"")});
  if (offset > 0) {
    head.headers.push_back(
        {"Content-Range", absl::StrCat("bytes ", offset, "-", artifact.size_bytes() - 1, "/",
                                       artifact.size_bytes())});
  }
  return head;
}

}  // namespace

uint64_t RangeStart(const std::string& range) {
  absl::string_view spec = range;
  uint64_t start = 0;
  if (!absl::ConsumePrefix(&spec, "bytes=") || !absl::ConsumeSuffix(&spec, "-") ||
      !absl::SimpleAtoi(spec, &start)) {
    return 0;
  }
  return start;
}

HttpReply ArtifactDownloads::CreateLink(const Route& route, const HttpRequest& request) {
  const nlohmann::json body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/
                                                    false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      body.size() != 1) {
    return ErrorReply(InvalidArgument(
        "request body: expected {\"name\": \"ARTIFACT\"} (a name from GET .../artifacts)"));
  }
  const std::string name = body["name"].get<std::string>();
  const Route file =
      MatchRoute("GET", absl::StrCat("/api/v1/jobs/", route.job_id, "/artifacts/", name));
  if (file.endpoint != Endpoint::kDownloadArtifact) {
    return ErrorReply(InvalidArgument(absl::StrCat("name: '", name, "' is not an artifact name")));
  }
  // The caller must see the job now; the download itself is authorized again with the token.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  if (grpc::Status status = PrepareContext(request, &context); !status.ok()) {
    return ErrorReply(status);
  }
  ft::v1::GetJobRequest get;
  get.set_job_id(route.job_id);
  ft::v1::Job job;
  if (grpc::Status status = stub_->GetJob(&context, get, &job); !status.ok()) {
    return ErrorReply(status);
  }
  const std::string ticket = links_->Issue({request.authorization, route.job_id, name});
  const nlohmann::json reply = {{"url", "/api/v1/downloads/" + ticket}, {"expires_in_seconds", 60}};
  return HttpReply{200, "application/json", reply.dump()};
}

std::optional<HttpReply> ArtifactDownloads::Serve(const Route& route, const HttpRequest& request,
                                                  ResponseStream* out) {
  if (route.endpoint == Endpoint::kDownloadArtifact) {
    return Stream(route.job_id, route.name, request, out);
  }
  std::optional<DownloadTicket> ticket = links_->Redeem(route.name);
  if (!ticket) {
    return ErrorReply(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   "download link unknown, already used or expired (links last "
                                   "60 s and serve once)"));
  }
  HttpRequest as_owner = request;
  as_owner.authorization = ticket->authorization;
  return Stream(ticket->job_id, ticket->name, as_owner, out);
}

std::optional<HttpReply> ArtifactDownloads::Stream(const std::string& job_id,
                                                   const std::string& name,
                                                   const HttpRequest& request,
                                                   ResponseStream* out) {
  grpc::ClientContext context;
  if (grpc::Status status = PrepareContext(request, &context); !status.ok()) {
    return ErrorReply(status);
  }
  OpenCall call(&open_, &context);
  if (call.admission() != Admission::kAdmitted) {
    return ErrorReply(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ftd is shutting down"));
  }
  ft::v1::DownloadArtifactRequest download;
  download.set_job_id(job_id);
  download.set_name(name);
  download.set_offset(RangeStart(request.range));
  std::unique_ptr<grpc::ClientReaderInterface<ft::v1::ArtifactChunk>> reader =
      stub_->DownloadArtifact(&context, download);
  ft::v1::ArtifactChunk chunk;
  // ftd sends a first chunk, carrying the artifact's size and digest, even for an empty file.
  if (!reader->Read(&chunk)) {
    grpc::Status status = reader->Finish();
    if (status.ok()) status = grpc::Status(grpc::StatusCode::INTERNAL, "empty download stream");
    return ErrorReply(status);
  }
  bool client_here = out->Start(HeadFor(chunk.artifact(), download.offset()));
  while (client_here) {
    client_here = chunk.data().empty() || out->Write(chunk.data());
    if (!client_here || !reader->Read(&chunk)) break;
  }
  if (!client_here) context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (client_here && !status.ok()) {
    // The status line has gone; the short body (against Content-Length) tells the client.
    spdlog::warn("console: download of {} of job {} broke off: {}", name, job_id,
                 status.error_message());
  }
  return std::nullopt;
}

}  // namespace ft::console
