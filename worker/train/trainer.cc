#include "worker/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/models/end_of_sequence.h"
#include "worker/adapters/lora_checkpoint.h"
#include "worker/adapters/lora_job.h"
#include "worker/adapters/lora_model.h"
#include "worker/io/durable_folder.h"
#include "worker/models/model_loader.h"
#include "worker/models/block_dtype.h"
#include "worker/optim/fused_adamw.h"
#include "worker/data/batch_prefetcher.h"
#include "worker/data/packing.h"
#include "worker/checkpoint/checkpoint_header.h"
#include "worker/checkpoint/checkpoint_store.h"
#include "worker/train/compute_threads.h"
#include "worker/train/cpu_replicas.h"
#include "worker/memory/process_memory.h"
#include "worker/memory/device_memory.h"
#include "worker/data/epoch_plan.h"
#include "worker/eval/early_stopping.h"
#include "worker/eval/evaluation.h"
#include "worker/data/example_sampler.h"
#include "worker/train/examples_per_step.h"
#include "worker/train/loss_scaler.h"
#include "worker/train/lr_schedule.h"
#include "worker/data/micro_batch.h"
#include "worker/output/model_export.h"
#include "worker/eval/progress_meter.h"
#include "worker/data/job_tokenizer.h"
#include "worker/distributed/gang.h"
#include "worker/distributed/gradient_reducer.h"
#include "worker/distributed/rank_share.h"
#include "worker/distributed/replica_check.h"
#include "worker/data/lm_data.h"
#include "worker/generate/completion_match.h"
#include "worker/output/result_json.h"
#include "worker/generate/validation_samples.h"
#include "worker/output/tokenizer_export.h"
#include "worker/train/torch_compat.h"
#include "worker/train/train_step.h"
#include "worker/train/weights_snapshot.h"

