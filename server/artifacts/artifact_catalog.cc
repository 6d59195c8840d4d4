#include "server/artifacts/artifact_catalog.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "server/artifacts/artifact_kind.h"

namespace ft::artifacts {

absl::StatusOr<std::string> ArtifactCatalog::FolderOf(const ft::v1::Job& job) const {
  std::optional<std::string> folder = folders_->OwnFolder(job);
  if (!folder) {
    return absl::NotFoundError(absl::StrCat("job ", job.id(), " has no folder on this server"));
  }
  return *folder;
}

absl::StatusOr<ft::v1::Artifact> ArtifactCatalog::Describe(const ft::v1::Job& job,
                                                           const std::string& name,
                                                           const store::OpenFile& file) {
  ft::v1::Artifact artifact;
  artifact.set_name(name);
  artifact.set_size_bytes(file.size());
  try {
    artifact.set_sha256(digests_.Sha256(absl::StrCat(job.id(), "/", name), file));
  } catch (const std::runtime_error& error) {
    return absl::UnavailableError(error.what());
  }
  ClassifyArtifact(artifact);
  return artifact;
}

absl::StatusOr<std::vector<ft::v1::Artifact>> ArtifactCatalog::List(const ft::v1::Job& job) {
  absl::StatusOr<std::string> folder = FolderOf(job);
  if (!folder.ok()) return folder.status();
  std::vector<std::string> names;
  std::error_code error;
  // The iterator does not follow links to folders; links to files are skipped below.
  std::filesystem::recursive_directory_iterator walk(*folder, error);
  if (error) return std::vector<ft::v1::Artifact>();  // no folder yet
  for (; walk != std::filesystem::recursive_directory_iterator(); walk.increment(error)) {
    if (error) break;
    const std::filesystem::file_status status = walk->symlink_status(error);
    if (error) continue;
    if (std::filesystem::is_directory(status)) {
      if (IsHiddenFolder(walk->path().filename().string())) walk.disable_recursion_pending();
      continue;
    }
    if (!std::filesystem::is_regular_file(status)) continue;
    names.push_back(walk->path().lexically_relative(*folder).generic_string());
  }
  std::sort(names.begin(), names.end());
  std::vector<ft::v1::Artifact> artifacts;
  for (const std::string& name : names) {
    // A file removed since the walk (a checkpoint replaced by a newer one) is left out.
    absl::StatusOr<store::OpenFile> file = store::OpenInFolder(*folder, name, "name");
    if (!file.ok()) continue;
    absl::StatusOr<ft::v1::Artifact> artifact = Describe(job, name, *file);
    if (!artifact.ok()) return artifact.status();
    artifacts.push_back(std::move(*artifact));
  }
  return artifacts;
}

absl::StatusOr<OpenArtifact> ArtifactCatalog::Open(const ft::v1::Job& job,
                                                   const std::string& name) {
  absl::StatusOr<std::string> folder = FolderOf(job);
  if (!folder.ok()) return folder.status();
  absl::StatusOr<store::OpenFile> file = store::OpenInFolder(*folder, name, "name");
  if (!file.ok()) return file.status();
  absl::StatusOr<ft::v1::Artifact> artifact = Describe(job, name, *file);
  if (!artifact.ok()) return artifact.status();
  return OpenArtifact{std::move(*file), std::move(*artifact)};
}

}  // namespace ft::artifacts
