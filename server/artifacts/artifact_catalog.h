// A job's files as downloadable artifacts: lists the regular files of its folder on ftd's host
// (with size, SHA-256 and kind) and opens one of them by name, through store/job_path.h so that
// no name leads outside the folder. No gRPC: api/artifact_service.h adapts it.
//
// What is listed is what ftd's host holds: a local worker writes the model and checkpoints
// there; a remote ftworker writes them on its own host (the same path), so unless that folder is
// shared (NFS and the like) only ftd's events.jsonl is listed for its jobs (docs/api.md).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ft/v1/artifact.pb.h"
#include "ft/v1/job.pb.h"
#include "server/artifacts/digest_cache.h"
#include "server/store/job_folders.h"
#include "server/store/job_path.h"

namespace ft::artifacts {

// A file opened for download and its description (size and digest of what was opened).
struct OpenArtifact {
  store::OpenFile file;
  ft::v1::Artifact artifact;
};

class ArtifactCatalog {
 public:
  explicit ArtifactCatalog(const store::JobFolders* folders) : folders_(folders) {}

  // The job's regular files, sorted by name; symbolic links and unfinished checkpoints
  // (.partial-*) are left out. Empty while the job has no folder yet. NOT_FOUND when the job's
  // stored folder is not one of ftd's own job folders.
  absl::StatusOr<std::vector<ft::v1::Artifact>> List(const ft::v1::Job& job);

  // Opens the artifact `name` (an Artifact.name) of the job; errors as store::OpenInFolder's,
  // naming the field `name`.
  absl::StatusOr<OpenArtifact> Open(const ft::v1::Job& job, const std::string& name);

 private:
  absl::StatusOr<std::string> FolderOf(const ft::v1::Job& job) const;
  absl::StatusOr<ft::v1::Artifact> Describe(const ft::v1::Job& job, const std::string& name,
                                            const store::OpenFile& file);

  const store::JobFolders* folders_;
  DigestCache digests_;
};

}  // namespace ft::artifacts
