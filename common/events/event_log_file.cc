#include "common/events/event_log_file.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace ft::events {

std::string EventLogPath(const std::string& folder) {
  return (std::filesystem::path(folder) / kEventLogFileName).string();
}

absl::StatusOr<std::string> EventToLine(const ft::v1::JobEvent& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string line;
  const auto status = google::protobuf::util::MessageToJsonString(event, &line, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print event ", event.seq(), " as JSON: ", status.ToString()));
  }
  return line;
}

absl::Status WriteEventLog(const std::string& path, const std::vector<ft::v1::JobEvent>& events) {
  std::error_code error;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), error);
  std::ofstream out(path, std::ios::trunc);
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  for (const ft::v1::JobEvent& event : events) {
    absl::StatusOr<std::string> line = EventToLine(event);
    if (!line.ok()) return line.status();
    out << *line << '\n';
  }
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<EventLog> ReadEventLog(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open event log ", path));
  EventLog log;
  std::string line;
  int line_number = 0;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  while (std::getline(in, line)) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ft::v1::JobEvent event;
    const auto status = google::protobuf::util::JsonStringToMessage(line, &event, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number,
                                                     ": not a job event in JSON (",
                                                     std::string(status.message()), ")"));
    }
    if (log.events.empty()) {
      log.job_id = event.job_id();
    } else if (event.job_id() != log.job_id) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": an event of job '",
                                                     event.job_id(), "' in the log of job '",
                                                     log.job_id, "'"));
    }
    log.events.push_back(std::move(event));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  if (log.events.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no job events in it"));
  }
  if (log.job_id.empty()) {
    log.job_id = std::filesystem::path(path).parent_path().filename().string();
  }
  return log;
}

}  // namespace ft::events
