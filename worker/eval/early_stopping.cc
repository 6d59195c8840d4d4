#include "worker/eval/early_stopping.h"

#include <cmath>
#include <cstdio>

namespace ft::train {

std::optional<StoppingMetric> ParseStoppingMetric(const std::string& name) {
  if (name == "accuracy") return StoppingMetric::kAccuracy;
  if (name == "loss") return StoppingMetric::kLoss;
  if (name == "macro_f1") return StoppingMetric::kMacroF1;
  return std::nullopt;
}

double MetricValue(StoppingMetric metric, const EvalReport& report) {
  switch (metric) {
    case StoppingMetric::kLoss:
      return report.loss;
    case StoppingMetric::kMacroF1:
      return report.macro_f1;
    case StoppingMetric::kAccuracy:
      break;
  }
  return report.accuracy;
}

namespace {

const char* MetricName(StoppingMetric metric) {
  switch (metric) {
    case StoppingMetric::kLoss:
      return "loss";
    case StoppingMetric::kMacroF1:
      return "macro-F1";
    case StoppingMetric::kAccuracy:
      break;
  }
  return "accuracy";
}

}  // namespace

ValidationTracker::ValidationTracker(StoppingMetric metric, int64_t patience)
    : metric_(metric), patience_(patience) {}

bool ValidationTracker::Observe(const EvalReport& report, bool may_stop) {
  const double value = MetricValue(metric_, report);
  const bool better =
      !stopped() && !std::isnan(value) &&
      (state_.best_step < 0 ||
       (metric_ == StoppingMetric::kLoss ? value < state_.best_value : value > state_.best_value));
  if (better) {
    state_.best_step = report.step;
    state_.best_value = value;
    state_.best_report = report;
    state_.bad_evaluations = 0;
    return true;
  }
  if (stopped()) return false;
  ++state_.bad_evaluations;
  if (may_stop && patience_ > 0 && state_.bad_evaluations >= patience_) {
    state_.stopped_at_step = report.step;
  }
  return false;
}

std::string ValidationTracker::StopReason() const {
  char text[200];
  std::snprintf(text, sizeof(text),
                "validation %s has not improved for %lld evaluation%s (best %.4f at step %lld)",
                MetricName(metric_), static_cast<long long>(state_.bad_evaluations),
                state_.bad_evaluations == 1 ? "" : "s", state_.best_value,
                static_cast<long long>(state_.best_step));
  return text;
}

}  // namespace ft::train
