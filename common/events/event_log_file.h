// A job's event log as a file, events.jsonl: one ft.v1.JobEvent a line in protobuf JSON with the
// proto's field names (`state_change`, not `stateChange`), in seq order, all of one job. ftd
// writes it into a job's folder once the job has ended, `ftworker --spec` appends to it as a
// standalone run goes (event_log_appender.h), and `ftctl plot --from-events` reads it. Numbers
// keep their full precision, so tests and scripts read losses from here rather than from logs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ft/v1/event.pb.h"

namespace ft::events {

inline constexpr char kEventLogFileName[] = "events.jsonl";

// <folder>/events.jsonl.
std::string EventLogPath(const std::string& folder);

// One line of the file, without its newline.
absl::StatusOr<std::string> EventToLine(const ft::v1::JobEvent& event);

// Replaces `path` with `events`, one a line, creating its folder if needed.
absl::Status WriteEventLog(const std::string& path, const std::vector<ft::v1::JobEvent>& events);

struct EventLog {
  // The events' job id; the folder's name when they carry none (ftd names a job's folder after
  // the job).
  std::string job_id;
  std::vector<ft::v1::JobEvent> events;  // in file order
};

// The log in `path`. NOT_FOUND when it cannot be opened; INVALID_ARGUMENT naming "path:line" when
// a line is not a JobEvent or belongs to another job than the first line, or when no line holds
// an event; DATA_LOSS on a read error. Blank lines are skipped; unknown fields are ignored, so
// that a log a newer ftd wrote still reads.
absl::StatusOr<EventLog> ReadEventLog(const std::string& path);

}  // namespace ft::events
