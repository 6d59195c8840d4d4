// Test helpers: job events as the worker reports them, for the chart and plot tests.
#pragma once

#include <string>

#include "ft/v1/event.pb.h"

namespace ft::client::test {

inline ft::v1::JobEvent ProgressAt(const std::string& job, uint64_t seq, uint64_t step, double loss,
                                   uint64_t samples_seen, uint32_t attempt = 1) {
  ft::v1::JobEvent event;
  event.set_job_id(job);
  event.set_seq(seq);
  event.set_attempt(attempt);
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_loss(loss);
  event.mutable_progress()->set_samples_seen(samples_seen);
  return event;
}

inline ft::v1::JobEvent EvaluationAt(const std::string& job, uint64_t seq, const std::string& split,
                                     uint64_t step, double accuracy) {
  ft::v1::JobEvent event;
  event.set_job_id(job);
  event.set_seq(seq);
  event.mutable_evaluation()->set_split(split);
  event.mutable_evaluation()->set_step(step);
  event.mutable_evaluation()->set_accuracy(accuracy);
  event.mutable_evaluation()->set_examples(100);
  return event;
}

inline ft::v1::JobEvent StateTo(const std::string& job, uint64_t seq, ft::v1::JobState from,
                                ft::v1::JobState to) {
  ft::v1::JobEvent event;
  event.set_job_id(job);
  event.set_seq(seq);
  event.mutable_state_change()->set_from(from);
  event.mutable_state_change()->set_to(to);
  return event;
}

}  // namespace ft::client::test
