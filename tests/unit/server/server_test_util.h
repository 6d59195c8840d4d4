// Shared fixtures for the ftd unit tests: a temporary folder, a small valid dataset and spec,
// and helpers to read statuses and event logs.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"
#include "server/store/job_folders.h"
#include "tests/support/temp_dir.h"

namespace ft::testing {

inline std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The job folders ftd keeps under <home>/jobs, for a JobManager under test.
inline std::unique_ptr<store::JobFolders> JobFoldersIn(const std::string& home) {
  absl::StatusOr<std::unique_ptr<store::JobFolders>> folders = store::JobFolders::Create(home);
  EXPECT_TRUE(folders.ok()) << folders.status();
  return folders.ok() ? std::move(*folders) : nullptr;
}

// A small, valid `text,label` CSV.
inline std::string SmallCsv() {
  return "text,label\n"
         "a fine film,1\n"
         "a dull film,0\n"
         "\"great, really\",1\n"
         "boring,0\n"
         "loved it,1\n"
         "hated it,0\n";
}

// A spec that validates once `train` exists (a CSV with text,label columns).
inline ft::v1::JobSpec ValidSpec(const std::string& train) {
  ft::v1::JobSpec spec;
  spec.set_model("scratch:bloom-tiny");
  spec.mutable_dataset()->set_train(train);
  spec.set_micro_batch_size(4);
  spec.set_accumulation_steps(2);
  spec.set_epochs(1);
  return spec;
}

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns the last answer.
inline bool WaitFor(const std::function<bool()>& condition,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

inline ft::v1::JobEvent ProgressEvent(uint64_t step, double loss, uint64_t samples_seen,
                                      uint64_t tokens_seen = 0) {
  ft::v1::JobEvent event;
  auto* p = event.mutable_progress();
  p->set_step(step);
  p->set_total_steps(100);
  p->set_epoch(1);
  p->set_loss(loss);
  p->set_learning_rate(1e-3);
  p->set_samples_per_second(50);
  p->set_samples_seen(samples_seen);
  p->set_tokens_seen(tokens_seen);
  return event;
}

inline ft::v1::JobEvent EvaluationEvent(const std::string& split, uint64_t step, double loss,
                                        double accuracy) {
  ft::v1::JobEvent event;
  auto* e = event.mutable_evaluation();
  e->set_split(split);
  e->set_step(step);
  e->set_loss(loss);
  e->set_accuracy(accuracy);
  e->set_examples(10);
  return event;
}

inline ft::v1::JobEvent LogEvent(const std::string& message) {
  ft::v1::JobEvent event;
  event.mutable_log()->set_level("info");
  event.mutable_log()->set_message(message);
  return event;
}

inline ft::v1::JobEvent StateChangeEvent(ft::v1::JobState from, ft::v1::JobState to,
                                         const std::string& reason) {
  ft::v1::JobEvent event;
  event.mutable_state_change()->set_from(from);
  event.mutable_state_change()->set_to(to);
  event.mutable_state_change()->set_reason(reason);
  return event;
}

inline absl::Status AsStatus(const absl::Status& status) { return status; }
template <typename T>
absl::Status AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

template <typename S>
::testing::AssertionResult IsOk(const S& value) {
  const absl::Status status = AsStatus(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected OK, got " << status;
}

template <typename S>
::testing::AssertionResult HasCode(const S& value, absl::StatusCode code) {
  const absl::Status status = AsStatus(value);
  if (status.code() == code) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "expected " << absl::StatusCodeToString(code) << ", got " << status;
}

}  // namespace ft::testing

// Status checks (absl::Status or absl::StatusOr) that print the status on failure and accept
// a streamed message.
#define FT_ASSERT_OK(expr) ASSERT_TRUE(::ft::testing::IsOk(expr))
#define FT_EXPECT_OK(expr) EXPECT_TRUE(::ft::testing::IsOk(expr))
#define FT_EXPECT_CODE(expr, expected_code) \
  EXPECT_TRUE(::ft::testing::HasCode((expr), (expected_code)))
