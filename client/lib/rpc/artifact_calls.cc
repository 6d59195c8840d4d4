#include "client/lib/rpc/artifact_calls.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/fetch/file_digest.h"

namespace ft::client {
namespace {

// Long enough for ftd to hash a model of many gigabytes the first time it is listed.
constexpr auto kListDeadline = std::chrono::minutes(10);
// Broken streams resumed before giving up.
constexpr int kResumeAttempts = 3;

uint64_t SizeOrZero(const std::string& path) {
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

std::string Sha256OrEmpty(const std::string& path) {
  try {
    return fetch::FileDigest(path, fetch::DigestKind::kSha256);
  } catch (const std::runtime_error&) {
    return "";
  }
}

// Appends the stream's bytes from `offset` to `out`; returns the call's status.
absl::Status StreamInto(const FtdConnection& ftd, const std::string& job_id,
                        const ft::v1::Artifact& artifact, uint64_t offset, std::ofstream& out) {
  grpc::ClientContext context;
  ftd.AddCredentials(&context);
  ft::v1::DownloadArtifactRequest request;
  request.set_job_id(job_id);
  request.set_name(artifact.name());
  request.set_offset(offset);
  std::unique_ptr<grpc::ClientReaderInterface<ft::v1::ArtifactChunk>> reader =
      ftd.stub->DownloadArtifact(&context, request);
  ft::v1::ArtifactChunk chunk;
  bool first = true;
  while (reader->Read(&chunk)) {
    if (first && chunk.artifact().sha256() != artifact.sha256()) {
      context.TryCancel();
      reader->Finish();
      return absl::AbortedError(
          absl::StrCat(artifact.name(),
                       " changed on ftd since it was listed (a newer checkpoint?); run the "
                       "download again"));
    }
    first = false;
    if (chunk.offset() != offset) {
      context.TryCancel();
      reader->Finish();
      return absl::DataLossError(absl::StrCat(artifact.name(), ": expected bytes from ", offset,
                                              ", got them from ", chunk.offset()));
    }
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    if (!out) {
      context.TryCancel();
      reader->Finish();
      return absl::InternalError(absl::StrCat("cannot write ", artifact.name(), " to disk"));
    }
    offset += chunk.data().size();
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ftd.ToStatus(status);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<ft::v1::Artifact>> ListArtifacts(const FtdConnection& ftd,
                                                            const std::string& job_id) {
  grpc::ClientContext context;
  ftd.PrepareUnary(&context);
  context.set_deadline(std::chrono::system_clock::now() + kListDeadline);
  ft::v1::ListArtifactsRequest request;
  request.set_job_id(job_id);
  ft::v1::ListArtifactsResponse response;
  const grpc::Status status = ftd.stub->ListArtifacts(&context, request, &response);
  if (!status.ok()) return ftd.ToStatus(status);
  return std::vector<ft::v1::Artifact>(response.artifacts().begin(), response.artifacts().end());
}

absl::StatusOr<DownloadOutcome> DownloadArtifact(const FtdConnection& ftd,
                                                 const std::string& job_id,
                                                 const ft::v1::Artifact& artifact,
                                                 const std::string& path) {
  if (SizeOrZero(path) == artifact.size_bytes() && std::filesystem::exists(path) &&
      Sha256OrEmpty(path) == artifact.sha256()) {
    return DownloadOutcome::kAlreadyThere;
  }
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  const std::string part = path + ".part";
  // A .part longer than the file cannot be a prefix of it: start again.
  if (SizeOrZero(part) > artifact.size_bytes()) std::filesystem::remove(part, error);
  absl::Status streamed;
  for (int attempt = 0; attempt < kResumeAttempts; ++attempt) {
    std::ofstream out(part, std::ios::binary | std::ios::app);
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", part));
    streamed = StreamInto(ftd, job_id, artifact, SizeOrZero(part), out);
    out.close();
    if (streamed.code() != absl::StatusCode::kUnavailable) break;
  }
  if (!streamed.ok()) return streamed;
  if (Sha256OrEmpty(part) != artifact.sha256()) {
    std::filesystem::remove(part, error);
    return absl::DataLossError(absl::StrCat(artifact.name(),
                                            ": SHA-256 of the downloaded bytes differs from ftd's "
                                            "(removed the partial file; run the download again)"));
  }
  std::filesystem::rename(part, path, error);
  if (error)
    return absl::InternalError(absl::StrCat("cannot rename ", part, ": ", error.message()));
  return DownloadOutcome::kDownloaded;
}

}  // namespace ft::client
