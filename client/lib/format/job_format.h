// Jobs as text: the `ftctl list` table, the `ftctl get` summary, the end-of-watch summary, and the
// protobuf JSON forms for `-o json`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/display/terminal_style.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

// The job's latest evaluation on `split` ("validation", "test"), or nullptr.
const ft::v1::Evaluation* LatestEvaluation(const ft::v1::Job& job, const std::string& split);

// Columns ID, STATE, MODEL, STEP/TOTAL, LOSS, VAL ACC, AGE; rows in the given order.
// States are coloured by `palette` (no colour by default).
std::string FormatJobTable(const std::vector<ft::v1::Job>& jobs, absl::Time now,
                           const Palette& palette = Palette());

// Several "Key   value" lines describing everything a person wants to know about the job.
std::string FormatJobSummary(const ft::v1::Job& job, absl::Time now, absl::TimeZone zone,
                             const Palette& palette = Palette());

// What `ftctl watch` prints at the end: final state, error, final validation/test accuracy.
std::string FormatFinalSummary(const ft::v1::Job& job, const Palette& palette = Palette());

// The job in protobuf JSON (proto field names, every field), indented.
absl::StatusOr<std::string> JobToJson(const ft::v1::Job& job);

// A JSON array of jobs in the same form.
absl::StatusOr<std::string> JobsToJson(const std::vector<ft::v1::Job>& jobs);

}  // namespace ft::client
