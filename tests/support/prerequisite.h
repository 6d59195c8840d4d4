// Test support: a test whose prerequisite (a tool such as tmux or python3, a Python module,
// ../shared/data) is missing skips with
//
//   if (!HasTmux()) FT_SKIP_PREREQUISITE_MISSING() << "no tmux";
//
// and the binary's main (prerequisite_main.cc, linked by ft_add_test) then exits with
// kSkipReturnCode, which CTest reports as skipped (SKIP_RETURN_CODE) instead of passed. A failed
// test still exits 1: a skip never hides a failure. A plain GTEST_SKIP (a test that only a script
// runs) leaves the exit code alone.
#pragma once

#include "gtest/gtest.h"

namespace ft::testing {

// automake's "skipped" code; the Python tests registered with CTest exit with it too.
inline constexpr int kSkipReturnCode = 77;
inline constexpr char kPrerequisiteMissing[] = "FT_PREREQUISITE_MISSING";

// Whether a test of this run skipped with FT_SKIP_PREREQUISITE_MISSING.
bool AnyPrerequisiteMissing();

}  // namespace ft::testing

#define FT_SKIP_PREREQUISITE_MISSING() GTEST_SKIP() << ::ft::testing::kPrerequisiteMissing << ": "
