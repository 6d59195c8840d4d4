// The versioned JSON header of a training checkpoint (header.json): where the run stands (step,
// epoch, window), its progress counters, and the fingerprint of the options that a resume must
// share with the run that wrote it. The tensors (model, optimizer, RNG) live beside it in
// state.pt; see checkpoint_store.h for the folder layout. Standard library only.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "worker/data/job_data.h"
#include "worker/eval/early_stopping.h"
#include "worker/train/train_job.h"

namespace ft::train {

// Bump when the header or state.pt changes incompatibly; a resume refuses other versions.
inline constexpr int kCheckpointFormatVersion = 1;

// (field, value as JSON text), in a fixed order. Everything that decides which examples each
// optimizer step sees and what the step does with them, so that a resume is exact.
using Fingerprint = std::vector<std::pair<std::string, std::string>>;

struct CheckpointHeader {
  int format_version = kCheckpointFormatVersion;
  // Position: `step` optimizer steps done; the next step is window `window_index` (0-based) of
  // `epoch` (1-based). window_index may equal the epoch's window count (the epoch is done).
  int64_t step = 0;
  int64_t epoch = 1;
  int64_t window_index = 0;
  int64_t total_steps = 0;
  // Informational copies of the fingerprint's most telling fields.
  std::string model;
  int64_t micro_batch_size = 0;
  int64_t accumulation_steps = 0;
  uint64_t seed = 0;
  Fingerprint fingerprint;

  // Progress counters, so that reports and result.json continue where the run stood.
  int64_t samples_seen = 0;
  int64_t tokens_seen = 0;
  double train_seconds = 0;
  double eval_seconds = 0;
  // The progress interval still open (steps since the last report); its summed loss is a tensor
  // in state.pt, so that the next report's loss is the same as without the interruption.
  int64_t interval_samples = 0;
  int64_t interval_tokens = 0;
  int64_t interval_loss_terms = -1;  // causal LM: target tokens; -1: the interval's examples
  std::vector<double> interval_step_seconds;
  int64_t last_validation_step = -1;
  std::vector<EvalReport> evaluations;  // the latest one per split
  // Early stopping and the best evaluation so far; the best weights (keep_best_model) are in
  // state.pt.
  ValidationTrackerState validation_tracking;

  int64_t checkpoints_written = 0;  // by every attempt so far, this one included
  int threads = 0;                  // bit-identity after a resume needs the same count
  int cpu_replicas = 1;             // and the same replicas (train/cpu_replicas.h); 1 when absent
  std::string device;
  std::string libtorch_version;
};

std::string CheckpointHeaderJson(const CheckpointHeader& header);

// Parses header.json. Throws std::runtime_error for text that is not a header at all (a broken
// checkpoint); a readable header of another format version comes back as such, with only
// format_version guaranteed to be set, for the caller to refuse.
CheckpointHeader ParseCheckpointHeader(const std::string& json);

// The fingerprint of a run: its options (model, data, batch geometry, optimizer, schedule,
// precision, seed) and a hash of the tokenized training split, which catches a data file that
// changed under the same path.
Fingerprint ResumeFingerprint(const TrainOptions& options, const JobData& data);

// Why a checkpoint cannot resume a run: the first differing field with both values, e.g.
// "learning_rate is 0.002 but the checkpoint was written with 0.001".
class FingerprintMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws FingerprintMismatch unless both hold the same fields with the same values.
void ExpectSameFingerprint(const Fingerprint& checkpoint, const Fingerprint& current);

}  // namespace ft::train
