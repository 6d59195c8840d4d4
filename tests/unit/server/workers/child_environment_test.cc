#include "server/workers/child_environment.h"

#include <gtest/gtest.h>

namespace ft::workers {
namespace {

using Entries = std::vector<std::string>;

TEST(ChildEnvironmentTest, InheritsAllButTheOverriddenNamesThenAddsTheOverrides) {
  const char* inherited[] = {"PATH=/bin", "FT_WORKER_TOKEN=old", "HOME=/root", "EMPTY=", nullptr};
  EXPECT_EQ(
      ChildEnvironment(inherited, {{"FT_WORKER_TOKEN", "new"}, {"OMP_WAIT_POLICY", "PASSIVE"}}),
      (Entries{"PATH=/bin", "HOME=/root", "EMPTY=", "FT_WORKER_TOKEN=new",
               "OMP_WAIT_POLICY=PASSIVE"}));
}

TEST(ChildEnvironmentTest, NamesMatchWhole) {
  const char* inherited[] = {"FT_WORKER_TOKEN_FILE=/x", "FT_WORKER=1", nullptr};
  EXPECT_EQ(ChildEnvironment(inherited, {{"FT_WORKER_TOKEN", "s"}}),
            (Entries{"FT_WORKER_TOKEN_FILE=/x", "FT_WORKER=1", "FT_WORKER_TOKEN=s"}));
}

TEST(ChildEnvironmentTest, NoInheritedEnvironment) {
  EXPECT_EQ(ChildEnvironment(nullptr, {{"A", "1"}}), (Entries{"A=1"}));
  const char* empty[] = {nullptr};
  EXPECT_EQ(ChildEnvironment(empty, {}), Entries{});
}

}  // namespace
}  // namespace ft::workers
