// Which c10d backend a rank gets (collective_backend.h), for every build: Gloo only (this
// machine's Debian LibTorch), NCCL only (a CUDA wheel without Gloo's headers), both, neither.
#include "worker/distributed/collective_backend.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace ft::distributed {
namespace {

constexpr BackendsBuilt kGlooOnly{true, false};
constexpr BackendsBuilt kNcclOnly{false, true};
constexpr BackendsBuilt kBoth{true, true};
constexpr BackendsBuilt kNeither{false, false};

std::string ErrorOf(const std::string& requested, bool cuda_rank, BackendsBuilt built) {
  try {
    ChooseCollectiveBackend(requested, cuda_rank, built);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(CollectiveBackendTest, AutoIsNcclOnCudaWhereBuiltElseGloo) {
  for (const std::string automatic : {"", "auto"}) {
    EXPECT_EQ(ChooseCollectiveBackend(automatic, true, kBoth), CollectiveBackend::kNccl);
    EXPECT_EQ(ChooseCollectiveBackend(automatic, true, kNcclOnly), CollectiveBackend::kNccl);
    EXPECT_EQ(ChooseCollectiveBackend(automatic, true, kGlooOnly), CollectiveBackend::kGloo);
    EXPECT_EQ(ChooseCollectiveBackend(automatic, false, kBoth), CollectiveBackend::kGloo);
    EXPECT_EQ(ChooseCollectiveBackend(automatic, false, kGlooOnly), CollectiveBackend::kGloo);
  }
  EXPECT_STREQ(CollectiveBackendName(CollectiveBackend::kNccl), "nccl");
  EXPECT_STREQ(CollectiveBackendName(CollectiveBackend::kGloo), "gloo");
}

TEST(CollectiveBackendTest, AnExplicitBackendIsKeptWhereItCanWork) {
  EXPECT_EQ(ChooseCollectiveBackend("gloo", true, kBoth), CollectiveBackend::kGloo);
  EXPECT_EQ(ChooseCollectiveBackend("nccl", true, kBoth), CollectiveBackend::kNccl);
}

TEST(CollectiveBackendTest, ImpossibleChoicesSayWhy) {
  EXPECT_EQ(ErrorOf("nccl", false, kBoth),
            "gang backend 'nccl' for a CPU rank: NCCL sums CUDA tensors only");
  EXPECT_NE(ErrorOf("nccl", true, kGlooOnly).find("built without c10d's NCCL backend"),
            std::string::npos);
  EXPECT_NE(ErrorOf("gloo", true, kNcclOnly).find("built without c10d's Gloo backend"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("mpi", true, kBoth),
            "gang backend 'mpi' for a CUDA rank: must be auto, gloo or nccl");
  EXPECT_NE(ErrorOf("", false, kNcclOnly).find("no gang backend for a CPU rank"),
            std::string::npos);
  EXPECT_NE(ErrorOf("auto", true, kNeither).find("without c10d's Gloo and NCCL backends"),
            std::string::npos);
}

}  // namespace
}  // namespace ft::distributed
