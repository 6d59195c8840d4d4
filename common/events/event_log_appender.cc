#include "common/events/event_log_appender.h"

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/events/event_log_file.h"

namespace ft::events {

absl::StatusOr<std::unique_ptr<EventLogAppender>> EventLogAppender::Open(
    const std::string& folder) {
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  const std::string path = EventLogPath(folder);
  uint64_t lines = 0;
  {
    std::ifstream existing(path);
    lines = static_cast<uint64_t>(std::count(std::istreambuf_iterator<char>(existing),
                                             std::istreambuf_iterator<char>(), '\n'));
  }
  std::unique_ptr<EventLogAppender> appender(new EventLogAppender(path, lines));
  appender->out_.open(path, std::ios::app);
  if (!appender->out_) return absl::UnavailableError(absl::StrCat("cannot append to ", path));
  return appender;
}

absl::Status EventLogAppender::Append(ft::v1::JobEvent event) {
  event.set_seq(++seq_);
  absl::StatusOr<std::string> line = EventToLine(event);
  if (!line.ok()) return line.status();
  out_ << *line << '\n' << std::flush;
  if (!out_) return absl::UnavailableError(absl::StrCat("cannot append to ", path_));
  return absl::OkStatus();
}

}  // namespace ft::events
