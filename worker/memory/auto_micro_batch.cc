#include "worker/memory/auto_micro_batch.h"

#include <torch/cuda.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <optional>

#include "common/tokenize/byte_tokenizer.h"
#include "worker/checkpoint/checkpoint_header.h"
#include "worker/checkpoint/checkpoint_store.h"
#include "worker/data/epoch_plan.h"
#include "worker/memory/process_memory.h"
#include "worker/models/model_loader.h"
#include "worker/train/autocast_scope.h"
#include "worker/train/compute_threads.h"
#include "worker/train/train_step.h"

namespace ft::train {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// The micro-batch of the newest complete checkpoint in the job's folder, if there is one.
std::optional<int64_t> CheckpointMicroBatch(const std::string& output_dir) {
  try {
    std::vector<std::string> warnings;
    const std::optional<std::string> found = CheckpointStore(output_dir).FindNewestComplete(warnings);
    if (!found) return std::nullopt;
    std::ifstream in(*found + "/" + CheckpointStore::kHeaderFile, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const CheckpointHeader header = ParseCheckpointHeader(text);
    if (header.format_version != kCheckpointFormatVersion) return std::nullopt;
    return header.micro_batch_size;
  } catch (const std::exception&) {
    return std::nullopt;  // the trainer reports a broken checkpoint when it tries to resume
  }
}

// cudaMemGetInfo from whichever CUDA runtime LibTorch loaded; null without one (a CPU build).
using MemGetInfo = int (*)(std::size_t* free, std::size_t* total);
MemGetInfo FindCudaMemGetInfo() {
  return reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
}

std::optional<double> CudaFreeMb(MemGetInfo mem_get_info) {
  std::size_t free = 0;
  std::size_t total = 0;
  if (mem_get_info == nullptr || mem_get_info(&free, &total) != 0) return std::nullopt;
  return static_cast<double>(free) / kMiB;
}

class Prober {
 public:
  Prober(const models::ModelConfig& config, int64_t num_labels, models::ModelTask task,
         int64_t longest, bool bf16, torch::Device device)
      : model_(models::BuildArchitecture(config, num_labels, task)),
        task_(task),
        longest_(longest),
        bf16_(bf16),
        device_(device) {
    model_->to(device_);
    model_->train();
  }

  // One forward + backward pass on `micro` sequences of the longest length. False when the
  // device ran out of memory (CUDA).
  bool Run(int64_t micro) {
    try {
      // Token ids need no randomness: a fixed byte pattern, so the global RNG stays untouched.
      const torch::Tensor ids =
          (torch::arange(micro * longest_, torch::kInt64) % 256 + tokenize::ByteTokenizer::kByteOffset)
              .view({micro, longest_})
              .to(device_);
      const torch::Tensor mask = torch::ones({micro, longest_}, torch::kInt64).to(device_);
      // A causal LM predicts every token (its loss over [micro, longest, vocabulary] logits is
      // part of the need); a classifier one class per row.
      const torch::Tensor labels = task_ == models::ModelTask::kCausalLm
                                       ? ids
                                       : torch::zeros({micro}, torch::kInt64).to(device_);
      torch::Tensor logits;
      {
        AutocastScope autocast(bf16_, device_);
        logits = model_->forward(ids, mask);
      }
      SummedLoss(task_, logits, labels).backward();
      if (device_.is_cuda()) torch::cuda::synchronize(device_.index());
      return true;
    } catch (const c10::OutOfMemoryError&) {
      return false;
    }
  }

 private:
  models::TrainableModel model_;
  models::ModelTask task_;
  int64_t longest_;
  bool bf16_;
  torch::Device device_;
};

// Memory growth of the probes so far, and the budget, in MiB.
class MemoryGauge {
 public:
  explicit MemoryGauge(bool cuda) : cuda_(cuda), mem_get_info_(cuda ? FindCudaMemGetInfo() : nullptr) {}

  // Sets the budget and the method; call once, before the first probe.
  void Start(double budget_mb, MicroBatchChoice& choice) {
    if (cuda_) {
      baseline_mb_ = CudaFreeMb(mem_get_info_).value_or(0);
      choice.method = mem_get_info_ != nullptr
                          ? "drop of free CUDA memory (cudaMemGetInfo) over the probes"
                          : "CUDA out-of-memory errors only (cudaMemGetInfo not found)";
    } else {
      TrimHeap();
      baseline_mb_ = static_cast<double>(CurrentRssBytes().value_or(0)) / kMiB;
      can_reset_peak_ = ResetPeakRss();
      choice.method = can_reset_peak_
                          ? "peak RSS growth (VmHWM reset through /proc/self/clear_refs)"
                          : "RSS growth after the pass (VmHWM cannot be reset here)";
    }
    if (budget_mb > 0) {
      choice.budget_mb = budget_mb;
      choice.budget_source = "memory_budget_mb";
    } else if (cuda_) {
      choice.budget_mb = 0.9 * baseline_mb_;
      choice.budget_source = "90% of free CUDA memory";
      if (mem_get_info_ == nullptr) choice.budget_mb = std::numeric_limits<double>::infinity();
    } else {
      choice.budget_mb = 0.5 * static_cast<double>(MemAvailableBytes().value_or(0)) / kMiB;
      choice.budget_source = "50% of MemAvailable";
    }
  }

  void BeforeProbe() {
    if (cuda_) return;
    TrimHeap();
    if (can_reset_peak_) ResetPeakRss();
  }

  double GrowthMb() const {
    double now_mb = 0;
    if (cuda_) {
      const std::optional<double> free = CudaFreeMb(mem_get_info_);
      if (!free) return 0;
      return std::max(0.0, baseline_mb_ - *free);
    }
    const std::optional<uint64_t> bytes = can_reset_peak_ ? PeakRssBytes() : CurrentRssBytes();
    now_mb = static_cast<double>(bytes.value_or(0)) / kMiB;
    return std::max(0.0, now_mb - baseline_mb_);
  }

 private:
  bool cuda_;
  MemGetInfo mem_get_info_;
  bool can_reset_peak_ = false;
  double baseline_mb_ = 0;
};

int64_t LongestTrainingSequence(const TokenizedSplit& train) {
  std::size_t longest = 1;
  for (std::size_t i = 0; i < train.size(); ++i) longest = std::max(longest, train.input_ids.Length(i));
  return static_cast<int64_t>(longest);
}

void Finish(MicroBatchChoice& choice, int64_t largest_fitting) {
  choice.micro_batch_size = LargestDivisorAtMost(choice.effective_batch_size, largest_fitting);
  choice.accumulation_steps = choice.effective_batch_size / choice.micro_batch_size;
}

}  // namespace

MicroBatchChoice ChooseMicroBatch(const TrainOptions& options, const models::ModelConfig& config,
                                  const JobData& data) {
  MicroBatchChoice choice;
  if (!options.auto_micro_batch) {
    choice.micro_batch_size = options.micro_batch_size;
    choice.accumulation_steps = options.accumulation_steps;
    choice.effective_batch_size = options.micro_batch_size * options.accumulation_steps;
    return choice;
  }
  choice.automatic = true;
  choice.effective_batch_size = options.effective_batch_size;
  // Without a limit of its own, no larger than the largest micro_batch_size a spec may give.
  constexpr int64_t kLargestMicroBatch = 4096;
  choice.limit = std::min(options.micro_batch_size > 0 ? options.micro_batch_size : kLargestMicroBatch,
                          options.effective_batch_size);
  choice.longest_sequence = LongestTrainingSequence(data.train);
  // A packed row can fill max_seq_length however short the examples are.
  if (options.packing) {
    choice.longest_sequence = std::max<int64_t>(choice.longest_sequence, options.max_seq_length);
  }

  if (const std::optional<int64_t> saved = CheckpointMicroBatch(options.output_dir);
      saved && *saved >= 1 && *saved <= choice.limit && choice.effective_batch_size % *saved == 0) {
    choice.note = "reused the micro-batch of the checkpoint this job resumes from; not probed";
    Finish(choice, *saved);
    return choice;
  }

  if (options.threads > 0) SetComputeThreads(options.threads);
  const torch::Device device =
      torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  const models::ModelTask task = options.task == "causal_lm"
                                     ? models::ModelTask::kCausalLm
                                     : models::ModelTask::kSequenceClassification;
  Prober prober(config, static_cast<int64_t>(std::max<std::size_t>(2, data.label_names.size())),
                task, choice.longest_sequence, options.precision == "bf16", device);
  MemoryGauge gauge(device.is_cuda());
  gauge.Start(options.memory_budget_mb, choice);

  int64_t largest_fitting = 0;
  // 1, 2, 4, ... and the limit itself when it is no power of two.
  for (int64_t micro = 1; micro <= choice.limit;
       micro = micro == choice.limit ? choice.limit + 1 : std::min(2 * micro, choice.limit)) {
    const std::size_t measured = choice.probes.size();
    if (measured >= 2) {
      // Linear in the micro-batch: extrapolate from the last two (micro/4 and micro/2).
      const MicroBatchProbe& small = choice.probes[measured - 2];
      const MicroBatchProbe& large = choice.probes[measured - 1];
      const double per_example = (large.peak_mb - small.peak_mb) /
                                 static_cast<double>(large.micro_batch_size - small.micro_batch_size);
      const double predicted =
          large.peak_mb + std::max(0.0, per_example) * static_cast<double>(micro - large.micro_batch_size);
      if (predicted > choice.budget_mb) {
        choice.probes.push_back({micro, predicted, /*measured=*/false, /*fits=*/false});
        break;
      }
    }
    gauge.BeforeProbe();
    const bool ran = prober.Run(micro);
    MicroBatchProbe probe{micro, gauge.GrowthMb(), /*measured=*/true, false};
    probe.fits = ran && probe.peak_mb <= choice.budget_mb;
    choice.probes.push_back(probe);
    if (!probe.fits) break;
    largest_fitting = micro;
  }
  if (largest_fitting == 0) {
    choice.note = "even micro-batch 1 is over the budget; using 1";
    largest_fitting = 1;
  }
  Finish(choice, largest_fitting);
  return choice;
}

}  // namespace ft::train
