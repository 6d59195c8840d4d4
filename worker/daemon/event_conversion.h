// The training core's reports -> ft.v1 events.
#pragma once

#include "ft/v1/event.pb.h"
#include "worker/train/train_job.h"

namespace ft::worker {

ft::v1::JobEvent ProgressEvent(const train::ProgressReport& report);
ft::v1::JobEvent EvaluationEvent(const train::EvalReport& report);
ft::v1::JobEvent CheckpointSavedEvent(const train::CheckpointReport& report);
ft::v1::JobEvent LogEvent(const std::string& level, const std::string& message);

}  // namespace ft::worker
