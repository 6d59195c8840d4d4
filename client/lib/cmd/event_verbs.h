// `ftctl events ID` and `ftctl logs ID`: a job's stored events (or only its log lines), one per
// line; with --follow, then live until the job ends, resuming after the last sequence number seen
// when the connection to ftd drops.
#pragma once

#include <cstdint>
#include <string>

#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "ft/v1/event.pb.h"

namespace ft::client {

struct EventsArgs {
  std::string job_id;
  bool follow = false;
  uint64_t after_seq = 0;  // only events after this one
  bool logs_only = false;  // `ftctl logs`: LogLine events alone
  // table: text lines; json: JSON lines (one JobEvent each, protobuf JSON mapping); yaml: one
  // YAML document per event.
  OutputFormat output = OutputFormat::kTable;
};

// "2026-11-26T07:40:01Z warning: message" (the time is left out when unknown).
std::string FormatLogLine(const ft::v1::JobEvent& event, const Palette& palette = Palette());

// The event in `format`, ending with a newline. Text: FormatEventLine (FormatLogLine when
// `logs_only`); JSON: one compact line; YAML: a document starting with "---".
absl::StatusOr<std::string> RenderEvent(const ft::v1::JobEvent& event, OutputFormat format,
                                        bool logs_only, const Palette& palette = Palette());

// 0 once every event is printed (when following: once the job has ended, whatever its outcome);
// 3 for an unknown job, 4 when ftd stays unreachable, 130 on Ctrl-C.
int RunEvents(const FtdConnection& ftd, const EventsArgs& args, const Console& console,
              CancelToken* token);

}  // namespace ft::client
