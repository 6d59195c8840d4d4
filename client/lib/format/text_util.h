// Small text helpers shared by ftctl's formatters: durations, state names, aligned tables.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

// "51s", "3m05s", "1h02m", "2d03h"; "?" for a negative or non-finite value.
std::string FormatDuration(double seconds);

// A coarse age for tables: "45s", "12m", "3h", "5d".
std::string FormatAge(absl::Duration age);

// "QUEUED", "RUNNING", ...
std::string StateName(ft::v1::JobState state);

// SUCCEEDED, FAILED or CANCELLED: the job will not change any more.
bool IsFinalState(ft::v1::JobState state);

// Parses a state name in any case ("running", "RUNNING"); nullopt when unknown or UNSPECIFIED.
std::optional<ft::v1::JobState> ParseState(absl::string_view name);

// The number of terminal columns `text` takes: SGR escape sequences ("\033[32m") take none, and
// a UTF-8 character takes one.
size_t VisibleWidth(absl::string_view text);

// Left-aligned columns separated by two spaces, one line per row (header first), no trailing
// spaces. Cells may hold colour escapes: widths are measured as VisibleWidth.
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace ft::client
