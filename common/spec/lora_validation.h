// What SubmitJob checks of JobSpec.lora (defaults applied): rank, alpha and dropout in range, a
// known base_precision, target module names the model's family has (common/models/
// lora_targets.h), and an adapter folder with adapter_config.json. Each problem names the field.
#pragma once

#include <string>
#include <vector>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// The problems found ("spec.lora.target_modules: unknown module 'q' for a bloom model (expected
// one of query_key_value, ...)"); empty when fine or when the spec has no lora. A Hub model's
// family is checked by the worker once downloaded.
std::vector<std::string> LoraProblems(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
