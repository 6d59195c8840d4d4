// What SubmitJob checks of a causal_lm job beyond the common fields: a decoder model, JSON Lines
// rows of one of the three shapes (common/data/lm_rows.h) and, for chat rows, a chat template the
// engine supports that renders every conversation of the files (common/chat). Each problem names
// the field and the file and line, so that nothing fails later on the worker for these reasons.
#pragma once

#include <string>
#include <vector>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// The problems found ("spec.dataset.train (PATH): PATH:12: messages[1].role: ..."); empty when
// the job can train. A Hub model id is checked by the worker once downloaded.
std::vector<std::string> CausalLmProblems(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
