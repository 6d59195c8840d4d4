#include "worker/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace ft::train {

std::optional<ScheduleKind> ParseScheduleKind(const std::string& name) {
  if (name == "linear") return ScheduleKind::kLinear;
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "constant") return ScheduleKind::kConstant;
  return std::nullopt;
}

LearningRateSchedule::LearningRateSchedule(ScheduleKind kind, double peak_learning_rate,
                                           int64_t warmup_steps, int64_t total_steps)
    : kind_(kind),
      peak_(peak_learning_rate),
      warmup_steps_(std::max<int64_t>(0, warmup_steps)),
      total_steps_(total_steps) {}

double LearningRateSchedule::LearningRate(int64_t completed_steps) const {
  if (completed_steps < warmup_steps_) {
    return peak_ * static_cast<double>(completed_steps + 1) / static_cast<double>(warmup_steps_);
  }
  if (kind_ == ScheduleKind::kConstant) return peak_;
  const int64_t decay_steps = std::max<int64_t>(1, total_steps_ - warmup_steps_);
  const int64_t remaining = std::clamp<int64_t>(total_steps_ - completed_steps, 0, decay_steps);
  if (kind_ == ScheduleKind::kLinear) {
    return peak_ * static_cast<double>(remaining) / static_cast<double>(decay_steps);
  }
  const double progress = 1.0 - static_cast<double>(remaining) / static_cast<double>(decay_steps);
  return peak_ * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace ft::train
