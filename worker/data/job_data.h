// The job's examples, read with ft_core's readers and tokenized once: train, validation (its own
// file or a seeded split of train) and optional test. With a token cache folder (token_cache.h)
// each split is tokenized once per data file and settings, and later jobs map it from disk.
// Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "worker/data/token_table.h"
#include "worker/train/train_job.h"

namespace ft::train {

struct TokenizedSplit {
  std::string name;    // "train", "validation", "test"
  std::string source;  // the file it came from
  TokenTable input_ids;  // input_ids[i]: example i's ids (a TokenSpan)
  std::vector<int64_t> labels;  // sequence classification: example i's class
  // Causal LM: target_mask[i][t] is 1 where token t of example i is a target (predicted from the
  // tokens before it, so never t = 0), else 0. Empty for sequence classification.
  TokenTable target_mask;
  // Causal LM: prompt_tokens[i] is how many of example i's first ids are its prompt (a
  // prompt/completion row), 0 for text and chat rows: where a greedy sample's prompt ends.
  std::vector<int64_t> prompt_tokens;
  // What tokenizing the split left out or changed (rows skipped, ...), for the job's log; kept
  // in the token cache with the tokens.
  std::vector<std::string> notes;

  std::size_t size() const { return input_ids.size(); }
  bool empty() const { return input_ids.empty(); }
  bool causal_lm() const { return !target_mask.empty(); }
};

// What the token cache did for one LoadJobData call.
struct TokenCacheReport {
  std::string dir;  // "" when the cache is off
  int64_t hits = 0;     // splits mapped from the cache
  int64_t misses = 0;   // splits tokenized
  int64_t written = 0;  // splits stored for the next job
  std::vector<std::string> warnings;  // damaged entries ignored, failed writes
  double seconds = 0;                 // reading + tokenizing (or mapping) all splits
};

struct JobData {
  std::vector<std::string> label_names;  // class id -> label string (empty for causal_lm)
  TokenizedSplit train;
  TokenizedSplit validation;  // may be empty (validation_fraction 0)
  TokenizedSplit test;        // empty without test_path
  TokenCacheReport token_cache;
  std::vector<std::string> notes;  // what reading the data left out or changed, for the job's log
};

// Reads and tokenizes every split with the job's tokenizer (job_tokenizer.h: the model folder's
// tokenizer.json, else the byte tokenizer; max_seq_length tokens at most, special tokens kept; an
// empty result becomes a single <unk> so that every example has a position to classify from). With
// options.token_cache_dir set, every split needed is first looked up in the token cache, keyed by
// the identity (path, size, mtime, content hash) of its file and of the training file (the label
// map), the tokenizer, max_seq_length, columns, format and, for a seeded split, the fraction and
// seed; when all are there no data file is parsed, else the splits are read, tokenized and stored.
// The label map comes from the training file (for a seeded split: the whole file before the
// split, so a rare class that lands only in validation is still known). Throws
// ft::data::DataError naming file and line for bad data, including a label in validation or test
// that the training file does not have, and std::invalid_argument for an unknown format name.
JobData LoadJobData(const TrainOptions& options);

}  // namespace ft::train
