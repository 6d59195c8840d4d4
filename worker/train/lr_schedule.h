// Learning rate per optimizer step: linear warmup over warmup_steps, then "linear" (decay to 0 at
// the last step), "cosine" (half a cosine period from the peak down to 0) or "constant".
// LibTorch 1.13 ships only StepLR, so the schedule is our own; it is a pure function of the step,
// which makes a resumed run use the same rates as an uninterrupted one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ft::train {

enum class ScheduleKind { kLinear, kCosine, kConstant };

// "linear", "cosine", "constant"; nullopt for anything else.
std::optional<ScheduleKind> ParseScheduleKind(const std::string& name);

class LearningRateSchedule {
 public:
  LearningRateSchedule(ScheduleKind kind, double peak_learning_rate, int64_t warmup_steps,
                       int64_t total_steps);

  // The rate for the optimizer step that follows `completed_steps` steps (0-based). During warmup
  // step s uses peak * (s + 1) / warmup, so no step is wasted at rate 0. After it, with
  // progress = (s - warmup) / (total - warmup), which is 0 at the first step after warmup:
  //   linear:   peak * (1 - progress)
  //   cosine:   peak * (1 + cos(pi * progress)) / 2
  //   constant: peak
  // Both decays reach 0 at s = total (never trained), so the last step still learns a little.
  double LearningRate(int64_t completed_steps) const;

 private:
  ScheduleKind kind_;
  double peak_;
  int64_t warmup_steps_;
  int64_t total_steps_;
};

}  // namespace ft::train
