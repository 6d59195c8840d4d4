#include "train/lr_schedule.h"

#include <algorithm>

namespace ft::train {

LinearSchedule::LinearSchedule(double peak_learning_rate, int64_t warmup_steps, int64_t total_steps)
    : peak_(peak_learning_rate), warmup_steps_(warmup_steps), total_steps_(total_steps) {}

double LinearSchedule::LearningRate(int64_t completed_steps) const {
  if (warmup_steps_ <= 0) return peak_;
  if (completed_steps < warmup_steps_) {
    return peak_ * static_cast<double>(completed_steps + 1) / static_cast<double>(warmup_steps_);
  }
  const int64_t decay_steps = std::max<int64_t>(1, total_steps_ - warmup_steps_);
  const int64_t remaining = std::max<int64_t>(0, total_steps_ - completed_steps);
  return peak_ * static_cast<double>(remaining) / static_cast<double>(decay_steps);
}

}  // namespace ft::train
