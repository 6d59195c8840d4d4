// What a job names but does not have locally: a Hugging Face Hub model id becomes the cached
// snapshot folder, a named dataset its cached split files. Runs in the worker before training,
// so downloads land where the job runs and show up in the job's log.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "ft/v1/job.pb.h"
#include "worker/train/train_job.h"

namespace ft::worker {

// Fills options.model / train_path / validation_path / test_path / format from `spec`'s Hub id
// and dataset name (each only when the spec uses one), and for a causal_lm job the chat renderer
// of the (resolved) model folder. `datasets_dir` holds named datasets.
// An error status carries the message that fails the job.
absl::Status ResolveRemoteInputs(const ft::v1::JobSpec& spec, const std::string& datasets_dir,
                                 train::TrainOptions& options, train::TrainObserver* observer);

// The default folder for named datasets: beside the token cache (`<home>/cache/datasets` for
// `<home>/cache/tokens`), else $FT_HOME/cache/datasets.
std::string DefaultDatasetsDir(const std::string& token_cache_dir);

}  // namespace ft::worker
