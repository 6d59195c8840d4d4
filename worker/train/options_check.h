// Validation of TrainOptions before any data is read: one clear message per problem, naming the
// option and what was expected.
#pragma once

#include "common/models/model_config.h"
#include "worker/train/train_job.h"

namespace ft::train {

// The model configuration of options.model. Throws std::invalid_argument naming the first
// problem (the option and what was expected); RunTrainingJob turns it into the job's error.
models::ModelConfig CheckOptions(const TrainOptions& options);

}  // namespace ft::train
