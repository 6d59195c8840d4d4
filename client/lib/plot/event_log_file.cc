#include "client/lib/plot/event_log_file.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace ft::client {
namespace {

uint32_t UnsignedField(const nlohmann::json& object, const char* name) {
  if (!object.is_object()) return 0;
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_unsigned()) return 0;
  return it->get<uint32_t>();
}

// The label recorded in result.json by the worker: the effective batch shape in "options", the
// display name in "spec". Missing or unreadable: an empty label (the legend shows the id only).
JobLabel ReadLabelBeside(const std::filesystem::path& events_path) {
  JobLabel label;
  std::ifstream in(events_path.parent_path() / "result.json");
  if (!in) return label;
  const nlohmann::json result = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!result.is_object()) return label;
  if (const auto options = result.find("options"); options != result.end()) {
    label.micro_batch_size = UnsignedField(*options, "micro_batch_size");
    label.accumulation_steps = UnsignedField(*options, "accumulation_steps");
  }
  if (const auto spec = result.find("spec"); spec != result.end() && spec->is_object()) {
    const auto name = spec->find("display_name");
    if (name != spec->end() && name->is_string()) label.display_name = name->get<std::string>();
  }
  return label;
}

}  // namespace

absl::StatusOr<JobLog> ReadEventLogFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open event log ", path));
  JobLog log;
  std::string line;
  int line_number = 0;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer ftd may add fields
  while (std::getline(in, line)) {
    ++line_number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    ft::v1::JobEvent event;
    const auto status = google::protobuf::util::JsonStringToMessage(line, &event, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number,
                                                     ": not a job event in JSON (",
                                                     std::string(status.message()), ")"));
    }
    if (log.events.empty()) {
      log.job_id = event.job_id();
    } else if (event.job_id() != log.job_id) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": an event of job '",
                                                     event.job_id(), "' in the log of job '",
                                                     log.job_id, "'"));
    }
    log.events.push_back(std::move(event));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  if (log.events.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no job events in it"));
  }
  if (log.job_id.empty())
    log.job_id = std::filesystem::path(path).parent_path().filename().string();
  log.label = ReadLabelBeside(path);
  return log;
}

}  // namespace ft::client
