#include "train/trainer.h"

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "models/bloom_model.h"
#include "train/evaluation.h"
#include "train/example_sampler.h"
#include "train/lr_schedule.h"
#include "train/micro_batch.h"
#include "train/model_export.h"
#include "train/progress_meter.h"
#include "train/torch_compat.h"
#include "train/train_step.h"

namespace ft::train {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Biases and LayerNorm parameters get no weight decay, as in Hugging Face's Trainer.
bool ExemptFromWeightDecay(const std::string& name) {
  return name.find("layernorm") != std::string::npos || name.find("ln_f") != std::string::npos ||
         (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0);
}

std::unique_ptr<torch::optim::Optimizer> MakeOptimizer(
    const TrainOptions& options, models::BloomForSequenceClassification& model) {
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(model->parameters(),
                                               torch::optim::SGDOptions(options.learning_rate));
  }
  std::vector<torch::Tensor> decayed;
  std::vector<torch::Tensor> exempt;
  for (const auto& item : model->named_parameters()) {
    (ExemptFromWeightDecay(item.key()) ? exempt : decayed).push_back(item.value());
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
  return std::make_unique<torch::optim::AdamW>(std::move(groups),
                                               adamw_options(options.weight_decay));
}

torch::Device ChooseDevice() {
  return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
}

// Everything the loop mutates, so that the helpers below stay small.
class TrainingLoop {
 public:
  TrainingLoop(const TrainOptions& options, const models::BloomConfig& config, const JobData& data,
               TrainObserver& observer, TrainingSummary& summary)
      : options_(options), config_(config), data_(data), observer_(observer), summary_(summary) {}

  void Run();

  const std::string& phase() const { return phase_; }

 private:
  bool StopRequested() { return observer_.StopRequested(); }
  // Returns false when cancelled.
  bool TrainOneStep(const Window& window, int64_t epoch);
  bool EvaluateSplit(const TokenizedSplit& split);
  void Cancel() { summary_.outcome.status = TrainOutcome::Status::kCancelled; }

  const TrainOptions& options_;
  const models::BloomConfig& config_;
  const JobData& data_;
  TrainObserver& observer_;
  TrainingSummary& summary_;

