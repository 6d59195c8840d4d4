// JobFiles on disk: a folder per job under <home>/jobs/<id>, with events.jsonl
// (common/events/event_log_file.h) written into it when the job ends.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "server/store/job_files.h"

namespace ft::store {

class JobFolders : public JobFiles {
 public:
  // Creates <home>/jobs. INVALID_ARGUMENT for an empty home, FAILED_PRECONDITION when the folder
  // cannot be made.
  static absl::StatusOr<std::unique_ptr<JobFolders>> Create(const std::string& home);

  std::string FolderFor(const std::string& job_id) override;
  absl::Status WriteEventLog(const ft::v1::Job& job,
                             const std::vector<ft::v1::JobEvent>& events) override;
  uint64_t RemoveFolder(const ft::v1::Job& job) override;

  // The job's folder: its stored output_dir, only if that is <home>/jobs/<id> (a stored path is
  // never followed elsewhere); nullopt otherwise.
  std::optional<std::string> OwnFolder(const ft::v1::Job& job) const;

 private:
  explicit JobFolders(std::string jobs_dir) : jobs_dir_(std::move(jobs_dir)) {}

  const std::string jobs_dir_;  // <home>/jobs
};

}  // namespace ft::store
