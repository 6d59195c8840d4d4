// What SubmitJob checks of JobSpec.evaluate_only (defaults applied): there must be trained weights
// to evaluate (a model folder, a .pt file or a Hub id, or lora.adapter on top of its base), and
// nothing may be set that only training uses and that the job would silently ignore. Each problem
// names the field.
#pragma once

#include <string>
#include <vector>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// The problems found ("spec.evaluate_only: ..."); empty when fine or when evaluate_only is off.
std::vector<std::string> EvaluateOnlyProblems(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
