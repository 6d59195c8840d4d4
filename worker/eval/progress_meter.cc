#include "worker/eval/progress_meter.h"

#include <numeric>

namespace ft::train {

void ProgressMeter::RecordStep(double seconds, int64_t examples, int64_t tokens) {
  step_durations_.push_back(seconds);
  interval_samples_ += examples;
  interval_tokens_ += tokens;
  samples_seen_ += examples;
  tokens_seen_ += tokens;
  total_step_seconds_ += seconds;
}

ProgressReport ProgressMeter::TakeReport(int64_t step, int64_t epoch, double loss_sum,
                                         double learning_rate, double grad_norm,
                                         int64_t loss_terms) {
  ProgressReport report;
  report.step = step;
  report.total_steps = total_steps_;
  report.epoch = epoch;
  report.learning_rate = learning_rate;
  report.grad_norm = grad_norm;
  report.samples_seen = samples_seen_;
  report.tokens_seen = tokens_seen_;
  const int64_t terms = loss_terms >= 0 ? loss_terms : interval_samples_;
  report.loss = terms > 0 ? loss_sum / static_cast<double>(terms) : 0.0;
  const double seconds = std::accumulate(step_durations_.begin(), step_durations_.end(), 0.0);
  if (seconds > 0) {
    report.samples_per_second = static_cast<double>(interval_samples_) / seconds;
    report.tokens_per_second = static_cast<double>(interval_tokens_) / seconds;
  }
  if (!step_durations_.empty()) {
    report.step_seconds = seconds / static_cast<double>(step_durations_.size());
  }
  report.eta_seconds = report.step_seconds * static_cast<double>(total_steps_ - step);
  report.step_durations = std::move(step_durations_);

  step_durations_.clear();
  interval_samples_ = 0;
  interval_tokens_ = 0;
  return report;
}

}  // namespace ft::train
