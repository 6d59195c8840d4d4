// A job's splits through the token cache (token_cache.h), for both tasks: each split the job needs
// is keyed by the settings that shape its tokens (given by the task) plus the identity (path,
// size, mtime, content hash) of its own file and of the training file (the label map; for a
// seeded split its source, with the fraction and the seed). When every split is in the cache no
// data file is parsed; otherwise all are read and tokenized again and stored for the next job.
// Standard library only.
#pragma once

#include <functional>
#include <string>

#include "worker/data/job_data.h"
#include "worker/train/train_job.h"

namespace ft::train {

// `settings`: a JSON object's text naming everything besides the files that changes the tokens
// (tokenizer, max_seq_length, ...); it may throw (an unreadable tokenizer file), which turns the
// cache off for this call with a warning. `read_and_tokenize` builds the splits when the cache
// cannot. Without options.token_cache_dir only `read_and_tokenize` runs. The report in
// JobData::token_cache says what happened and how long it took.
JobData LoadThroughTokenCache(const TrainOptions& options,
                              const std::function<std::string()>& settings,
                              const std::function<JobData()>& read_and_tokenize);

}  // namespace ft::train