namespace ft::train {
namespace {

using Clock = std::chrono::steady_clock;

// checkpoint_every_steps 0: a checkpoint costs about as much as writing the model three times
// (parameters and AdamW's two moments), so every 100 steps keeps it a small share of the time.
constexpr int64_t kDefaultCheckpointEverySteps = 100;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool UsesLossScaling(const TrainOptions& options) {
  return options.precision == "fp16" || options.test_hooks.force_loss_scaling;
}

// The forward's precision and the loss scale of the coming window.
StepPrecision WindowPrecision(const TrainOptions& options, const DynamicLossScaler* scaler) {
  StepPrecision precision;
  precision.autocast = options.precision == "bf16" || options.precision == "fp16";
  precision.autocast_dtype = options.precision == "fp16" ? torch::kFloat16 : torch::kBFloat16;
  if (scaler) precision.loss_scale = scaler->scale();
  return precision;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The default CPU generator's state (a byte tensor); the same API in LibTorch 1.13 and 2.x.
// Nothing in the BLOOM classifier draws random numbers while training today (no dropout), but a
// resume must not depend on that staying so.
torch::Tensor CpuRngState() {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetCpuRngState(const torch::Tensor& state) {
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// ProgressMeter keeps its counters to itself; a resumed run rebuilds them by replaying the closed
// intervals as one step, then the open interval's steps.
void ReplayProgress(const CheckpointHeader& header, ProgressMeter& meter) {
  const double open_seconds = std::accumulate(header.interval_step_seconds.begin(),
                                              header.interval_step_seconds.end(), 0.0);
  meter.RecordStep(header.train_seconds - open_seconds,
                   header.samples_seen - header.interval_samples,
                   header.tokens_seen - header.interval_tokens);
  meter.TakeReport(0, 0, 0, 0, 0);  // closes that interval
  for (std::size_t i = 0; i < header.interval_step_seconds.size(); ++i) {
    meter.RecordStep(header.interval_step_seconds[i], i == 0 ? header.interval_samples : 0,
                     i == 0 ? header.interval_tokens : 0);
  }
}

// Biases and normalisation weights get no weight decay, as in Hugging Face's Trainer: in every
// family these, and only these, are the one-dimensional parameters.
bool ExemptFromWeightDecay(const torch::Tensor& parameter) { return parameter.dim() <= 1; }

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(
    const TrainOptions& options, models::TrainableModelImpl& model) {
  // Only what trains: a LoRA model's frozen base gets no optimizer state.
  const std::vector<torch::Tensor> trainable = adapters::TrainableParameters(model);
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(trainable,
                                               torch::optim::SGDOptions(options.learning_rate));
  }
  std::vector<torch::Tensor> decayed;
  std::vector<torch::Tensor> exempt;
  for (const torch::Tensor& parameter : trainable) {
    (ExemptFromWeightDecay(parameter) ? exempt : decayed).push_back(parameter);
  }
  const auto adamw_options = [&options](double weight_decay) {
    return torch::optim::AdamWOptions(options.learning_rate)
        .betas({0.9, 0.999})
        .eps(1e-8)
        .weight_decay(weight_decay);
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decayed, std::make_unique<torch::optim::AdamWOptions>(adamw_options(options.weight_decay)));
  groups.emplace_back(exempt, std::make_unique<torch::optim::AdamWOptions>(adamw_options(0.0)));
  // torch::optim::AdamW's arithmetic and checkpoint state in one pass per parameter.
  return std::make_unique<ft::optim::FusedAdamW>(std::move(groups),
                                                 adamw_options(options.weight_decay));
}

torch::Device ChooseDevice() {
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

// Everything the loop mutates, so that the helpers below stay small.
class TrainingLoop {
 public:
  TrainingLoop(const TrainOptions& options, const models::ModelConfig& config, const JobData& data,
               TrainObserver& observer, TrainingSummary& summary)
      : options_(options), config_(config), data_(data), observer_(observer), summary_(summary) {}

  void Run();

  const std::string& phase() const { return phase_; }

 private:
  bool StopRequested() { return observer_.StopRequested(); }
  // Data parallel (worker/distributed): rank 0 alone writes checkpoints and the model folder.
  int Rank() const { return gang_ ? gang_->rank() : 0; }
  int WorldSize() const { return gang_ ? gang_->world_size() : 1; }
  bool IsLeader() const { return Rank() == 0; }
  // Joins the gang when world_size > 1.
  void JoinGang();
  // After a resume (or none): every rank must stand at the same step with the same parameters.
  void CheckGangAgreesOnStart();
  // Sums the window's gradients and losses across the gang; false when some rank was stopped
  // (then no rank steps). Also agrees on rank 0's clock-based checkpoint decision.
  bool ReduceAcrossGang(WindowResult& result);
  // Seeds the generator, then builds the model, optimizer, schedule and meter from scratch.
  void BuildFreshState();
  models::ModelTask Task() const {
    return options_.task == "causal_lm" ? models::ModelTask::kCausalLm
                                        : models::ModelTask::kSequenceClassification;
  }
  // On a CPU with several threads: how many replicas split each micro-batch (cpu_replicas.h),
  // into summary_.cpu_replicas, or a log line saying why none. Before a resume, which compares.
  void DecideCpuReplicas();
  void BuildCpuReplicas();
  // Why this job cannot train on CPU replicas; "" when it can.
  std::string CpuReplicasRefusal() const;
  bool ModelHasDropout() const;     // config.json's rates, unless model_dropout is off
  bool ForwardDrawsRandom() const;  // dropout in the model or in its LoRA updates
  // One replica per thread, but no more than a micro-batch has rows.
  int CpuReplicaCount() const {
    return static_cast<int>(std::min<int64_t>(summary_.threads, micro_batch_size_));
  }
  // LoRA on a base held in bf16: the model's blocks are built in bf16 (block_dtype.h).
  bool Bf16Base() const {
    return options_.lora.enabled && options_.lora.base_precision == "bf16";
  }
  // Returns false when cancelled. `prepared` holds the window's micro-batches, collated ahead.
  bool TrainOneStep(const Window& window, PreparedWindow prepared, int64_t epoch);
  // The window's gradient; on CUDA out-of-memory, retried with half the micro-batch.
  // loss_terms: the whole window's (every rank's micro-batches).
  WindowResult AccumulateWithRetry(const Window& window, std::vector<MicroBatch>& micro_batches,
                                   int64_t loss_terms, int64_t& tokens);
  bool EvaluateSplit(const TokenizedSplit& split);
  // Evaluate with the batches dealt between the CPU replicas; nullopt when stopped.
  std::optional<EvalReport> EvaluateOnReplicas(const TokenizedSplit& split,
                                               const EvaluationOptions& options, int64_t step);
  // evaluate_only: the final evaluations of the weights as loaded; no step, checkpoint or model.
  void EvaluateOnly();
  // causal_lm: greedy completions of the first validation prompts as log lines.
  void LogValidationSamples();
  // Causal LM: the test split's greedy answers against the references (completion_match.h),
  // into the summary and one log line.
  void MatchTestCompletions();
  // fp16: unscales the window's gradients and updates the scale; false when the step must be
  // skipped (then counted and logged).
  bool UnscaleForStep();
  // Early stopping and keep_best_model bookkeeping after a validation evaluation.
  void TrackValidation(const EvalReport& report);
  // Training ends at total_steps or when early stopping said so.
  bool TrainingDone() const { return step_ >= summary_.total_steps || tracker_.stopped(); }
  // keep_best_model: puts the best evaluation's weights back before the test and the export.
  void RestoreBestWeights();
  void Cancel() { summary_.outcome.status = TrainOutcome::Status::kCancelled; }

  // Restores the newest complete checkpoint, if any; false when there is none or it cannot be
  // read (then with a warning, and the fresh state rebuilt). Throws for one that was written for
  // other options or in another format version: starting over would silently discard work.
  bool Resume();
  // has_best_weights: state.pt holds the best evaluation's weights (keep_best_model).
  void RestoreTensors(const std::string& state_path, bool has_best_weights);
  void RestoreCounters(const CheckpointHeader& header);
  bool CheckpointsEnabled() const { return options_.checkpoint_every_steps >= 0; }
  bool CheckpointDue() const;
  // A failed write is logged and training goes on: the checkpoint is a safety net.
  // check_replicas: in a gang, first compare the ranks' parameters (a collective: every rank
  // calls it); a divergence throws and fails the attempt.
  void WriteCheckpoint(bool check_replicas = true);
  void WriteCheckpointFiles(const std::string& folder);
  CheckpointHeader MakeHeader() const;

  const TrainOptions& options_;
  const models::ModelConfig& config_;
  const JobData& data_;
  TrainObserver& observer_;
  TrainingSummary& summary_;

  std::string phase_ = "setting up";
  torch::Device device_ = torch::kCPU;
  models::TrainableModel model_{nullptr};
  std::optional<adapters::LoraJob> lora_;  // options_.lora.enabled
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<LearningRateSchedule> schedule_;
  std::unique_ptr<ProgressMeter> meter_;
  std::unique_ptr<DynamicLossScaler> scaler_;  // fp16 only
  torch::Tensor interval_loss_;  // summed per-example loss since the last report, on the device
  int64_t step_ = 0;
  int64_t last_validation_step_ = -1;
  std::vector<std::size_t> train_lengths_;
  int64_t micro_batch_size_ = 0;  // options_'s, halved after a CUDA out-of-memory error
  ValidationTracker tracker_{
      ParseStoppingMetric(options_.early_stopping_metric).value_or(StoppingMetric::kAccuracy),
      options_.early_stopping_patience};
  WeightsSnapshot best_weights_;  // keep_best_model: the weights of tracker_'s best evaluation
  int64_t weights_step_ = -1;     // >= 0: the model holds the weights of this (earlier) step

  // Where the loop stands, for checkpoints: windows_done_ windows of epoch_ are trained.
  int64_t epoch_ = 1;
  int64_t windows_done_ = 0;
  // The open progress interval, mirrored from the meter (which does not expose it).
  std::vector<double> interval_step_seconds_;
  int64_t interval_samples_ = 0;
  int64_t interval_tokens_ = 0;
  int64_t interval_loss_terms_ = 0;  // what interval_loss_ sums over (examples or target tokens)

  Fingerprint fingerprint_;
  CheckpointStore store_{options_.output_dir};
  int64_t last_checkpoint_step_ = -1;
  Clock::time_point last_checkpoint_time_ = Clock::now();
  int64_t checkpoints_total_ = 0;  // by every attempt, from the checkpoint resumed from
  std::unique_ptr<DeviceMemoryMeter> memory_meter_;  // for progress reports
  std::optional<JobTokenizer> sample_tokenizer_;  // loaded at the first validation samples

  std::unique_ptr<CpuReplicas> replicas_;  // CPU, several threads: cpu_replicas.h

  std::unique_ptr<distributed::Gang> gang_;  // world_size > 1 only
  std::unique_ptr<distributed::GradientReducer> reducer_;
  double interval_communication_seconds_ = 0;  // all-reduce time since the last report
  bool checkpoint_time_due_ = false;  // in a gang: rank 0's clock said so at the last step
};

void TrainingLoop::Run() {
  summary_.threads = options_.threads > 0
                         ? options_.threads
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  SetComputeThreads(summary_.threads);
  device_ = ChooseDevice();
  summary_.device = device_.str();
  memory_meter_ = std::make_unique<DeviceMemoryMeter>(device_.is_cuda());
  if (options_.precision == "fp16" && !device_.is_cuda()) {
    throw std::runtime_error(
        "precision fp16 needs a CUDA GPU and this worker has none (LibTorch has no float16 "
        "autocast on the CPU); use bf16 or fp32");
  }
  summary_.total_steps = TotalSteps(options_, data_.train.size());
  fingerprint_ = ResumeFingerprint(options_, data_);
  train_lengths_ = data_.train.input_ids.Lengths();
  micro_batch_size_ = options_.micro_batch_size;
  summary_.pipeline.group_by_length = options_.group_by_length;
  summary_.pipeline.packing = options_.packing;
  summary_.pipeline.prefetch_depth = static_cast<int>(kPrefetchDepth);

  JoinGang();
  phase_ = "building the model";
  BuildFreshState();
  if (options_.evaluate_only) return EvaluateOnly();
  if (lora_) {
    // The checkpoints hold no base: resuming on another one must be refused.
    // Fingerprint values are JSON text; the hash is hex digits.
    fingerprint_.emplace_back("lora.base_weights",
                              "\"" + adapters::FrozenWeightsHash(*model_) + "\"");
  }
  DecideCpuReplicas();
  Resume();
  CheckGangAgreesOnStart();
  if (summary_.cpu_replicas > 1) BuildCpuReplicas();
  last_checkpoint_time_ = Clock::now();

  const int64_t first_epoch = epoch_;
  const int64_t first_window = windows_done_;
  for (int64_t epoch = first_epoch; epoch <= options_.epochs && !TrainingDone(); ++epoch) {
    summary_.epochs_started = epoch;
    // A window holds every rank's micro-batches (effective batch = world x micro x accumulation).
    const int64_t window_size = ExamplesPerStep(options_);
    std::vector<Window> planned = PlanEpoch(
        train_lengths_,
        {micro_batch_size_, window_size / micro_batch_size_, options_.seed, options_.group_by_length},
        epoch);
    if (WorldSize() > 1 && !options_.packing) {
      for (Window& window : planned) {
        window = distributed::DealWindow(window, WorldSize(), micro_batch_size_);
      }
    }
    // Packed: the same windows' examples in rows of max_seq_length, micro_batch_size rows each.
    const std::vector<Window> windows =
        options_.packing ? PackWindows(planned, train_lengths_,
                                       static_cast<std::size_t>(options_.max_seq_length),
                                       micro_batch_size_)
                         : planned;
    const auto window_count = static_cast<int64_t>(windows.size());
    epoch_ = epoch;
    windows_done_ = epoch == first_epoch ? first_window : 0;
    BatchPrefetcher prefetcher(data_.train, windows, static_cast<std::size_t>(windows_done_),
                               kPrefetchDepth, device_.is_cuda());
    while (windows_done_ < window_count && !TrainingDone()) {
      // What the window would have padded without packing, for the report.
      summary_.pipeline.unpacked_padded_slots +=
          CountPadding({planned[static_cast<std::size_t>(windows_done_)]}, train_lengths_).slots;
      if (!TrainOneStep(windows[static_cast<std::size_t>(windows_done_)], prefetcher.Next(),
                        epoch)) {
        // Stopped within the window: the parameters, optimizer and counters are still those of
        // step_, a consistent point to resume from.
        // In a gang each rank may be asked differently: no collective here.
        if (observer_.CheckpointBeforeStopping() && CheckpointsEnabled() &&
            last_checkpoint_step_ != step_) {
          WriteCheckpoint(/*check_replicas=*/false);
        }
        return Cancel();
      }
      ++windows_done_;
      if (options_.eval_every_steps > 0 && step_ % options_.eval_every_steps == 0 &&
          !EvaluateSplit(data_.validation)) {
        return Cancel();
      }
      // The epoch's last step is checkpointed below, after the epoch's evaluation.
      const bool ends_epoch = windows_done_ == window_count || TrainingDone();
      if (!ends_epoch && CheckpointDue()) WriteCheckpoint();
    }
    summary_.pipeline.prefetch_wait_seconds += prefetcher.wait_seconds();
    if (options_.eval_every_steps == 0 && !EvaluateSplit(data_.validation)) return Cancel();
    if (CheckpointsEnabled() && last_checkpoint_step_ != step_) WriteCheckpoint();
  }
  if (summary_.pipeline.padded_slots > 0) {
    observer_.OnLog("info", DescribePadding(summary_.pipeline));
  }
  // The final numbers: validation after the last step (unless just done), then test.
  if (!EvaluateSplit(data_.validation)) return Cancel();
  if (options_.keep_best_model) RestoreBestWeights();
  if (!EvaluateSplit(data_.test)) return Cancel();
  summary_.validation_tracking = tracker_.state();
  summary_.exported_step = weights_step_ >= 0 ? weights_step_ : step_;
  summary_.outcome.status = TrainOutcome::Status::kSucceeded;
  summary_.outcome.steps = step_;
  if (!IsLeader()) return;

  phase_ = "writing the model to " + options_.output_dir;
  if (lora_) {
    adapters::WriteLoraOutput(*model_, *lora_, config_.family, data_.label_names,
                              options_.max_seq_length, options_.model, options_.output_dir);
    if (lora_->applied.merge) {
      WriteTokenizerFiles(options_.model, options_.tokenizer, options_.max_seq_length,
                          options_.output_dir + "/" + adapters::kMergedFolder);
    }
  } else {
    WriteModelFolder(*model_, data_.label_names, options_.max_seq_length, options_.output_dir);
  }
  WriteTokenizerFiles(options_.model, options_.tokenizer, options_.max_seq_length,
                      options_.output_dir);
}

void TrainingLoop::JoinGang() {
  const DistributedOptions& distributed = options_.distributed;
  if (distributed.world_size <= 1) return;
  phase_ = "joining the gang as rank " + std::to_string(distributed.rank) + " of " +
           std::to_string(distributed.world_size);
  gang_ = distributed::Gang::Join(distributed, device_);
  observer_.OnLog("info", "data parallel: rank " + std::to_string(Rank()) + " of " +
                              std::to_string(WorldSize()) + " joined the gang (" +
                              gang_->backend() + " on " + device_.str() + ")");
}

void TrainingLoop::CheckGangAgreesOnStart() {
  if (!gang_) return;
  phase_ = "checking that the gang starts from the same point";
  std::vector<double> position = {static_cast<double>(step_), static_cast<double>(epoch_),
                                  static_cast<double>(windows_done_)};
  const std::vector<double> parameters = distributed::ParameterFingerprint(parameters_);
  position.insert(position.end(), parameters.begin(), parameters.end());
  distributed::CheckRanksAgree(*gang_, position,
                               "the step and parameters to start from (step " +
                                   std::to_string(step_) + " here)");
  // The parameters are final now (a discarded checkpoint rebuilds them).
  distributed::GradientReducerOptions reducer_options;
  reducer_options.overlap =
      options_.distributed.overlap_gradient_reduce.value_or(device_.is_cuda());
  reducer_ = std::make_unique<distributed::GradientReducer>(*gang_, parameters_, reducer_options);
  observer_.OnLog("info", "data parallel: each optimizer step all-reduces " +
                              std::to_string(reducer_->bytes_per_reduce()) +
                              " bytes of gradients (every trainable parameter) in " +
                              std::to_string(reducer_->bucket_count()) + " buckets, " +
                              (reducer_options.overlap ? "overlapped with the backward"
                                                       : "after the backward"));
}

bool TrainingLoop::ReduceAcrossGang(WindowResult& result) {
  const bool time_due = IsLeader() && options_.checkpoint_every_seconds > 0 &&
                        SecondsSince(last_checkpoint_time_) >= options_.checkpoint_every_seconds;
  const std::vector<double> sums = reducer_->Finish(
      {result.stopped ? 0.0 : result.loss_sum.item<double>(), result.stopped ? 1.0 : 0.0,
       time_due ? 1.0 : 0.0});
  interval_communication_seconds_ += reducer_->last_exposed_seconds();
  checkpoint_time_due_ = sums[2] > 0;
  result.loss_sum = torch::tensor(sums[0], interval_loss_.options());
  return sums[1] == 0;
}

void TrainingLoop::EvaluateOnly() {
  if (!EvaluateSplit(data_.validation) || !EvaluateSplit(data_.test)) return Cancel();
  summary_.validation_tracking = tracker_.state();
  summary_.exported_step = 0;
  summary_.outcome.status = TrainOutcome::Status::kSucceeded;
  summary_.outcome.steps = 0;
}

void TrainingLoop::BuildFreshState() {
  torch::manual_seed(options_.seed);
  {
    // A bf16 base is built block by block in bf16: the float32 model never exists whole.
    std::optional<models::FrozenBlockDtype> bf16_blocks;
    if (Bf16Base()) bf16_blocks.emplace(torch::kBFloat16);
    model_ = models::BuildModel(
        config_, static_cast<int64_t>(data_.label_names.size()),
        [this](const std::string& level, const std::string& text) { observer_.OnLog(level, text); },
        Task());
  }
  if (ModelHasDropout()) {
    const models::TransformerConfig& t = config_.transformer;
    const auto rate = [](double value) {
      std::ostringstream text;
      text << value;
      return text.str();
    };
    observer_.OnLog("info", "dropout while training (config.json's rates): embeddings " +
                                rate(t.embedding_dropout) + ", attention output " +
                                rate(t.attention_output_dropout) + ", feed-forward output " +
                                rate(t.mlp_output_dropout) + ", attention probabilities " +
                                rate(t.attention_dropout) + ", classifier input " +
                                rate(t.classifier_dropout));
  }
  if (options_.lora.enabled) {
    lora_ = adapters::SetUpLora(*model_, config_.family, options_.lora,
                                [this](const std::string& level, const std::string& text) {
                                  observer_.OnLog(level, text);
                                });
  }
  model_->to(device_);
  model_->train();
  model_->set_activation_checkpointing(options_.activation_checkpointing);
  parameters_ = adapters::TrainableParameters(*model_);
  optimizer_ = MakeOptimizer(options_, *model_);
  schedule_ = std::make_unique<LearningRateSchedule>(
      ParseScheduleKind(options_.lr_scheduler).value_or(ScheduleKind::kLinear),
      options_.learning_rate, options_.warmup_steps, summary_.total_steps);
  tracker_.Restore({});
  best_weights_ = WeightsSnapshot();
  meter_ = std::make_unique<ProgressMeter>(summary_.total_steps);
  scaler_.reset();
  summary_.skipped_steps = 0;
  if (UsesLossScaling(options_)) {
    LossScalerOptions scaler_options;
    if (options_.test_hooks.force_loss_scaling) {
      scaler_options.initial_scale = options_.test_hooks.initial_loss_scale;
      scaler_options.growth_interval = options_.test_hooks.loss_scale_growth_interval;
    }
    scaler_ = std::make_unique<DynamicLossScaler>(scaler_options);
    summary_.loss_scale = scaler_->scale();
  }
  interval_loss_ = torch::zeros({}, torch::TensorOptions().device(device_));
}

bool TrainingLoop::ModelHasDropout() const {
  // BLOOM and TorchScript leave the transformer fields at their zero defaults.
  return config_.transformer.HasDropout();
}

bool TrainingLoop::ForwardDrawsRandom() const {
  return ModelHasDropout() || (options_.lora.enabled && options_.lora.dropout > 0);
}

std::string TrainingLoop::CpuReplicasRefusal() const {
  if (WorldSize() > 1) return "a data-parallel rank splits no further";
  if (micro_batch_size_ < 2) return "a micro-batch of one row cannot be split";
  if (config_.family == models::ModelFamily::kTorchScript) {
    return "a TorchScript module cannot be rebuilt";
  }
  int64_t gradient_bytes = 0;
  for (const torch::Tensor& parameter : parameters_) {
    gradient_bytes += parameter.numel() * static_cast<int64_t>(parameter.element_size());
  }
  const std::optional<uint64_t> available = MemAvailableBytes();
  const auto extra =
      static_cast<uint64_t>(gradient_bytes) * static_cast<uint64_t>(CpuReplicaCount() - 1);
  if (available && extra > *available / 4) {
    return "their gradients (" + std::to_string(extra >> 20) + " MiB) would take more than a "
           "quarter of the available memory";
  }
  return "";
}

void TrainingLoop::DecideCpuReplicas() {
  summary_.cpu_replicas = 1;
  if (!options_.cpu_replicas || !device_.is_cpu() || summary_.threads < 2) return;
  const std::string refusal = CpuReplicasRefusal();
  if (!refusal.empty()) {
    observer_.OnLog("info", "CPU: one model on " + std::to_string(summary_.threads) +
                                " threads, not split into replicas: " + refusal);
    return;
  }
  summary_.cpu_replicas = CpuReplicaCount();
}

void TrainingLoop::BuildCpuReplicas() {
  phase_ = "building the CPU replicas";
  const int count = summary_.cpu_replicas;
  // Their random initial weights are dropped at once; the generator must not notice them.
  const torch::Tensor generator_state = CpuRngState();
  std::vector<models::TrainableModel> extra;
  for (int i = 1; i < count; ++i) {
    std::optional<models::FrozenBlockDtype> bf16_blocks;
    if (Bf16Base()) bf16_blocks.emplace(torch::kBFloat16);
    models::TrainableModel replica = models::BuildArchitecture(
        config_, static_cast<int64_t>(data_.label_names.size()), Task());
    if (lora_) adapters::ApplyLora(*replica, config_.family, lora_->applied);
    replica->set_activation_checkpointing(options_.activation_checkpointing);
    extra.push_back(std::move(replica));
  }
  SetCpuRngState(generator_state);
  const bool draws_random = ForwardDrawsRandom();
  replicas_ =
      std::make_unique<CpuReplicas>(*model_, std::move(extra), summary_.threads, draws_random);
  observer_.OnLog("info", "CPU: each micro-batch's rows split between " + std::to_string(count) +
                              " replicas of the model, one thread each (ftworker --cpu-replicas "
                              "off: one model on " + std::to_string(summary_.threads) +
                              " threads)");
}

bool TrainingLoop::TrainOneStep(const Window& window, PreparedWindow prepared, int64_t epoch) {
  phase_ = "training step " + std::to_string(step_ + 1) + " of " +
           std::to_string(summary_.total_steps) + " (epoch " + std::to_string(epoch) + ")";
  const Clock::time_point start = Clock::now();
  const double learning_rate = schedule_->LearningRate(step_);
  compat::SetLearningRate(*optimizer_, learning_rate);
  if (reducer_) {
    // The gang's gradients are its all-reduce buckets: zeroed there, as zero_grad would.
    reducer_->BeginWindow(compat::kZeroGradSetsToNone ? distributed::ZeroGrad::kToNone
                                                      : distributed::ZeroGrad::kToZeros);
  } else {
    optimizer_->zero_grad();
  }

  if (static_cast<int64_t>(window.rows(0)) > micro_batch_size_) {
    // Planned before an out-of-memory retry lowered the micro-batch: cut it again.
    prepared = PrepareWindow(data_.train, RecutWindow(window, micro_batch_size_), prepared.index,
                             false);
  }
  // Every rank divides by the whole window's loss terms (examples, or target tokens), which each
  // knows without a collective: the summed gradients are then the window's mean, as in one
  // process. Each computes only its share of the micro-batches (rank_share.h).
  const int64_t loss_terms = WindowLossTerms(prepared.micro_batches);
  std::vector<MicroBatch> micro_batches;
  for (std::size_t i = 0; i < prepared.micro_batches.size(); ++i) {
    if (!distributed::IsRanksShare(i, Rank(), WorldSize())) continue;
    micro_batches.push_back(ToDevice(std::move(prepared.micro_batches[i]), device_));
  }
  int64_t tokens = prepared.tokens;  // the gang's: throughput is the whole window's
  summary_.pipeline.tokens += prepared.tokens;
  summary_.pipeline.padded_slots += prepared.padded_slots;
  WindowResult result = AccumulateWithRetry(window, micro_batches, loss_terms, tokens);
  if (gang_ ? !ReduceAcrossGang(result) : result.stopped) return false;

  // Unscaled once, before the norm and clipping; a step with inf/NaN gradients is skipped.
  const bool apply_step = !scaler_ || UnscaleForStep();
  const torch::Tensor grad_norm = GlobalGradNorm(parameters_);
  if (apply_step) {
    if (options_.max_grad_norm > 0) ClipGradients(parameters_, options_.max_grad_norm, grad_norm);
    optimizer_->step();
  }
  compat::SynchronizeDevice(device_);  // so that step times mean something on a GPU
  ++step_;
  interval_loss_ += result.loss_sum;
  const double seconds = SecondsSince(start);
  meter_->RecordStep(seconds, static_cast<int64_t>(window.size()), tokens);
  interval_step_seconds_.push_back(seconds);
  interval_samples_ += static_cast<int64_t>(window.size());
  interval_tokens_ += tokens;
  interval_loss_terms_ += loss_terms;
  summary_.samples_seen = meter_->samples_seen();
  summary_.tokens_seen = meter_->tokens_seen();
  summary_.train_seconds = meter_->total_step_seconds();
  summary_.outcome.steps = step_;

  if (step_ % options_.log_every_steps == 0 || step_ == summary_.total_steps) {
    // The only host reads of the loop: once per report.
    ProgressReport report =
        meter_->TakeReport(step_, epoch, interval_loss_.item<double>(), learning_rate,
                           grad_norm.item<double>(), interval_loss_terms_);
    report.skipped_steps = summary_.skipped_steps;
    report.loss_scale = summary_.loss_scale;
    const DeviceMemory memory = memory_meter_->Read();
    report.device_memory_bytes = memory.in_use_bytes;
    report.device_memory_peak_bytes = memory.peak_bytes;
    if (!interval_step_seconds_.empty()) {
      report.communication_seconds = interval_communication_seconds_ /
                                     static_cast<double>(interval_step_seconds_.size());
    }
    interval_communication_seconds_ = 0;
    observer_.OnProgress(report);
    interval_loss_.zero_();
    interval_step_seconds_.clear();
    interval_samples_ = 0;
    interval_tokens_ = 0;
    interval_loss_terms_ = 0;
  }
  return true;
}

bool TrainingLoop::UnscaleForStep() {
  const std::vector<int64_t>& injected = options_.test_hooks.non_finite_steps;
  if (std::find(injected.begin(), injected.end(), step_ + 1) != injected.end()) {
    torch::NoGradGuard no_grad;
    parameters_.front().grad().view(-1)[0].fill_(std::numeric_limits<float>::infinity());
  }
  const double scale = scaler_->scale();
  const bool finite = scaler_->UnscaleAndCheckFinite(parameters_);
  scaler_->Update(finite);
  summary_.loss_scale = scaler_->scale();
  if (!finite) {
    ++summary_.skipped_steps;
    char message[160];
    std::snprintf(message, sizeof(message),
                  "step %lld skipped: inf/NaN gradients at loss scale %g; the scale is now %g",
                  static_cast<long long>(step_ + 1), scale, scaler_->scale());
    observer_.OnLog("warning", message);
  }
  return finite;
}

WindowResult TrainingLoop::AccumulateWithRetry(const Window& window,
                                               std::vector<MicroBatch>& micro_batches,
                                               int64_t loss_terms, int64_t& tokens) {
  // The same examples whatever the micro-batch, so the same divisor after a retry.
  while (true) {
    try {
      if (replicas_) {
        return replicas_->AccumulateWindow(micro_batches, loss_terms,
                                           [this] { return StopRequested(); },
                                           WindowPrecision(options_, scaler_.get()),
                                           options_.label_smoothing);
      }
      std::function<void()> arm_reduce;
      if (reducer_) arm_reduce = [this] { reducer_->ArmBeforeLastBackward(); };
      return AccumulateWindow(
          *model_, micro_batches, loss_terms, [this] { return StopRequested(); },
          WindowPrecision(options_, scaler_.get()), options_.label_smoothing, arm_reduce);
    } catch (const c10::OutOfMemoryError& error) {
      // A gang's ranks would have to agree on the new cut: not done yet.
      if (!device_.is_cuda() || micro_batch_size_ == 1 || gang_) throw;
      // Start the window over with half the micro-batch (a divisor of the effective batch):
      // the same examples, so the same gradient. Later windows keep the smaller size.
      optimizer_->zero_grad();
      micro_batches.clear();
      const int64_t before = micro_batch_size_;
      const int64_t effective = options_.micro_batch_size * options_.accumulation_steps;
      micro_batch_size_ = LargestDivisorAtMost(effective, micro_batch_size_ / 2);
      ++summary_.pipeline.out_of_memory_retries;
      observer_.OnLog("warning", "CUDA out of memory in step " + std::to_string(step_ + 1) +
                                     " with micro-batch " + std::to_string(before) +
                                     "; retrying it with micro-batch " +
                                     std::to_string(micro_batch_size_) + " x accumulation " +
                                     std::to_string(effective / micro_batch_size_));
      PreparedWindow prepared =
          PrepareWindow(data_.train, RecutWindow(window, micro_batch_size_), 0, false);
      tokens = prepared.tokens;
      for (MicroBatch& batch : prepared.micro_batches) {
        micro_batches.push_back(ToDevice(std::move(batch), device_));
      }
    }
  }
}

std::optional<EvalReport> TrainingLoop::EvaluateOnReplicas(const TokenizedSplit& split,
                                                           const EvaluationOptions& options,
                                                           int64_t step) {
  // The batches dealt between the replicas as between a gang's ranks, the sums added in-process.
  ReplicaSum sum(replicas_->count());
  std::optional<EvalReport> report;
  replicas_->ForEachReplica([&](models::TrainableModelImpl& replica, int index) {
    EvaluationOptions share = options;
    share.shard_rank = index;
    share.shard_count = replicas_->count();
    share.sum_across_ranks = [&sum, index](std::vector<torch::Tensor>& sums) {
      sum.Sum(index, sums);
    };
    try {
      // Only the model's thread asks whether to stop; when it stops, the others are released.
      std::optional<EvalReport> own =
          Evaluate(replica, split, share, device_, step,
                   index == 0 ? std::function<bool()>([this] { return StopRequested(); })
                              : nullptr);
      if (index == 0) {
        if (!own) sum.Abort();
        report = std::move(own);
      }
    } catch (...) {
      sum.Abort();
      throw;
    }
  });
  return report;
}

bool TrainingLoop::EvaluateSplit(const TokenizedSplit& split) {
  if (split.empty()) return true;
  const bool is_validation = &split == &data_.validation;
  if (is_validation && last_validation_step_ == step_) return true;
  phase_ = "evaluating " + split.name + " at step " + std::to_string(step_);
  const Clock::time_point start = Clock::now();
  EvaluationOptions eval_options;
  eval_options.batch_size = std::max<int64_t>(options_.micro_batch_size, 32);
  eval_options.max_examples = options_.max_eval_examples;
  eval_options.bf16_autocast = options_.precision == "bf16";
  eval_options.label_names = data_.label_names;
  if (gang_) {
    eval_options.shard_rank = Rank();
    eval_options.shard_count = WorldSize();
    eval_options.sum_across_ranks = [this](std::vector<torch::Tensor>& sums) {
      std::vector<torch::Tensor> on_cpu;
      for (const torch::Tensor& sum : sums) on_cpu.push_back(sum.to(torch::kCPU).contiguous());
      gang_->SumInPlace(on_cpu);
      for (std::size_t i = 0; i < sums.size(); ++i) sums[i].copy_(on_cpu[i]);
    };
  }
  const int64_t step = weights_step_ >= 0 ? weights_step_ : step_;
  const std::optional<EvalReport> report =
      replicas_ ? EvaluateOnReplicas(split, eval_options, step)
                : Evaluate(*model_, split, eval_options, device_, step,
                           [this] { return StopRequested(); });
  summary_.eval_seconds += SecondsSince(start);
  if (!report) return false;
  if (is_validation) last_validation_step_ = step_;

  std::vector<EvalReport>& finals = summary_.outcome.final_evals;
  finals.erase(std::remove_if(finals.begin(), finals.end(),
                              [&](const EvalReport& old) { return old.split == report->split; }),
               finals.end());
  finals.push_back(*report);
  observer_.OnEvaluation(*report);
  // Greedy generation is rank 0's alone: its numbers go to result.json, its lines to the log.
  const bool generates = options_.task == "causal_lm" && IsLeader();
  if (&split == &data_.test && generates) MatchTestCompletions();
  if (is_validation) {
    TrackValidation(*report);
    if (generates) LogValidationSamples();
  }
  return true;
}

void TrainingLoop::MatchTestCompletions() {
  auto* causal_lm = dynamic_cast<models::CausalLmImpl*>(model_.get());
  if (causal_lm == nullptr) return;
  const Clock::time_point start = Clock::now();
  const generate::CompletionMatch match = generate::GreedyCompletionMatch(
      *causal_lm, data_.test, models::EosTokenId(config_), options_.max_eval_examples);
  summary_.eval_seconds += SecondsSince(start);
  summary_.test_completion_examples = match.examples;
  summary_.test_completion_matched = match.matched;
  if (match.examples == 0) return;
  summary_.test_majority_completion_match = MajorityCompletionMatch(data_, data_.test);
  char line[200];
  std::snprintf(line, sizeof(line),
                "test: %lld of %lld greedy answers exactly right (%.1f %%); always answering the "
                "most frequent training completion: %.1f %%",
                static_cast<long long>(match.matched), static_cast<long long>(match.examples),
                100.0 * static_cast<double>(match.matched) / static_cast<double>(match.examples),
                100.0 * summary_.test_majority_completion_match);
  observer_.OnLog("info", line);
}

void TrainingLoop::LogValidationSamples() {
  auto* causal_lm = dynamic_cast<models::CausalLmImpl*>(model_.get());
  if (causal_lm == nullptr) return;
  const Clock::time_point start = Clock::now();
  if (!sample_tokenizer_) {
    JobTokenizer tokenizer = JobTokenizer::ForModel(options_.model, options_.tokenizer);
    tokenizer.Load();
    sample_tokenizer_ = std::move(tokenizer);
  }
  for (const std::string& line : generate::ValidationSampleLines(
           *causal_lm, data_.validation, *sample_tokenizer_, models::EosTokenId(config_))) {
    observer_.OnLog("info", line);
  }
  summary_.eval_seconds += SecondsSince(start);
}

void TrainingLoop::TrackValidation(const EvalReport& report) {
  const bool was_stopped = tracker_.stopped();
  const bool training_left = step_ < summary_.total_steps;
  if (tracker_.Observe(report, training_left) && options_.keep_best_model) {
    best_weights_.Take(*model_);
  }
  if (tracker_.stopped() && !was_stopped) {
    observer_.OnLog("info", "early stopping at step " + std::to_string(step_) + " of " +
                                std::to_string(summary_.total_steps) + ": " +
                                tracker_.StopReason());
  }
}

void TrainingLoop::RestoreBestWeights() {
  const ValidationTrackerState& best = tracker_.state();
  if (best.best_step < 0 || best_weights_.empty()) {
    observer_.OnLog("warning",
                    "keep_best_model: there was no validation evaluation; exporting the weights "
                    "of the last step");
    return;
  }
  if (best.best_step == step_) return;  // the last weights are the best ones
  best_weights_.CopyInto(*model_);
  weights_step_ = best.best_step;
  // The validation numbers that describe the exported model are the best evaluation's.
  std::vector<EvalReport>& finals = summary_.outcome.final_evals;
  for (EvalReport& report : finals) {
    if (report.split == best.best_report.split) report = best.best_report;
  }
  observer_.OnLog(
      "info", "keep_best_model: exporting the weights of step " + std::to_string(best.best_step) +
                  " (the best validation " + options_.early_stopping_metric + ", " +
                  std::to_string(best.best_value) + ") instead of step " + std::to_string(step_));
}

bool TrainingLoop::Resume() {
  std::vector<std::string> warnings;
  const std::optional<std::string> found = store_.FindNewestComplete(warnings);
  for (const std::string& warning : warnings) {
    observer_.OnLog("warning", warning + (found ? "" : "; starting from scratch"));
  }
  if (!found) return false;
  const std::string previous_phase = phase_;
  phase_ = "resuming from " + *found;
  const auto discard = [&](const std::string& why) {
    observer_.OnLog(
        "warning", "ignoring the checkpoint in " + *found + ": " + why + "; starting from scratch");
    phase_ = previous_phase;
    BuildFreshState();  // a failed restore may have overwritten part of it
    return false;
  };

  CheckpointHeader header;
  try {
    header = ParseCheckpointHeader(ReadFile(*found + "/" + CheckpointStore::kHeaderFile));
  } catch (const std::exception& error) {
    return discard(error.what());
  }
  if (header.format_version != kCheckpointFormatVersion) {
    throw std::runtime_error("the checkpoint has format version " +
                             std::to_string(header.format_version) + ", this ftworker reads " +
                             std::to_string(kCheckpointFormatVersion) + "; remove " +
                             store_.folder() + " to start over");
  }
  try {
    ExpectSameFingerprint(header.fingerprint, fingerprint_);
  } catch (const FingerprintMismatch& mismatch) {
    throw std::runtime_error("the checkpoint was written for other options: " +
                             std::string(mismatch.what()) + "; remove " + store_.folder() +
                             " to start over");
  }
  try {
    RestoreTensors(
        *found + "/" + CheckpointStore::kStateFile,
        header.validation_tracking.best_step >= 0 &&
            !options_.test_hooks.resume_without_validation_tracking);
  } catch (const c10::Error& error) {
    return discard(compat::ErrorMessage(error));
  } catch (const std::exception& error) {
    return discard(error.what());
  }
  RestoreCounters(header);
  if (header.threads != summary_.threads || header.device != summary_.device ||
      header.cpu_replicas != summary_.cpu_replicas) {
    const auto runtime = [](const std::string& device, int threads, int replicas) {
      return device + " with " + std::to_string(threads) + " threads" +
             (replicas > 1 ? " in " + std::to_string(replicas) + " replicas" : "");
    };
    observer_.OnLog("warning", "the checkpoint was written on " +
                                   runtime(header.device, header.threads, header.cpu_replicas) +
                                   ", this run uses " +
                                   runtime(summary_.device, summary_.threads,
                                           summary_.cpu_replicas) +
                                   ": the result may differ in the last bits from an "
                                   "uninterrupted run");
  }
  observer_.OnLog("info", "resumed from checkpoint at step " + std::to_string(step_) + " (epoch " +
                              std::to_string(epoch_) + ")");
  phase_ = previous_phase;
  return true;
}

void TrainingLoop::RestoreTensors(const std::string& state_path, bool has_best_weights) {
  torch::serialize::InputArchive archive;
  archive.load_from(state_path, device_);
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  if (lora_) {
    adapters::LoadTrainableTensors(*model_, model_archive);
  } else {
    model_->load(model_archive);
  }
  if (!options_.test_hooks.resume_without_optimizer) {
    torch::serialize::InputArchive optimizer_archive;
    archive.read("optimizer", optimizer_archive);
    optimizer_->load(optimizer_archive);
  }
  torch::Tensor rng_state;
  archive.read("cpu_rng_state", rng_state, /*is_buffer=*/true);
  torch::Tensor interval_loss;
  archive.read("interval_loss", interval_loss, /*is_buffer=*/true);
  SetCpuRngState(rng_state.to(torch::kCPU));
  interval_loss_.copy_(interval_loss);
  if (scaler_) {
    torch::Tensor scaler_state;
    archive.read("loss_scaler", scaler_state, /*is_buffer=*/true);
    scaler_->LoadStateTensor(scaler_state);
    torch::Tensor skipped;
    archive.read("skipped_steps", skipped, /*is_buffer=*/true);
    summary_.skipped_steps = skipped.item<int64_t>();
    summary_.loss_scale = scaler_->scale();
  }
  if (options_.keep_best_model && has_best_weights) {
    torch::serialize::InputArchive best_archive;
    archive.read("best_model", best_archive);
    best_weights_.Load(best_archive, *model_);
  }
}

void TrainingLoop::RestoreCounters(const CheckpointHeader& header) {
  step_ = header.step;
  epoch_ = header.epoch;
  windows_done_ =
      std::max<int64_t>(0, header.window_index + options_.test_hooks.resume_window_offset);
  ReplayProgress(header, *meter_);
  interval_step_seconds_ = header.interval_step_seconds;
  interval_samples_ = header.interval_samples;
  interval_tokens_ = header.interval_tokens;
  interval_loss_terms_ =
      header.interval_loss_terms >= 0 ? header.interval_loss_terms : header.interval_samples;
  last_validation_step_ = header.last_validation_step;
  if (!options_.test_hooks.resume_without_validation_tracking) {
    tracker_.Restore(header.validation_tracking);
  }
  summary_.outcome.final_evals = header.evaluations;
  summary_.outcome.steps = step_;
  summary_.samples_seen = meter_->samples_seen();
  summary_.tokens_seen = meter_->tokens_seen();
  summary_.train_seconds = meter_->total_step_seconds();
  summary_.eval_seconds = header.eval_seconds;
  summary_.epochs_started = header.epoch;  // also when no step is left to train
  summary_.resumed_from_step = step_;
  checkpoints_total_ = header.checkpoints_written;
  last_checkpoint_step_ = step_;
}

bool TrainingLoop::CheckpointDue() const {
  if (!CheckpointsEnabled()) return false;
  const int64_t every = options_.checkpoint_every_steps > 0 ? options_.checkpoint_every_steps
                                                            : kDefaultCheckpointEverySteps;
  if (step_ % every == 0) return true;
  // A gang follows rank 0's clock, agreed on in the step's all-reduce.
  if (gang_) return checkpoint_time_due_;
  return options_.checkpoint_every_seconds > 0 &&
         SecondsSince(last_checkpoint_time_) >= options_.checkpoint_every_seconds;
}

void TrainingLoop::WriteCheckpoint(bool check_replicas) {
  const std::string previous_phase = phase_;
  if (gang_) {
    if (check_replicas) {
      phase_ = "comparing the ranks' parameters at step " + std::to_string(step_);
      distributed::CheckRanksAgree(*gang_, distributed::ParameterFingerprint(parameters_),
                                   "the parameters at step " + std::to_string(step_) +
                                       " (the ranks diverged)");
    }
    if (!IsLeader()) {
      last_checkpoint_step_ = step_;
      last_checkpoint_time_ = Clock::now();
      phase_ = previous_phase;
      return;
    }
  }
  phase_ = "writing the checkpoint at step " + std::to_string(step_);
  const Clock::time_point start = Clock::now();
  try {
    const std::string folder = store_.BeginWrite(step_);
    WriteCheckpointFiles(folder);
    const uint64_t bytes = store_.Commit(folder, step_);
    ++checkpoints_total_;
    ++summary_.checkpoints_written;
    last_checkpoint_step_ = step_;
    observer_.OnCheckpoint({step_, bytes, SecondsSince(start)});
  } catch (const c10::Error& error) {
    observer_.OnLog("warning", phase_ + " failed: " + compat::ErrorMessage(error));
  } catch (const std::exception& error) {
    observer_.OnLog("warning", phase_ + " failed: " + error.what());
  }
  // Also after a failure, so that a full disk is not retried at every step.
  last_checkpoint_time_ = Clock::now();
  phase_ = previous_phase;
}

void TrainingLoop::WriteCheckpointFiles(const std::string& folder) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive model_archive;
  if (lora_) {
    adapters::SaveTrainableTensors(*model_, model_archive);
  } else {
    model_->save(model_archive);
  }
  archive.write("model", model_archive);
  torch::serialize::OutputArchive optimizer_archive;
  optimizer_->save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);
  archive.write("cpu_rng_state", CpuRngState(), /*is_buffer=*/true);
  archive.write("interval_loss", interval_loss_.detach().clone(), /*is_buffer=*/true);
  if (scaler_) {
    archive.write("loss_scaler", scaler_->StateTensor(), /*is_buffer=*/true);
    archive.write("skipped_steps", torch::tensor(summary_.skipped_steps), /*is_buffer=*/true);
  }
  if (!best_weights_.empty()) {
    torch::serialize::OutputArchive best_archive;
    best_weights_.Save(best_archive);
    archive.write("best_model", best_archive);
  }
  io::DurableFileWriter state(folder + "/" + CheckpointStore::kStateFile);
  // LibTorch's zip writer must never see a write fail: the exception unwinds into its destructor,
  // which writes again, throws again and aborts the worker (a full disk killed it). So the first
  // error is kept, the rest of the archive dropped, and the error thrown once save_to returned.
  std::exception_ptr write_error;
  archive.save_to([&state, &write_error](const void* data, std::size_t size) {
    if (write_error) return size;
    try {
      state.Write(data, size);
    } catch (...) {
      write_error = std::current_exception();
    }
    return size;
  });
  if (write_error) std::rethrow_exception(write_error);
  state.Close();
  // The header counts the checkpoint it describes.
  CheckpointHeader header = MakeHeader();
  ++header.checkpoints_written;
  io::WriteFileDurably(folder + "/" + CheckpointStore::kHeaderFile, CheckpointHeaderJson(header));
}

CheckpointHeader TrainingLoop::MakeHeader() const {
  CheckpointHeader header;
  header.step = step_;
  header.epoch = epoch_;
  header.window_index = windows_done_;
  header.total_steps = summary_.total_steps;
  header.model = options_.model;
  header.micro_batch_size = options_.micro_batch_size;
  header.accumulation_steps = options_.accumulation_steps;
  header.seed = options_.seed;
  header.fingerprint = fingerprint_;
  header.samples_seen = meter_->samples_seen();
  header.tokens_seen = meter_->tokens_seen();
  header.train_seconds = meter_->total_step_seconds();
  header.eval_seconds = summary_.eval_seconds;
  header.interval_samples = interval_samples_;
  header.interval_tokens = interval_tokens_;
  header.interval_loss_terms = interval_loss_terms_;
  header.interval_step_seconds = interval_step_seconds_;
  header.last_validation_step = last_validation_step_;
  header.evaluations = summary_.outcome.final_evals;
  header.validation_tracking = tracker_.state();
  header.checkpoints_written = checkpoints_total_;
  header.threads = summary_.threads;
  header.cpu_replicas = summary_.cpu_replicas;
  header.device = summary_.device;
  header.libtorch_version = compat::LibTorchVersion();
  return header;
}

// The configuration the model is built from: model_dropout "off" clears config.json's rates.
models::ModelConfig WithModelDropout(const TrainOptions& options, models::ModelConfig config) {
  if (options.model_dropout == "off") {
    models::TransformerConfig& t = config.transformer;
    t.embedding_dropout = t.attention_output_dropout = t.mlp_output_dropout = 0;
    t.attention_dropout = t.classifier_dropout = 0;
  }
  return config;
}

}  // namespace

int64_t TotalSteps(const TrainOptions& options, std::size_t train_examples) {
  if (options.evaluate_only) return 0;
  const int64_t world = std::max(1, options.distributed.world_size);
  int64_t total = options.epochs * StepsPerEpoch(train_examples, options.micro_batch_size,
                                                 options.accumulation_steps * world);
  if (options.max_steps > 0) total = std::min(total, options.max_steps);
  return total;
}

TrainingSummary Train(const TrainOptions& options, const models::ModelConfig& config,
                      const JobData& data, TrainObserver& observer) {
  TrainingSummary summary;
  const models::ModelConfig trained = WithModelDropout(options, config);
  TrainingLoop loop(options, trained, data, observer, summary);
  try {
    loop.Run();
  } catch (const c10::Error& error) {
    throw std::runtime_error(loop.phase() + ": " + compat::ErrorMessage(error));
  } catch (const std::exception& error) {
    throw std::runtime_error(loop.phase() + ": " + error.what());
  }
  return summary;
}

}  // namespace ft::train
