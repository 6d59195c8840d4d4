#include "worker/distributed/gang.h"

// Set by worker/CMakeLists.txt where the backend's headers were found.
#ifndef FT_WITH_GLOO
#define FT_WITH_GLOO 0
#endif
#ifndef FT_WITH_NCCL
#define FT_WITH_NCCL 0
#endif

#if FT_WITH_GLOO || FT_WITH_NCCL
#define FT_WITH_C10D 1
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "worker/distributed/c10d_group.h"
#endif
#if FT_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <deque>
#include <stdexcept>
#include <string>

#include "worker/distributed/collective_backend.h"

namespace ft::distributed {

namespace {

constexpr BackendsBuilt kBuilt{FT_WITH_GLOO != 0, FT_WITH_NCCL != 0};

}  // namespace

#if FT_WITH_C10D

namespace {

std::chrono::milliseconds Timeout(const train::DistributedOptions& options) {
  return std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
}

// "3 s", "0.5 s".
std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g s", seconds);
  return text;
}

std::string Address(const train::DistributedOptions& options) {
  return (options.store_host.empty() ? std::string("127.0.0.1") : options.store_host) + ":" +
         std::to_string(options.store_port);
}

#if FT_WITH_GLOO
bool IsLoopback(const std::string& host) {
  return host.empty() || host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

c10::intrusive_ptr<C10dGroup> JoinGlooGroup(const c10::intrusive_ptr<c10d::Store>& store,
                                            const train::DistributedOptions& options,
                                            std::chrono::milliseconds timeout) {
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
  // Every rank on one machine talks over loopback; across machines, over the address that this
  // machine's hostname resolves to.
  gloo_options->devices.push_back(
      IsLoopback(options.store_host) ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
  return c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size,
                                                     gloo_options);
}
#endif

}  // namespace

// A started all-reduce. `sent` is what the backend sums, kept alive until the wait; `caller` is
// defined when `sent` is a copy on the backend's device, and gets the result back.
struct PendingCollective {
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<torch::Tensor> sent;
  torch::Tensor caller;
};

struct Gang::Group {
  CollectiveBackend backend = CollectiveBackend::kGloo;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<C10dGroup> process_group;
  // Where the backend's tensors live: the CPU for Gloo, the rank's GPU for NCCL.
  torch::Device device = torch::kCPU;
  std::chrono::milliseconds timeout{0};
  // Oldest first (a deque: push_back moves none of them).
  std::deque<PendingCollective> pending_sums;
};

#else

struct Gang::Group {
  CollectiveBackend backend = CollectiveBackend::kGloo;
};

#endif

Gang::Gang(int rank, int world_size, std::unique_ptr<Group> group)
    : rank_(rank), world_size_(world_size), group_(std::move(group)) {}

Gang::~Gang() = default;

bool Gang::Available() { return kBuilt.gloo; }

const char* Gang::backend() const { return CollectiveBackendName(group_->backend); }

#if FT_WITH_C10D

std::unique_ptr<Gang> Gang::Join(const train::DistributedOptions& options, torch::Device device) {
  const std::string who =
      "rank " + std::to_string(options.rank) + " of " + std::to_string(options.world_size);
  auto group = std::make_unique<Group>();
  try {
    group->backend = ChooseCollectiveBackend(options.backend, device.is_cuda(), kBuilt);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(who + ": " + error.what());
  }
  group->device = group->backend == CollectiveBackend::kNccl ? device : torch::Device(torch::kCPU);
  group->timeout = Timeout(options);
  const std::string host = options.store_host.empty() ? "127.0.0.1" : options.store_host;
  const std::string rendezvous = "rendezvous " + Address(options);
  c10d::TCPStoreOptions store_options;
  store_options.port = static_cast<std::uint16_t>(options.store_port);
  store_options.isServer = options.rank == 0;
  store_options.numWorkers = static_cast<std::size_t>(options.world_size);
  // The ranks meet in the process group's own rendezvous below, which has the same timeout.
  store_options.waitWorkers = false;
  store_options.timeout = group->timeout;
  try {
    group->store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
  } catch (const std::exception& error) {
    throw std::runtime_error(rendezvous + ": " +
                             (options.rank == 0 ? "cannot host the store: "
                                                : "cannot reach the store within " +
                                                      Seconds(options.timeout_seconds) + ": ") +
                             error.what());
  }
  if (options.rank == 0 && options.on_store_listening) {
    options.on_store_listening(group->store->getPort());
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>(
      options.store_prefix.empty() ? std::string("ft") : options.store_prefix, group->store);
  try {
#if FT_WITH_NCCL
    if (group->backend == CollectiveBackend::kNccl) {
      group->process_group = JoinNcclGroup(prefixed, options.rank, options.world_size,
                                           group->timeout, group->device);
    }
#endif
#if FT_WITH_GLOO
    if (group->backend == CollectiveBackend::kGloo) {
      group->process_group = JoinGlooGroup(prefixed, options, group->timeout);
    }
#endif
  } catch (const std::exception& error) {
    throw std::runtime_error(rendezvous + ": the other ranks did not join within " +
                             Seconds(options.timeout_seconds) + " (" +
                             CollectiveBackendName(group->backend) + "): " + error.what());
  }
  return std::unique_ptr<Gang>(new Gang(options.rank, options.world_size, std::move(group)));
}

void Gang::SumInPlace(std::vector<torch::Tensor>& tensors) {
  for (const torch::Tensor& tensor : tensors) StartSum(tensor);
  WaitForSums();
}

namespace {

// Starts reducing `tensor` on `process_group`, through a copy on `device` when it lies elsewhere.
PendingCollective StartAllreduce(C10dGroup& process_group, torch::Device device,
                                 const torch::Tensor& tensor, c10d::ReduceOp op) {
  PendingCollective collective;
  if (tensor.device() == device) {
    collective.sent = {tensor};
  } else {
    collective.sent = {tensor.to(device)};
    collective.caller = tensor;
  }
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  collective.work = process_group.allreduce(collective.sent, options);
  return collective;
}

// Waits for `collective` and copies a moved tensor's result back to the caller's.
void WaitAndCopyBack(PendingCollective& collective, std::chrono::milliseconds timeout) {
  collective.work->wait(timeout);
  if (collective.caller.defined()) collective.caller.copy_(collective.sent.front());
}

std::runtime_error CollectiveError(int rank, const char* what, const std::exception& error) {
  return std::runtime_error("rank " + std::to_string(rank) + ": an all-reduce (" + what +
                            ") failed (a peer died, hung or timed out): " + error.what());
}

}  // namespace

void Gang::StartSum(const torch::Tensor& tensor) {
  try {
    group_->pending_sums.push_back(
        StartAllreduce(*group_->process_group, group_->device, tensor, c10d::ReduceOp::SUM));
  } catch (const std::exception& error) {
    throw CollectiveError(rank_, "sum", error);
  }
}

void Gang::WaitForNextSum() {
  if (group_->pending_sums.empty()) return;
  try {
    WaitAndCopyBack(group_->pending_sums.front(), group_->timeout);
  } catch (const std::exception& error) {
    throw CollectiveError(rank_, "sum", error);
  }
  group_->pending_sums.pop_front();
}

void Gang::WaitForSums() {
  while (!group_->pending_sums.empty()) WaitForNextSum();
}

void Gang::MaxInPlace(torch::Tensor& tensor) {
  try {
    PendingCollective collective =
        StartAllreduce(*group_->process_group, group_->device, tensor, c10d::ReduceOp::MAX);
    WaitAndCopyBack(collective, group_->timeout);
  } catch (const std::exception& error) {
    throw CollectiveError(rank_, "max", error);
  }
}

#else  // built without c10d's Gloo and NCCL (tests/gpu on a LibTorch that ships neither)

std::unique_ptr<Gang> Gang::Join(const train::DistributedOptions& options, torch::Device device) {
  try {
    ChooseCollectiveBackend(options.backend, device.is_cuda(), kBuilt);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument("rank " + std::to_string(options.rank) + " of " +
                                std::to_string(options.world_size) + ": " + error.what());
  }
  throw std::logic_error("Gang::Join: a backend was chosen that this build lacks");
}

void Gang::SumInPlace(std::vector<torch::Tensor>&) {
  throw std::logic_error("Gang::SumInPlace without c10d");
}

void Gang::StartSum(const torch::Tensor&) { throw std::logic_error("Gang::StartSum without c10d"); }

void Gang::WaitForNextSum() { throw std::logic_error("Gang::WaitForNextSum without c10d"); }

void Gang::WaitForSums() { throw std::logic_error("Gang::WaitForSums without c10d"); }

void Gang::MaxInPlace(torch::Tensor&) { throw std::logic_error("Gang::MaxInPlace without c10d"); }

#endif

}  // namespace ft::distributed
