// Reads a job's event log as ftd leaves it in the job's folder once the job has ended,
// <home>/jobs/<id>/events.jsonl (common/events/event_log_file.h), and, when present beside it,
// result.json for what the legend says about the job.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "client/lib/plot/training_chart.h"

namespace ft::client {

// The log in `path`, with the errors of events::ReadEventLog (NOT_FOUND, or INVALID_ARGUMENT
// naming "path:line"). The job's label comes from result.json in the same folder (its "options"
// and "spec"), if that file exists and parses; otherwise it stays empty.
absl::StatusOr<JobLog> ReadEventLogFile(const std::string& path);

}  // namespace ft::client
