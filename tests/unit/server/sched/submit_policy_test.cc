// Data roots, dataset size and sequence length limits (sched/submit_policy.h), and the watcher
// bound (api/watcher_limits.h), on real files, folders and symlinks.
#include "server/sched/submit_policy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server/api/watcher_limits.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::sched {
namespace {

using ft::testing::TempDir;
namespace fs = std::filesystem;

class SubmitPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.MakeFolder("root");
    csv_ = dir_.Write("root/train.csv", ft::testing::SmallCsv());
    outside_ = dir_.Write("outside/secret.csv", "text,label\nsecret,1\n");
    auto roots = ResolveDataRoots({root_});
    FT_ASSERT_OK(roots);
    limits_.data_roots = *roots;
  }
  absl::Status Apply(const std::string& train, ft::v1::JobSpec* out = nullptr) {
    ft::v1::JobSpec spec = ft::testing::ValidSpec(train);
    absl::Status status = ApplySubmitLimits(limits_, spec);
    if (out != nullptr) *out = spec;
    return status;
  }

  TempDir dir_;
  std::string root_, csv_, outside_;
  SubmitLimits limits_;
};

TEST_F(SubmitPolicyTest, PathsOutsideTheRootsAreRefusedNamingTheField) {
  fs::create_symlink(outside_, root_ + "/link.csv");
  fs::create_symlink(dir_.path() / "outside", root_ + "/linkdir");
  struct Case {
    std::string path;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {csv_, absl::StatusCode::kOk},
      {root_ + "/../outside/secret.csv", absl::StatusCode::kPermissionDenied},
      {root_ + "/../root/train.csv", absl::StatusCode::kOk},  // `..` that stays inside
      {root_ + "/link.csv", absl::StatusCode::kPermissionDenied},
      {root_ + "/linkdir/secret.csv", absl::StatusCode::kPermissionDenied},
      {outside_, absl::StatusCode::kPermissionDenied},
      {"/etc/passwd", absl::StatusCode::kPermissionDenied},
      {"/etc/does-not-exist", absl::StatusCode::kPermissionDenied},  // existence not told
      {root_ + "/missing.csv", absl::StatusCode::kNotFound},
      {root_ + "x/train.csv", absl::StatusCode::kPermissionDenied},  // a sibling, not a child
  };
  for (const Case& c : cases) {
    const absl::Status status = Apply(c.path);
    EXPECT_EQ(status.code(), c.code) << c.path << ": " << status;
    if (!status.ok()) {
      EXPECT_NE(status.message().find("spec.dataset.train"), std::string::npos) << status;
      EXPECT_EQ(status.message().find("secret,1"), std::string::npos) << status;
    }
  }
  ft::v1::JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.mutable_dataset()->set_test(outside_);
  const absl::Status test_field = ApplySubmitLimits(limits_, spec);
  EXPECT_EQ(test_field.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(test_field.message().find("spec.dataset.test"), std::string::npos) << test_field;
  spec = ft::testing::ValidSpec(csv_);
  spec.set_model((dir_.path() / "outside").string());
  const absl::Status model = ApplySubmitLimits(limits_, spec);
  EXPECT_EQ(model.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(model.message().find("spec.model"), std::string::npos) << model;
  // spec.tokenizer is read like a model folder, from the same roots.
  spec = ft::testing::ValidSpec(csv_);
  spec.set_tokenizer((dir_.path() / "outside").string());
  const absl::Status tokenizer = ApplySubmitLimits(limits_, spec);
  EXPECT_EQ(tokenizer.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(tokenizer.message().find("spec.tokenizer"), std::string::npos) << tokenizer;
  spec.set_tokenizer(root_ + "/missing");
  EXPECT_EQ(ApplySubmitLimits(limits_, spec).code(), absl::StatusCode::kNotFound);
  fs::create_symlink(root_, root_ + "/words");
  spec.set_tokenizer(root_ + "/words");
  FT_EXPECT_OK(ApplySubmitLimits(limits_, spec));
  EXPECT_EQ(spec.tokenizer(), fs::canonical(root_).string());  // resolved, as spec.model
}

// Hub ids and named datasets are fetched by the worker into its caches, not read from the roots.
TEST_F(SubmitPolicyTest, HubIdsAndNamedDatasetsAreNotPaths) {
  ft::v1::JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_model("bigscience/bloom-560m");
  FT_EXPECT_OK(ApplySubmitLimits(limits_, spec));
  EXPECT_EQ(spec.model(), "bigscience/bloom-560m");
  spec.mutable_dataset()->clear_train();
  spec.mutable_dataset()->set_name("imdb");
  FT_EXPECT_OK(ApplySubmitLimits(limits_, spec));
  // A relative path is not a Hub id once made absolute: "../x" style ids do not parse.
  spec.set_model("../outside");
  EXPECT_FALSE(ApplySubmitLimits(limits_, spec).ok());
}

TEST_F(SubmitPolicyTest, ResolvedPathsReplaceTheGivenOnes) {
  fs::create_symlink(csv_, root_ + "/alias.csv");
  ft::v1::JobSpec spec;
  FT_ASSERT_OK(Apply(root_ + "/alias.csv", &spec));
  char real[PATH_MAX];
  ASSERT_NE(realpath(csv_.c_str(), real), nullptr);
  EXPECT_EQ(spec.dataset().train(), real);
}

TEST_F(SubmitPolicyTest, DatasetSizeAndSequenceLengthLimits) {
  limits_.max_dataset_bytes = 20;
  absl::Status status = Apply(csv_);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("--max-dataset-bytes"), std::string::npos) << status;
  // A folder counts all its files.
  dir_.Write("root/folder/a.txt", std::string(15, 'a'));
  dir_.Write("root/folder/sub/b.txt", std::string(15, 'b'));
  EXPECT_EQ(Apply(root_ + "/folder").code(), absl::StatusCode::kResourceExhausted);
  limits_.max_dataset_bytes = 1 << 20;
  FT_EXPECT_OK(Apply(csv_));

  limits_.max_seq_length = 512;
  ft::v1::JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_max_seq_length(513);
  status = ApplySubmitLimits(limits_, spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted) << status;
  EXPECT_NE(status.message().find("--max-seq-length-limit"), std::string::npos) << status;
  spec.set_max_seq_length(512);
  FT_EXPECT_OK(ApplySubmitLimits(limits_, spec));
  spec.set_max_seq_length(100000);  // past the spec's own bound: validation's INVALID_ARGUMENT
  FT_EXPECT_OK(ApplySubmitLimits(limits_, spec));
}

TEST_F(SubmitPolicyTest, RootsMustBeFolders) {
  FT_EXPECT_CODE(ResolveDataRoots({csv_}), absl::StatusCode::kInvalidArgument);
  FT_EXPECT_CODE(ResolveDataRoots({root_ + "/none"}), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsUnder("/a/b", "/a"));
  EXPECT_TRUE(IsUnder("/a", "/a"));
  EXPECT_FALSE(IsUnder("/ab", "/a"));
  EXPECT_TRUE(IsUnder("/x", "/"));
}

TEST(WatcherLimitsTest, BoundsTotalAndPerJob) {
  api::WatcherLimits limits(/*max_total=*/3, /*max_per_job=*/2);
  auto a1 = limits.Acquire("a");
  auto a2 = limits.Acquire("a");
  FT_ASSERT_OK(a1);
  FT_ASSERT_OK(a2);
  auto a3 = limits.Acquire("a");
  FT_EXPECT_CODE(a3, absl::StatusCode::kResourceExhausted);
  EXPECT_NE(a3.status().message().find("--max-watchers-per-job"), std::string::npos);
  auto b1 = limits.Acquire("b");
  FT_ASSERT_OK(b1);
  auto b2 = limits.Acquire("b");
  FT_EXPECT_CODE(b2, absl::StatusCode::kResourceExhausted);
  EXPECT_NE(b2.status().message().find("--max-watchers:"), std::string::npos);
  a1->reset();  // a stream ends: its slot is free again
  EXPECT_EQ(limits.total(), 2);
  FT_EXPECT_OK(limits.Acquire("a"));
}

}  // namespace
}  // namespace ft::sched
