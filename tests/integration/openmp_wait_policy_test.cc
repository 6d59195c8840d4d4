// ftworker started by hand (standalone) gets OpenMP's passive waiting as ftd's workers do: libgomp
// reads OMP_WAIT_POLICY when it loads, so ftworker re-executes itself with it set, and the
// variable must be in the environment the running image started with. A value the user set wins.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/ftd_process.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ft::testing {
namespace {

class OpenMpWaitPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string rows;
    for (int i = 0; i < 16; ++i) {
      rows += "{\"text\": \"review number " + std::to_string(i) + (i % 2 ? " good" : " bad") +
              "\", \"label\": \"" + (i % 2 ? "pos" : "neg") + "\"}\n";
    }
    const std::string train = dir_.Write("train.jsonl", rows);
    spec_ = dir_.Write("spec.json",
                       "{\"model\": \"scratch:bloom-tiny\", \"dataset\": {\"train\": \"" + train +
                           "\"}, \"micro_batch_size\": 4, \"accumulation_steps\": 1, \"epochs\": "
                           "1, \"max_steps\": 2}");
  }
  // A standalone job with the given environment prefix (`env ...` arguments).
  CommandResult Run(std::vector<std::string> env, const std::string& out) {
    env.insert(env.begin(), "env");
    for (const std::string& argument :
         {BinaryPath("ftworker"), std::string("--spec"), spec_, std::string("--out"),
          dir_.Path(out), std::string("--threads"), std::string("2")}) {
      env.push_back(argument);
    }
    return RunCommand(env);
  }

  TempDir dir_;
  std::string spec_;
};

TEST_F(OpenMpWaitPolicyTest, UnsetBecomesPassiveBeforeOpenMpLoads) {
  const CommandResult result = Run({"-u", "OMP_WAIT_POLICY"}, "unset");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("OMP_WAIT_POLICY=PASSIVE when LibTorch's OpenMP loaded"),
            std::string::npos)
      << result.output;
}

TEST_F(OpenMpWaitPolicyTest, AValueTheUserSetIsKept) {
  const CommandResult result = Run({"OMP_WAIT_POLICY=ACTIVE"}, "active");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("OMP_WAIT_POLICY=ACTIVE when LibTorch's OpenMP loaded"),
            std::string::npos)
      << result.output;
}

}  // namespace
}  // namespace ft::testing
