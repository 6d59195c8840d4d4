// c10d's ProcessGroupNCCL for CUDA ranks. Compiled only where CMake found a CUDA LibTorch and
// nccl.h (FT_WITH_NCCL); scripts/check_nccl_compile.sh compiles it against Debian's CPU LibTorch
// headers, which cannot link it.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "worker/distributed/c10d_group.h"

namespace ft::distributed {

c10::intrusive_ptr<C10dGroup> JoinNcclGroup(const c10::intrusive_ptr<c10d::Store>& store,
                                            int rank, int world_size,
                                            std::chrono::milliseconds timeout,
                                            torch::Device device) {
  // Read by the constructor. Blocking wait: Work::wait blocks the calling thread until the
  // collective ends or the timeout passes, then aborts the communicator and throws there, so a
  // dead or hung peer ends the rank's step with an error that names it. (Asynchronous error
  // handling, which c10d turns off when blocking wait is on, would instead end the whole process
  // from its watchdog thread.) LibTorch 2.2 and later read the TORCH_ name, earlier ones the
  // other.
  setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 1);
  setenv("NCCL_BLOCKING_WAIT", "1", 1);
  // Every rank must be here before NCCL's communicator is built: ncclCommInitRank may wait for a
  // missing peer with no timeout at all; the store's wait has the gang's.
  const std::string joined = "nccl-joined/";
  store->set(joined + std::to_string(rank), std::vector<uint8_t>{1});
  std::vector<std::string> everyone;
  for (int peer = 0; peer < world_size; ++peer) everyone.push_back(joined + std::to_string(peer));
  store->wait(everyone, timeout);

  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, options);
  // NCCL builds its communicator at the first collective: one now, so that its failures show
  // while joining, as Gloo's constructor shows them, and not in the first training step.
  std::vector<torch::Tensor> probe{torch::zeros({1}, torch::TensorOptions().device(device))};
  group->allreduce(probe)->wait(timeout);
  return group;
}

}  // namespace ft::distributed
