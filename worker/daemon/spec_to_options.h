// JobSpec (protobuf) -> the training core's plain TrainOptions, field by field through the rows
// of worker/train/train_option_fields.h and JobSpec's descriptor.
#pragma once

#include <string>
#include <vector>

#include "ft/v1/job.pb.h"
#include "worker/train/train_job.h"

namespace ft::worker {

// `spec` must have its defaults applied. `threads` 0 means all cores.
train::TrainOptions ToTrainOptions(const ft::v1::JobSpec& spec, const std::string& output_dir,
                                   int threads);

// What keeps the option table and JobSpec from matching: a row whose spec field does not exist
// or cannot fill its member, and a JobSpec field that no row reads and that is not listed as
// read elsewhere. Empty when they match (tests/unit/worker/daemon/train_option_table_test.cc).
std::vector<std::string> OptionTableProblems();

}  // namespace ft::worker
