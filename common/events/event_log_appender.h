// An events.jsonl (event_log_file.h) that grows as a run goes: each appended event is numbered
// after the lines already in the file, so a run that resumes in the folder of an interrupted one
// continues its numbers, and is flushed at once, so the file is complete up to the last report
// if the process dies.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ft/v1/event.pb.h"

namespace ft::events {

class EventLogAppender {
 public:
  // Creates `folder` if needed and opens <folder>/events.jsonl for appending. UNAVAILABLE when
  // the file cannot be opened.
  static absl::StatusOr<std::unique_ptr<EventLogAppender>> Open(const std::string& folder);

  // Sets the event's seq to the next number and writes it as one line, flushed.
  absl::Status Append(ft::v1::JobEvent event);

  // The seq of the last line written (or found in the file when it was opened).
  uint64_t last_seq() const { return seq_; }

 private:
  EventLogAppender(std::string path, uint64_t seq) : path_(std::move(path)), seq_(seq) {}

  const std::string path_;
  std::ofstream out_;
  uint64_t seq_;
};

}  // namespace ft::events
