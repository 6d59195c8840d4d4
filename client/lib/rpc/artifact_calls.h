// ftctl's calls for a job's artifacts: the list, and one file's download to disk that resumes a
// cut-off transfer and checks the SHA-256 of what it assembled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/lib/rpc/ftd_calls.h"
#include "ft/v1/artifact.pb.h"

namespace ft::client {

// The job's files on ftd (ListArtifacts). Hashing a large model the first time takes a while on
// ftd, so the deadline is minutes, not the unary default.
absl::StatusOr<std::vector<ft::v1::Artifact>> ListArtifacts(const FtdConnection& ftd,
                                                            const std::string& job_id);

enum class DownloadOutcome { kDownloaded, kAlreadyThere };

// Downloads `artifact` of the job to `path`. Bytes go to `path`.part first: one left by a cut-off
// run is resumed from its size, and a stream that breaks is resumed where it broke (a few times).
// The whole file's SHA-256 must equal artifact.sha256, else the .part is removed and DATA_LOSS
// returned; only then is it renamed to `path`. A file already at `path` with that size and
// digest is kept as it is.
absl::StatusOr<DownloadOutcome> DownloadArtifact(const FtdConnection& ftd,
                                                 const std::string& job_id,
                                                 const ft::v1::Artifact& artifact,
                                                 const std::string& path);

}  // namespace ft::client
