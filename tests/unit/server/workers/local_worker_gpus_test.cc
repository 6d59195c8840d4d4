#include "server/workers/local_worker_gpus.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace ft::workers {
namespace {

using Gpus = std::vector<std::string>;

TEST(LocalWorkerGpusTest, IndicesAndUuidsInOrder) {
  auto gpus = ParseLocalWorkerGpus("0,1, 3 ,GPU-8f2a-11,MIG-GPU-8f2a/1/0");
  ASSERT_TRUE(gpus.ok()) << gpus.status();
  EXPECT_EQ(*gpus, (Gpus{"0", "1", "3", "GPU-8f2a-11", "MIG-GPU-8f2a/1/0"}));
}

TEST(LocalWorkerGpusTest, BadEntriesAreRefusedByName) {
  for (const char* list : {"", "0,", "0,,1", "cuda:0", "-1", "0;1", "GPU-", "GPU-xyz", "1 2"}) {
    auto gpus = ParseLocalWorkerGpus(list);
    ASSERT_FALSE(gpus.ok()) << list;
    EXPECT_EQ(gpus.status().code(), absl::StatusCode::kInvalidArgument) << list;
    EXPECT_TRUE(absl::StartsWith(gpus.status().message(), "--local-worker-gpus: '"))
        << gpus.status();
  }
}

TEST(LocalWorkerGpusTest, AGpuTwiceIsRefused) {
  auto gpus = ParseLocalWorkerGpus("0,1,0");
  ASSERT_FALSE(gpus.ok());
  EXPECT_TRUE(absl::StrContains(gpus.status().message(), "GPU 0 is listed twice"))
      << gpus.status();
}

TEST(LocalWorkerGpusTest, OneWorkerPerGpuUnlessTheCountDisagrees) {
  EXPECT_EQ(*LocalWorkerCount(-1, {}), 1);  // --local-workers' default
  EXPECT_EQ(*LocalWorkerCount(0, {}), 0);
  EXPECT_EQ(*LocalWorkerCount(-1, {"0", "1", "2"}), 3);
  EXPECT_EQ(*LocalWorkerCount(3, {"0", "1", "2"}), 3);
  auto mismatch = LocalWorkerCount(2, {"0", "1", "2"});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mismatch.status().message(),
                                "--local-worker-gpus names 3 GPUs but --local-workers is 2"))
      << mismatch.status();
}

}  // namespace
}  // namespace ft::workers
