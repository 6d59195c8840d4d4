// Learning rate per optimizer step: linear warmup, then linear decay to 0 at the last step.
// Without warmup the rate stays constant.
#pragma once

#include <cstdint>

namespace ft::train {

class LinearSchedule {
 public:
  LinearSchedule(double peak_learning_rate, int64_t warmup_steps, int64_t total_steps);

  // The rate for the optimizer step that follows `completed_steps` steps (0-based). During warmup
  // step s uses peak * (s + 1) / warmup, so no step is wasted at rate 0; after it the rate falls
  // linearly from peak to 0 at total_steps.
  double LearningRate(int64_t completed_steps) const;

 private:
  double peak_;
  int64_t warmup_steps_;
  int64_t total_steps_;
};

}  // namespace ft::train
