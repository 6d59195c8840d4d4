// The chat renderer of a causal-LM job (worker/data/chat_rendering.h) from its model folder's
// chat template (common/chat).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "worker/data/chat_rendering.h"

namespace ft::worker {

// An empty renderer when `model` is a scratch model or a folder without a chat template (chat
// rows then fail the job by name); InvalidArgument naming the file, line and construct for a
// template outside the supported subset.
absl::StatusOr<train::ChatRenderer> ChatRendererFor(const std::string& model);

}  // namespace ft::worker
