// The job's examples, read with ft_core's readers and tokenized once: train, validation (its own
// file or a seeded split of train) and optional test. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "train/train_job.h"

namespace ft::train {

struct TokenizedSplit {
  std::string name;    // "train", "validation", "test"
  std::string source;  // the file it came from
  std::vector<std::vector<int64_t>> input_ids;
  std::vector<int64_t> labels;

  std::size_t size() const { return labels.size(); }
  bool empty() const { return labels.empty(); }
};

struct JobData {
  std::vector<std::string> label_names;  // class id -> label string
  TokenizedSplit train;
  TokenizedSplit validation;  // may be empty (validation_fraction 0)
  TokenizedSplit test;        // empty without test_path
};

// Reads and tokenizes every split with the byte tokenizer (max_seq_length tokens at most; an empty
// text becomes a single <unk> so that every example has a position to classify from).
// The label map comes from the training file (for a seeded split: the whole file before the
// split, so a rare class that lands only in validation is still known). Throws
// ft::data::DataError naming file and line for bad data, including a label in validation or test
// that the training file does not have, and std::invalid_argument for an unknown format name.
JobData LoadJobData(const TrainOptions& options);

}  // namespace ft::train
