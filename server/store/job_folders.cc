#include "server/store/job_folders.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/events/event_log_file.h"
#include "server/housekeeping/disk_usage.h"
#include "spdlog/spdlog.h"

namespace ft::store {

absl::StatusOr<std::unique_ptr<JobFolders>> JobFolders::Create(const std::string& home) {
  if (home.empty()) return absl::InvalidArgumentError("job folders: home is required");
  const std::filesystem::path jobs = std::filesystem::path(home) / "jobs";
  std::error_code error;
  std::filesystem::create_directories(jobs, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", home, "/jobs: ", error.message()));
  }
  return std::unique_ptr<JobFolders>(new JobFolders(jobs.string()));
}

std::string JobFolders::FolderFor(const std::string& job_id) {
  return (std::filesystem::path(jobs_dir_) / job_id).string();
}

absl::Status JobFolders::WriteEventLog(const ft::v1::Job& job,
                                       const std::vector<ft::v1::JobEvent>& events) {
  return events::WriteEventLog(events::EventLogPath(job.output_dir()), events);
}

std::optional<std::string> JobFolders::OwnFolder(const ft::v1::Job& job) const {
  const std::filesystem::path folder = std::filesystem::path(job.output_dir()).lexically_normal();
  if (job.id().empty() ||
      folder.parent_path() != std::filesystem::path(jobs_dir_).lexically_normal() ||
      folder.filename() != job.id()) {
    return std::nullopt;
  }
  return folder.string();
}

uint64_t JobFolders::RemoveFolder(const ft::v1::Job& job) {
  const std::optional<std::string> own = OwnFolder(job);
  if (!own) return 0;
  const std::filesystem::path folder(*own);
  const uint64_t bytes = housekeeping::DiskUsage(folder.string());
  std::error_code error;
  std::filesystem::remove_all(folder, error);
  if (error) spdlog::warn("{}: cannot remove {}: {}", job.id(), folder.string(), error.message());
  return bytes;
}

}  // namespace ft::store
