#include "worker/eval/evaluation.h"

#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "worker/data/micro_batch.h"
#include "worker/distributed/rank_share.h"
#include "worker/eval/eval_mode_scope.h"
#include "worker/eval/class_metrics.h"
#include "worker/train/autocast_scope.h"
#include "worker/train/train_step.h"

namespace ft::train {
namespace {

// Runs the model (no gradients, eval mode) over examples 0..count-1 of `split` in batches,
// shortest first so that dynamic padding wastes little, and hands each batch and its logits to
// `visit`. False when stop_requested (polled between batches) said yes.
bool ForEachBatch(models::TrainableModelImpl& model, const TokenizedSplit& split,
                  const EvaluationOptions& options, const torch::Device& device,
                  std::size_t count, const std::function<bool()>& stop_requested,
                  const std::function<void(const MicroBatch&, const torch::Tensor&)>& visit) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&split](std::size_t a, std::size_t b) {
    return split.input_ids[a].size() < split.input_ids[b].size();
  });
  torch::NoGradGuard no_grad;
  EvalModeScope eval_mode(model);
  const std::size_t batch_size = static_cast<std::size_t>(std::max<int64_t>(1, options.batch_size));
  for (std::size_t begin = 0; begin < count; begin += batch_size) {
    if (stop_requested && stop_requested()) return false;
    if (!distributed::IsRanksShare(begin / batch_size, options.shard_rank, options.shard_count)) {
      continue;
    }
    const std::vector<std::size_t> indices(
        order.begin() + static_cast<std::ptrdiff_t>(begin),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(count, begin + batch_size)));
    const MicroBatch batch = CollateMicroBatch(split, indices, device);
    torch::Tensor logits;
    {
      AutocastScope autocast(options.bf16_autocast, device);
      logits = model.forward(batch.input_ids, batch.attention_mask);
    }
    visit(batch, logits);
  }
  return true;
}

// Data parallel: each rank's partial sums become the gang's.
void SumAcrossRanks(const EvaluationOptions& options, std::vector<torch::Tensor> sums) {
  if (options.shard_count > 1) options.sum_across_ranks(sums);
}

std::optional<EvalReport> EvaluateCausalLm(models::TrainableModelImpl& model,
                                           const TokenizedSplit& split,
                                           const EvaluationOptions& options,
                                           const torch::Device& device, int64_t step,
                                           std::size_t count,
                                           const std::function<bool()>& stop_requested) {
  const auto on_device = torch::TensorOptions().device(device);
  torch::Tensor loss_sum = torch::zeros({}, on_device);
  torch::Tensor correct = torch::zeros({}, on_device.dtype(torch::kInt64));
  torch::Tensor targets_sum = torch::zeros({}, on_device.dtype(torch::kInt64));
  const bool finished = ForEachBatch(
      model, split, options, device, count, stop_requested,
      [&](const MicroBatch& batch, const torch::Tensor& logits) {
        loss_sum += SummedTokenCrossEntropy(logits, batch.labels);
        const int64_t next = logits.size(1) - 1;
        const torch::Tensor labels = batch.labels.narrow(1, 1, next);
        const torch::Tensor predicted = logits.narrow(1, 0, next).argmax(-1);
        correct += (predicted.eq(labels) & labels.ne(kIgnoredLabel)).sum();
        targets_sum += batch.targets;
      });
  if (!finished) return std::nullopt;
  SumAcrossRanks(options, {loss_sum, correct, targets_sum});
  const int64_t targets = targets_sum.item<int64_t>();
  EvalReport report;
  report.split = split.name;
  report.step = step;
  report.examples = static_cast<int64_t>(count);
  report.target_tokens = targets;
  if (targets > 0) {
    report.loss = loss_sum.item<double>() / static_cast<double>(targets);
    report.accuracy = static_cast<double>(correct.item<int64_t>()) / static_cast<double>(targets);
    report.perplexity = std::exp(report.loss);
  }
  return report;
}

}  // namespace

std::optional<EvalReport> Evaluate(models::TrainableModelImpl& model,
                                   const TokenizedSplit& split, const EvaluationOptions& options,
                                   const torch::Device& device, int64_t step,
                                   const std::function<bool()>& stop_requested) {
  std::size_t count = split.size();
  if (options.max_examples > 0) {
    count = std::min(count, static_cast<std::size_t>(options.max_examples));
  }
  if (split.causal_lm()) {
    return EvaluateCausalLm(model, split, options, device, step, count, stop_requested);
  }
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
  std::vector<std::string> label_names = options.label_names;
  if (label_names.empty()) {
    for (int64_t c = 0; c < model.num_labels(); ++c) label_names.push_back(std::to_string(c));
  }
  const auto classes = static_cast<int64_t>(label_names.size());
  // Entry [true * classes + predicted], as in FillClassMetrics.
  torch::Tensor confusion =
      torch::zeros({classes * classes}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  const bool finished = ForEachBatch(
      model, split, options, device, count, stop_requested,
      [&](const MicroBatch& batch, const torch::Tensor& logits) {
        loss_sum += SummedCrossEntropy(logits, batch.labels);  // no label smoothing
        confusion += torch::bincount(batch.labels * classes + logits.argmax(-1), /*weights=*/{},
                                     classes * classes);
      });
  if (!finished) return std::nullopt;
  SumAcrossRanks(options, {loss_sum, confusion});

  EvalReport report;
  report.split = split.name;
  report.step = step;
  report.examples = static_cast<int64_t>(count);
  const torch::Tensor host_confusion = confusion.to(torch::kCPU).contiguous();
  const int64_t* counts = host_confusion.data_ptr<int64_t>();
  FillClassMetrics(std::vector<int64_t>(counts, counts + host_confusion.numel()), label_names,
                   report);
  if (count > 0) report.loss = loss_sum.item<double>() / static_cast<double>(count);
  return report;
}

}  // namespace ft::train
