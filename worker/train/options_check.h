// Validation of TrainOptions before any data is read: one clear message per problem, naming the
// option and what was expected.
#pragma once

#include <optional>
#include <string>

#include "common/models/model_config.h"
#include "worker/train/train_job.h"

namespace ft::train {

// The BLOOM configuration of options.model, or nullopt with `error` set.
std::optional<models::ModelConfig> CheckOptions(const TrainOptions& options, std::string& error);

}  // namespace ft::train
