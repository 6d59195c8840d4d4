#include "worker/eval/evaluation.h"

#include <torch/utils.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "worker/data/micro_batch.h"
#include "worker/eval/class_metrics.h"
#include "worker/train/autocast_scope.h"
#include "worker/train/train_step.h"

namespace ft::train {
namespace {

// RAII: eval mode inside, train mode restored on every exit path.
class EvalModeScope {
 public:
  explicit EvalModeScope(models::SequenceClassifierImpl& model) : model_(model) {
    model_.eval();
  }
  ~EvalModeScope() { model_.train(); }

 private:
  models::SequenceClassifierImpl& model_;
};

}  // namespace

std::optional<EvalReport> Evaluate(models::SequenceClassifierImpl& model,
                                   const TokenizedSplit& split, const EvaluationOptions& options,
                                   const torch::Device& device, int64_t step,
                                   const std::function<bool()>& stop_requested) {
  std::size_t count = split.size();
  if (options.max_examples > 0) {
    count = std::min(count, static_cast<std::size_t>(options.max_examples));
  }
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&split](std::size_t a, std::size_t b) {
    return split.input_ids[a].size() < split.input_ids[b].size();
  });

  torch::NoGradGuard no_grad;
  EvalModeScope eval_mode(model);
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().device(device));
  std::vector<std::string> label_names = options.label_names;
  if (label_names.empty()) {
    for (int64_t c = 0; c < model.num_labels(); ++c) label_names.push_back(std::to_string(c));
  }
  const auto classes = static_cast<int64_t>(label_names.size());
  // Entry [true * classes + predicted], as in FillClassMetrics.
  torch::Tensor confusion =
      torch::zeros({classes * classes}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  const std::size_t batch_size = static_cast<std::size_t>(std::max<int64_t>(1, options.batch_size));
  for (std::size_t begin = 0; begin < count; begin += batch_size) {
    if (stop_requested && stop_requested()) return std::nullopt;
    const std::vector<std::size_t> indices(
        order.begin() + static_cast<std::ptrdiff_t>(begin),
        order.begin() + static_cast<std::ptrdiff_t>(std::min(count, begin + batch_size)));
    const MicroBatch batch = CollateMicroBatch(split, indices, device);
    torch::Tensor logits;
    {
      AutocastScope autocast(options.bf16_autocast, device);
      logits = model.forward(batch.input_ids, batch.attention_mask).to(torch::kFloat32);
    }
    loss_sum += SummedCrossEntropy(logits, batch.labels);  // no label smoothing
    confusion += torch::bincount(batch.labels * classes + logits.argmax(-1), /*weights=*/{},
                                 classes * classes);
  }

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
