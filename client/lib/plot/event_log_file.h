// Reads a job's event log as ftd leaves it in the job's folder once the job has ended:
// <home>/jobs/<id>/events.jsonl, one ft.v1.JobEvent a line in protobuf JSON (proto field names),
// and, when present beside it, result.json for what the legend says about the job.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "client/lib/plot/training_chart.h"

namespace ft::client {

// The log in `path`. NOT_FOUND when it cannot be opened; INVALID_ARGUMENT naming "path:line" when
// a line is not a JobEvent or belongs to another job than the first line, or when no line holds
// an event. Blank lines are skipped. The job's label comes from result.json in the same folder
// (its "options" and "spec"), if that file exists and parses; otherwise it stays empty.
absl::StatusOr<JobLog> ReadEventLogFile(const std::string& path);

}  // namespace ft::client
