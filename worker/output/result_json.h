// result.json: the final metrics and a reproducibility record of one training run.
#pragma once

#include <string>

#include "worker/data/job_data.h"
#include "worker/train/train_job.h"
#include "worker/train/trainer.h"

namespace ft::train {

// Accuracy of always predicting the most frequent training label on `split` (0 when empty): the
// number any real learning has to beat.
double MajorityClassAccuracy(const JobData& data, const TokenizedSplit& split);

// The causal-LM counterpart: the share of `split`'s prompt/completion examples whose completion
// is the most frequent training completion (answering it every time).
double MajorityCompletionMatch(const JobData& data, const TokenizedSplit& split);

// The JSON text of result.json. `total_seconds` is the wall time of the whole job.
std::string ResultJson(const TrainOptions& options, const JobData& data,
                       const TrainingSummary& summary, double total_seconds);

}  // namespace ft::train
