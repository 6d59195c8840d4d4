// The c10d types that gang.cc and nccl_group.cc share, and nothing else may include: c10d's
// headers cost compile time and need the backends' defines (USE_C10D_GLOO, USE_C10D_NCCL).
#pragma once

#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>
#include <torch/types.h>
#include <torch/version.h>

#include <chrono>

// The base class of ProcessGroupGloo and ProcessGroupNCCL, whose virtual allreduce both
// implement: ProcessGroup in LibTorch 1.13, Backend from 2.0 (the ProcessGroup then dispatches).
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

namespace ft::distributed {

#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

// ProcessGroupNCCL on `device` (nccl_group.cc; only in builds with FT_WITH_NCCL). Returns once
// every rank's communicator is up; throws when the others do not come within `timeout`.
c10::intrusive_ptr<C10dGroup> JoinNcclGroup(const c10::intrusive_ptr<c10d::Store>& store,
                                            int rank, int world_size,
                                            std::chrono::milliseconds timeout,
                                            torch::Device device);

}  // namespace ft::distributed