  std::string phase_ = "setting up";
  torch::Device device_ = torch::kCPU;
  models::BloomForSequenceClassification model_{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::vector<torch::Tensor> parameters_;
  std::unique_ptr<LinearSchedule> schedule_;
  std::unique_ptr<ProgressMeter> meter_;
  torch::Tensor interval_loss_;  // summed per-example loss since the last report, on the device
  int64_t step_ = 0;
  int64_t last_validation_step_ = -1;
};

void TrainingLoop::Run() {
  summary_.threads = options_.threads > 0
                         ? options_.threads
                         : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(summary_.threads);
  device_ = ChooseDevice();
  summary_.device = device_.str();
  summary_.total_steps = TotalSteps(options_, data_.train.size());

  phase_ = "building the model";
  torch::manual_seed(options_.seed);
  model_ = models::BloomForSequenceClassification(config_,
                                                  static_cast<int64_t>(data_.label_names.size()));
  model_->to(device_);
  model_->train();
  parameters_ = model_->parameters();
  optimizer_ = MakeOptimizer(options_, model_);
  schedule_ = std::make_unique<LinearSchedule>(options_.learning_rate, options_.warmup_steps,
                                               summary_.total_steps);
  meter_ = std::make_unique<ProgressMeter>(summary_.total_steps);
  interval_loss_ = torch::zeros({}, torch::TensorOptions().device(device_));

  for (int64_t epoch = 1; epoch <= options_.epochs && step_ < summary_.total_steps; ++epoch) {
    summary_.epochs_started = epoch;
    const std::vector<Window> windows =
        PlanWindows(EpochOrder(data_.train.size(), options_.seed, epoch), options_.micro_batch_size,
                    options_.accumulation_steps);
    for (const Window& window : windows) {
      if (step_ >= summary_.total_steps) break;
      if (!TrainOneStep(window, epoch)) return Cancel();
      if (options_.eval_every_steps > 0 && step_ % options_.eval_every_steps == 0 &&
          !EvaluateSplit(data_.validation)) {
        return Cancel();
      }
    }
    if (options_.eval_every_steps == 0 && !EvaluateSplit(data_.validation)) return Cancel();
  }
  // The final numbers: validation after the last step (unless just done), then test.
  if (!EvaluateSplit(data_.validation) || !EvaluateSplit(data_.test)) return Cancel();

  phase_ = "writing the model to " + options_.output_dir;
  WriteModelFolder(model_, data_.label_names, options_.max_seq_length, options_.output_dir);
  summary_.outcome.status = TrainOutcome::Status::kSucceeded;
  summary_.outcome.steps = step_;
}

bool TrainingLoop::TrainOneStep(const Window& window, int64_t epoch) {
  phase_ = "training step " + std::to_string(step_ + 1) + " of " +
           std::to_string(summary_.total_steps) + " (epoch " + std::to_string(epoch) + ")";
  const Clock::time_point start = Clock::now();
  const double learning_rate = schedule_->LearningRate(step_);
  compat::SetLearningRate(*optimizer_, learning_rate);
  optimizer_->zero_grad();

  std::vector<MicroBatch> micro_batches;
  int64_t tokens = 0;
  for (const auto& indices : window.micro_batches) {
    micro_batches.push_back(CollateMicroBatch(data_.train, indices, device_));
    tokens += micro_batches.back().tokens;
  }
  const WindowResult result =
      AccumulateWindow(model_, micro_batches, static_cast<int64_t>(window.size()),
                       [this] { return StopRequested(); });
  if (result.stopped) return false;

  const torch::Tensor grad_norm = GlobalGradNorm(parameters_);
  if (options_.max_grad_norm > 0) ClipGradients(parameters_, options_.max_grad_norm, grad_norm);
  optimizer_->step();
  compat::SynchronizeDevice(device_);  // so that step times mean something on a GPU
  ++step_;
  interval_loss_ += result.loss_sum;
  meter_->RecordStep(SecondsSince(start), static_cast<int64_t>(window.size()), tokens);
  summary_.samples_seen = meter_->samples_seen();
  summary_.tokens_seen = meter_->tokens_seen();
  summary_.train_seconds = meter_->total_step_seconds();
  summary_.outcome.steps = step_;

  if (step_ % options_.log_every_steps == 0 || step_ == summary_.total_steps) {
    // The only host reads of the loop: once per report.
    observer_.OnProgress(meter_->TakeReport(step_, epoch, interval_loss_.item<double>(),
                                            learning_rate, grad_norm.item<double>()));
    interval_loss_.zero_();
  }
  return true;
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
  const std::optional<EvalReport> report =
      Evaluate(model_, split, eval_options, device_, step_, [this] { return StopRequested(); });
  summary_.eval_seconds += SecondsSince(start);
  if (!report) return false;
  if (is_validation) last_validation_step_ = step_;

  std::vector<EvalReport>& finals = summary_.outcome.final_evals;
  finals.erase(std::remove_if(finals.begin(), finals.end(),
                              [&](const EvalReport& old) { return old.split == report->split; }),
               finals.end());
  finals.push_back(*report);
  observer_.OnEvaluation(*report);
  return true;
}

}  // namespace

int64_t TotalSteps(const TrainOptions& options, std::size_t train_examples) {
  int64_t total = options.epochs * StepsPerEpoch(train_examples, options.micro_batch_size,
                                                 options.accumulation_steps);
  if (options.max_steps > 0) total = std::min(total, options.max_steps);
  return total;
}

TrainingSummary Train(const TrainOptions& options, const models::BloomConfig& config,
                      const JobData& data, TrainObserver& observer) {
  TrainingSummary summary;
  TrainingLoop loop(options, config, data, observer, summary);
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
