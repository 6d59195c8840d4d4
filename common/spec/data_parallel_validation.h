// What SubmitJob checks of a data-parallel job (JobSpec.world_size, docs/distributed.md): the
// gang's size in range and no field that only works when one process trains alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// The number of workers that train the job together: world_size, where 0 (a spec stored before
// the field existed, or left out) means 1.
uint32_t WorldSize(const ft::v1::JobSpec& spec);

// The problems found, each naming the field; empty for a valid spec or one of world size 1.
std::vector<std::string> DataParallelProblems(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
