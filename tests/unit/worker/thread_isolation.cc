// Linked into the LibTorch test binaries whose tests compute in-process after others ran whole
// jobs: every test starts with the thread counts the process started with (ComputeThreads), so a
// RunTrainingJob with threads = 1 in one test (which also sets OpenBLAS's pool) does not change the
// float32 rounding, and the verdict, of a later one.
#include <gtest/gtest.h>

#include "tests/unit/worker/torch_test_util.h"

namespace ft::testing {
namespace {

class RestoreComputeThreads : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& /*test*/) override { initial_.Apply(); }

 private:
  const ComputeThreads initial_ = ComputeThreads::Current();
};

const bool kRegistered = [] {
  ::testing::UnitTest::GetInstance()->listeners().Append(new RestoreComputeThreads);
  return true;
}();

}  // namespace
}  // namespace ft::testing
