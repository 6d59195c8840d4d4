#include "worker/daemon/event_log_file.h"

#include <algorithm>
#include <filesystem>
#include <iterator>

#include "google/protobuf/util/json_util.h"

namespace ft::worker {

EventLogFile::EventLogFile(const std::string& folder) {
  const std::filesystem::path path = std::filesystem::path(folder) / "events.jsonl";
  std::error_code error;
  std::filesystem::create_directories(folder, error);
  {
    std::ifstream existing(path);
    seq_ = static_cast<uint64_t>(std::count(std::istreambuf_iterator<char>(existing),
                                            std::istreambuf_iterator<char>(), '\n'));
  }
  out_.open(path, std::ios::app);
}

void EventLogFile::Append(ft::v1::JobEvent event) {
  event.set_seq(++seq_);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string line;
  if (google::protobuf::util::MessageToJsonString(event, &line, options).ok()) {
    out_ << line << '\n' << std::flush;
  }
}

}  // namespace ft::worker
