#include "client/lib/plot/event_log_file.h"

#include <filesystem>
#include <fstream>

#include "common/events/event_log_file.h"
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
  absl::StatusOr<events::EventLog> read = events::ReadEventLog(path);
  if (!read.ok()) return read.status();
  JobLog log;
  log.job_id = std::move(read->job_id);
  log.events = std::move(read->events);
  log.label = ReadLabelBeside(path);
  return log;
}

}  // namespace ft::client
