#include "server/artifacts/artifact_kind.h"

#include "absl/strings/match.h"

namespace ft::artifacts {

void ClassifyArtifact(ft::v1::Artifact& artifact) {
  const std::string& name = artifact.name();
  artifact.clear_checkpoint();
  if (name == "result.json") {
    artifact.set_kind(ft::v1::ARTIFACT_RESULT);
  } else if (name == "events.jsonl" || absl::EndsWith(name, ".log")) {
    artifact.set_kind(ft::v1::ARTIFACT_LOG);
  } else if (name.find('/') == std::string::npos) {
    // The worker exports the model folder at the top of the job's folder (worker/output/).
    artifact.set_kind(ft::v1::ARTIFACT_MODEL);
  } else if (absl::StartsWith(name, "checkpoints/step-") &&
             name.find('/', sizeof("checkpoints/") - 1) != std::string::npos) {
    const size_t start = sizeof("checkpoints/") - 1;
    artifact.set_kind(ft::v1::ARTIFACT_CHECKPOINT);
    artifact.set_checkpoint(name.substr(start, name.find('/', start) - start));
  } else {
    artifact.set_kind(ft::v1::ARTIFACT_OTHER);
  }
}

bool IsHiddenFolder(const std::string& folder_name) {
  return absl::StartsWith(folder_name, ".partial-");
}

}  // namespace ft::artifacts
