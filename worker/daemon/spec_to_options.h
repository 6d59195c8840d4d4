// JobSpec (protobuf) -> the training core's plain TrainOptions.
#pragma once

#include <string>

#include "ft/v1/job.pb.h"
#include "worker/train/train_job.h"

namespace ft::worker {

// `spec` must have its defaults applied. `threads` 0 means all cores.
train::TrainOptions ToTrainOptions(const ft::v1::JobSpec& spec, const std::string& output_dir,
                                   int threads);

}  // namespace ft::worker
