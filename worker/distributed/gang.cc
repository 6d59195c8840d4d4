#include "worker/distributed/gang.h"

#if FT_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <chrono>
#include <deque>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace ft::distributed {

#if FT_WITH_GLOO

namespace {

std::chrono::milliseconds Timeout(const train::DistributedOptions& options) {
  return std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000));
}

bool IsLoopback(const std::string& host) {
  return host.empty() || host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
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

}  // namespace

struct Gang::Group {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> process_group;
  std::chrono::milliseconds timeout;
  // Started, not yet waited for, oldest first; with their inputs, which the work must not
  // outlive (a deque: push_back moves none of them).
  std::deque<c10::intrusive_ptr<c10d::Work>> pending_sums;
  std::deque<std::vector<torch::Tensor>> pending_inputs;
};

#else

struct Gang::Group {};

#endif

Gang::Gang(int rank, int world_size, std::unique_ptr<Group> group)
    : rank_(rank), world_size_(world_size), group_(std::move(group)) {}

Gang::~Gang() = default;

#if FT_WITH_GLOO

bool Gang::Available() { return true; }

std::unique_ptr<Gang> Gang::Join(const train::DistributedOptions& options) {
  auto group = std::make_unique<Group>();
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
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(group->timeout);
  // Every rank on one machine talks over loopback; across machines, over the address that this
  // machine's hostname resolves to.
  gloo_options->devices.push_back(
      IsLoopback(options.store_host) ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                     : c10d::ProcessGroupGloo::createDefaultDevice());
  try {
    group->process_group = c10::make_intrusive<c10d::ProcessGroupGloo>(
        prefixed, options.rank, options.world_size, gloo_options);
  } catch (const std::exception& error) {
    throw std::runtime_error(rendezvous + ": the other ranks did not join within " +
                             Seconds(options.timeout_seconds) + ": " + error.what());
  }
  return std::unique_ptr<Gang>(new Gang(options.rank, options.world_size, std::move(group)));
}

void Gang::SumInPlace(std::vector<torch::Tensor>& tensors) {
  for (const torch::Tensor& tensor : tensors) StartSum(tensor);
  WaitForSums();
}

void Gang::StartSum(const torch::Tensor& tensor) {
  group_->pending_inputs.push_back({tensor});
  group_->pending_sums.push_back(group_->process_group->allreduce(group_->pending_inputs.back()));
}

void Gang::WaitForNextSum() {
  if (group_->pending_sums.empty()) return;
  const c10::intrusive_ptr<c10d::Work> work = group_->pending_sums.front();
  try {
    work->wait(group_->timeout);
  } catch (const std::exception& error) {
    throw std::runtime_error("rank " + std::to_string(rank_) +
                             ": an all-reduce (sum) failed (a peer died, hung or timed out): " +
                             error.what());
  }
  group_->pending_sums.pop_front();
  group_->pending_inputs.pop_front();
}

void Gang::WaitForSums() {
  while (!group_->pending_sums.empty()) WaitForNextSum();
}

void Gang::MaxInPlace(torch::Tensor& tensor) {
  std::vector<torch::Tensor> input{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  try {
    group_->process_group->allreduce(input, options)->wait(group_->timeout);
  } catch (const std::exception& error) {
    throw std::runtime_error("rank " + std::to_string(rank_) +
                             ": an all-reduce (max) failed (a peer died, hung or timed out): " +
                             error.what());
  }
}

#else  // built without Gloo's headers (tests/gpu on a LibTorch that ships none)

bool Gang::Available() { return false; }

std::unique_ptr<Gang> Gang::Join(const train::DistributedOptions& options) {
  throw std::runtime_error("rank " + std::to_string(options.rank) + " of " +
                           std::to_string(options.world_size) +
                           ": this ftworker was built without c10d's Gloo backend (its LibTorch "
                           "came without Gloo's headers), so it cannot train with world_size > 1");
}

void Gang::SumInPlace(std::vector<torch::Tensor>&) {
  throw std::logic_error("Gang::SumInPlace without Gloo");
}

void Gang::StartSum(const torch::Tensor&) { throw std::logic_error("Gang::StartSum without Gloo"); }

void Gang::WaitForNextSum() { throw std::logic_error("Gang::WaitForNextSum without Gloo"); }

void Gang::WaitForSums() { throw std::logic_error("Gang::WaitForSums without Gloo"); }

void Gang::MaxInPlace(torch::Tensor&) { throw std::logic_error("Gang::MaxInPlace without Gloo"); }

#endif

}  // namespace ft::distributed
