// Makes a JobSpec's defaults explicit, so that what is stored is what runs.
#pragma once

#include <string>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// Fills fields left at zero/empty with their documented defaults and makes dataset paths and a
// model folder (a `model` that is not scratch:NAME) absolute, relative to `base_dir` (normally
// ftd's working directory). Does not validate.
ft::v1::JobSpec WithDefaults(ft::v1::JobSpec spec, const std::string& base_dir);

}  // namespace ft::spec
