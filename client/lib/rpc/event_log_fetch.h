// Fetches a job's event log from ftd through WatchJob: the record first (GetJob, which names an
// unknown job), then every stored event up to the newest one the record counts. A running job is
// not waited for: what it has reported so far is returned.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/plot/training_chart.h"
#include "client/lib/rpc/ftd_calls.h"

namespace ft::client {

// The stream gets `stream_timeout` in all (a long log is still read in well under a second).
absl::StatusOr<JobLog> FetchJobLog(const FtdConnection& ftd, const std::string& job_id,
                                   absl::Duration stream_timeout = absl::Seconds(60));

// The label of a job from its spec.
JobLabel LabelOf(const ft::v1::Job& job);

}  // namespace ft::client
