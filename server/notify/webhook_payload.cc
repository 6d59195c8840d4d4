#include "server/notify/webhook_payload.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace ft::notify {

std::optional<std::string> WebhookEventType(const ft::v1::JobEvent& event, bool evaluations) {
  if (event.has_state_change()) {
    return absl::StrCat("job.", absl::AsciiStrToLower(JobState_Name(event.state_change().to())));
  }
  if (evaluations && event.has_evaluation()) return std::string("job.evaluation");
  return std::nullopt;
}

std::string WebhookBody(const std::string& delivery_id, const std::string& event_type,
                        const ft::v1::Job& job, const ft::v1::JobEvent& event) {
  std::string event_json;
  // A JobEvent always converts (no Any fields); an empty object would still be valid JSON.
  if (!google::protobuf::util::MessageToJsonString(event, &event_json).ok()) event_json = "{}";
  nlohmann::json body = {
      {"id", delivery_id},
      {"type", event_type},
      {"created", google::protobuf::util::TimeUtil::ToString(event.time())},
      {"job",
       {{"id", job.id()},
        {"state", JobState_Name(job.state())},
        {"owner", job.owner()},
        {"model", job.spec().model()},
        {"display_name", job.spec().display_name()},
        {"attempt", job.attempt()},
        {"error", job.error()},
        {"output_dir", job.output_dir()}}},
      {"event", nlohmann::json::parse(event_json)},
  };
  // Reasons and errors quote files and worker output: invalid UTF-8 is replaced, not thrown.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace ft::notify
