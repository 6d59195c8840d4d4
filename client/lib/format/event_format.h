// One line of text per job event, as `ftctl watch` prints them when stdout is not a terminal:
//   [job-3 #12] step 40/200 epoch 1 loss 0.6931 lr 1.00e-03 312.5 samples/s 20480 tokens/s eta 51s
//   [job-3 #13] eval validation: accuracy 81.20% loss 0.4211 (500 examples)
//   [job-3 #2] state QUEUED -> RUNNING: attempt 1 started on worker local-0
//   [job-3 #5] log warning: <message>
#pragma once

#include <string>

#include "ft/v1/event.pb.h"
#include "ft/v1/progress.pb.h"

namespace ft::client {

// "step 40/200 epoch 1 loss 0.6931 lr 1.00e-03 312.5 samples/s 20480 tokens/s eta 51s"
std::string FormatProgress(const ft::v1::TrainingProgress& progress);

// "validation: accuracy 81.20% loss 0.4211 (500 examples)"
std::string FormatEvaluation(const ft::v1::Evaluation& evaluation);

// "QUEUED -> RUNNING: attempt 1 started on worker local-0"; "QUEUED: submitted" for the first.
std::string FormatStateChange(const ft::v1::StateChange& change);

// The whole line, without a trailing newline.
std::string FormatEventLine(const ft::v1::JobEvent& event);

}  // namespace ft::client
