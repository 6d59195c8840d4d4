// The events of a standalone run (`ftworker --spec`) as <out>/events.jsonl: one ft.v1.JobEvent
// per line in protobuf JSON, like the events.jsonl ftd writes into a job folder, numbered from
// 1 (continuing the numbers of a file an earlier, interrupted run left). Numbers keep their full
// precision, so tests and scripts read losses from here rather than from the printed lines.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include "ft/v1/event.pb.h"

namespace ft::worker {

class EventLogFile {
 public:
  // Creates the folder if needed and opens <folder>/events.jsonl for appending.
  explicit EventLogFile(const std::string& folder);

  // Sets the event's seq and writes it as one line, flushed. I/O errors are ignored: the log
  // documents the run and must not fail it.
  void Append(ft::v1::JobEvent event);

 private:
  std::ofstream out_;
  uint64_t seq_ = 0;
};

}  // namespace ft::worker
