// main() of every ft_add_test binary: GoogleTest's, plus exit code kSkipReturnCode when every test
// that ran passed and at least one skipped for a missing prerequisite (prerequisite.h).
#include <string>

#include "gtest/gtest.h"
#include "tests/support/prerequisite.h"

namespace ft::testing {

bool AnyPrerequisiteMissing() {
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    for (int j = 0; j < suite.total_test_count(); ++j) {
      const ::testing::TestResult& result = *suite.GetTestInfo(j)->result();
      if (!result.Skipped()) continue;
      for (int k = 0; k < result.total_part_count(); ++k) {
        const ::testing::TestPartResult& part = result.GetTestPartResult(k);
        if (part.skipped() &&
            std::string(part.message()).find(kPrerequisiteMissing) != std::string::npos) {
          return true;
        }
      }
    }
  }
  return false;
}

}  // namespace ft::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (RUN_ALL_TESTS() != 0) return 1;
  return ft::testing::AnyPrerequisiteMissing() ? ft::testing::kSkipReturnCode : 0;
}
