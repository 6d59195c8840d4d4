// Follows the validation metric across evaluations: which evaluation was the best, and whether
// early stopping says to stop (the metric has not improved for `patience` consecutive
// evaluations). Its whole state is plain data, kept in checkpoints so that a resumed run stops
// where an uninterrupted one would. Standard library only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "worker/train/train_job.h"

namespace ft::train {

enum class StoppingMetric { kAccuracy, kLoss, kMacroF1 };

// "accuracy", "loss", "macro_f1"; nullopt for anything else.
std::optional<StoppingMetric> ParseStoppingMetric(const std::string& name);

// The metric's value in a report (loss, accuracy or macro_f1).
double MetricValue(StoppingMetric metric, const EvalReport& report);

struct ValidationTrackerState {
  int64_t best_step = -1;  // -1: no evaluation seen yet
  double best_value = 0;
  EvalReport best_report;        // the best evaluation (meaningful when best_step >= 0)
  int64_t bad_evaluations = 0;   // consecutive evaluations without improvement since the best
  int64_t stopped_at_step = -1;  // -1: not stopped; else the step whose evaluation stopped it
};

class ValidationTracker {
 public:
  // patience 0: never stops (still tracks the best, for keep_best_model).
  ValidationTracker(StoppingMetric metric, int64_t patience);

  // Records one validation evaluation. Returns true when it is a new best: the first one, or
  // strictly better than the best so far (higher accuracy or macro-F1, lower loss). Ties and
  // NaN are not improvements. Once stopped, later evaluations are only recorded as not better.
  // may_stop false (no training step is left anyway) counts a bad evaluation without stopping.
  bool Observe(const EvalReport& report, bool may_stop = true);

  bool stopped() const { return state_.stopped_at_step >= 0; }
  // "validation accuracy has not improved for 2 evaluations (best 0.9312 at step 40)".
  std::string StopReason() const;

  StoppingMetric metric() const { return metric_; }
  int64_t patience() const { return patience_; }
  const ValidationTrackerState& state() const { return state_; }
  void Restore(const ValidationTrackerState& state) { state_ = state; }

 private:
  StoppingMetric metric_;
  int64_t patience_;
  ValidationTrackerState state_;
};

}  // namespace ft::train
