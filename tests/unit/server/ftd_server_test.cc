// FtdServer assembled in-process with a shell script standing in for ftworker: what ftd gives
// its local workers through their exec environment, and what it leaves in its own.
#include "server/ftd_server.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "tests/unit/server/server_test_util.h"

namespace ft {
namespace {

std::set<std::string> OwnEnvironment() {
  std::set<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) entries.insert(*entry);
  return entries;
}

TEST(FtdServerTest, LocalWorkersGetTheSecretInTheirEnvironmentAndFtdKeepsItsOwn) {
  ft::testing::TempDir dir;
  const std::string env_file = dir.Path("worker.env");
  const std::string script =
      dir.Write("ftworker.sh", "#!/bin/sh\nenv > " + env_file + ".part\nmv " + env_file + ".part " +
                                   env_file + "\nexec sleep 30\n");
  chmod(script.c_str(), 0755);
  const std::set<std::string> before = OwnEnvironment();

  FtdOptions options;
  options.listen = "127.0.0.1:0";
  options.metrics_listen = "127.0.0.1:0";
  options.home = dir.Path("home");
  options.worker_binary = script;
  options.local_workers = 1;
  options.insecure_no_auth = true;
  absl::StatusOr<std::unique_ptr<FtdServer>> ftd = FtdServer::Create(options);
  ASSERT_TRUE(ftd.ok()) << ftd.status();
  ASSERT_TRUE(
      ft::testing::WaitFor([&] { return !ft::testing::ReadFileOrEmpty(env_file).empty(); }));
  (*ftd)->Shutdown();

  EXPECT_EQ(OwnEnvironment(), before) << "ftd's own environment changed";
  std::set<std::string> child;
  for (absl::string_view line :
       absl::StrSplit(ft::testing::ReadFileOrEmpty(env_file), '\n', absl::SkipEmpty())) {
    child.insert(std::string(line));
  }
  std::string secret;
  for (const std::string& entry : child) {
    if (absl::StartsWith(entry, "FT_WORKER_TOKEN=")) secret = entry.substr(16);
  }
  EXPECT_GE(secret.size(), 32u) << "the worker got no secret";
  for (const std::string& entry : before) {
    // The shell itself may update these.
    if (absl::StartsWith(entry, "PWD=") || absl::StartsWith(entry, "SHLVL=") ||
        absl::StartsWith(entry, "_=")) {
      continue;
    }
    if (absl::StartsWith(entry, "FT_WORKER_TOKEN=")) continue;
    EXPECT_EQ(child.count(entry), 1u) << "not inherited: " << entry;
  }
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    EXPECT_EQ(child.count("OMP_WAIT_POLICY=PASSIVE"), 1u);
  }
}

}  // namespace
}  // namespace ft
