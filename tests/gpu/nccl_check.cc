// The gang's c10d backends on the GPU host (tests/gpu/README.md, section `nccl`), a few seconds:
//   1. a world-1 NCCL gang on cuda:0 sums a CUDA tensor, and the float64 CPU tensor that the
//      gradient reducer sends (moved to the GPU and back), and takes a CPU maximum;
//   2. the gradient reducer on that gang with CUDA parameters: gradients and extras unchanged;
//   3. rank 0 of 2 whose peer never comes: Join fails within the 3 s timeout, naming it;
//   4. with Gloo's headers: a world-2 Gloo gang on the one GPU (two threads), CUDA tensors
//      summed through host memory: each rank gets the sum of both;
//   5. with two GPUs or more: a world-2 NCCL gang, rank r on cuda:r.
// One line per check ("#### nccl ... PASS|FAIL|SKIP"); exit 1 when any failed.
#include <torch/torch.h>

#include <chrono>
#include <exception>
#include <functional>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "worker/distributed/gang.h"
#include "worker/distributed/gradient_reducer.h"

namespace {

using ft::distributed::Gang;

int failures = 0;

void Report(const std::string& check, bool passed, const std::string& detail) {
  if (!passed) ++failures;
  std::cout << "#### nccl " << check << ": " << (passed ? "PASS" : "FAIL") << " " << detail
            << std::endl;
}

void Skip(const std::string& check, const std::string& why) {
  std::cout << "#### nccl " << check << ": SKIP " << why << std::endl;
}

ft::train::DistributedOptions Options(int rank, int world_size, const std::string& backend) {
  ft::train::DistributedOptions options;
  options.rank = rank;
  options.world_size = world_size;
  options.store_host = "127.0.0.1";
  options.store_prefix = "nccl-check-" + backend + std::to_string(world_size);
  options.timeout_seconds = 30;
  options.backend = backend;
  return options;
}

// Runs `rank_body(gang)` on ranks 0..world_size-1 of a fresh gang, one thread each, rank r on
// devices[r]; returns each rank's error ("" when none).
std::vector<std::string> RunGang(const std::string& backend,
                                 const std::vector<torch::Device>& devices,
                                 const std::function<void(Gang&, int)>& rank_body) {
  const int world_size = static_cast<int>(devices.size());
  std::promise<int> port;
  std::shared_future<int> port_ready = port.get_future().share();
  std::vector<std::string> errors(world_size);
  const auto run_rank = [&](int rank) {
    try {
      ft::train::DistributedOptions options = Options(rank, world_size, backend);
      if (rank == 0) {
        options.on_store_listening = [&port](int listening) { port.set_value(listening); };
      } else {
        options.store_port = port_ready.get();
      }
      std::unique_ptr<Gang> gang = Gang::Join(options, devices[rank]);
      rank_body(*gang, rank);
    } catch (const std::exception& error) {
      errors[rank] = error.what();
    }
  };
  std::vector<std::thread> others;
  for (int rank = 1; rank < world_size; ++rank) others.emplace_back(run_rank, rank);
  run_rank(0);
  for (std::thread& other : others) other.join();
  return errors;
}

std::string Joined(const std::vector<std::string>& errors) {
  std::string text;
  for (std::size_t r = 0; r < errors.size(); ++r) {
    if (!errors[r].empty()) text += "[rank " + std::to_string(r) + "] " + errors[r] + " ";
  }
  return text;
}

void WorldOneNccl(const torch::Device& gpu) {
  bool ok = false;
  std::string detail;
  const std::vector<std::string> errors = RunGang("nccl", {gpu}, [&](Gang& gang, int) {
    torch::Tensor on_gpu = torch::arange(1000, torch::TensorOptions(torch::kFloat32).device(gpu));
    const torch::Tensor expected_gpu = on_gpu.clone();
    torch::Tensor extras = torch::tensor({1.5, -2.0, 1e300}, torch::kFloat64);
    const torch::Tensor expected_extras = extras.clone();
    gang.StartSum(on_gpu);
    gang.StartSum(extras);
    gang.WaitForSums();
    torch::Tensor highest = torch::tensor({3.0, -7.0}, torch::kFloat64);
    gang.MaxInPlace(highest);
    ok = std::string(gang.backend()) == "nccl" && on_gpu.is_cuda() && !extras.is_cuda() &&
         torch::equal(on_gpu, expected_gpu) && torch::equal(extras, expected_extras) &&
         torch::equal(highest, torch::tensor({3.0, -7.0}, torch::kFloat64));
    detail = std::string("backend ") + gang.backend() +
             ", CUDA float32 x1000, CPU float64 extras and max";
  });
  Report("world1-sum", ok && errors[0].empty(), detail + " " + Joined(errors));
}

void ReducerOnNccl(const torch::Device& gpu) {
  bool ok = false;
  std::string detail;
  const std::vector<std::string> errors = RunGang("nccl", {gpu}, [&](Gang& gang, int) {
    const auto options = torch::TensorOptions(torch::kFloat32).device(gpu);
    std::vector<torch::Tensor> parameters = {torch::randn({64, 64}, options).requires_grad_(),
                                             torch::randn({64}, options).requires_grad_(),
                                             torch::randn({8, 64}, options).requires_grad_()};
    ft::distributed::GradientReducer reducer(gang, parameters);
    const torch::Tensor input = torch::randn({4, 64}, options);
    (torch::tanh(input.matmul(parameters[0]) + parameters[1]).pow(2).sum()).backward();
    reducer.ArmBeforeLastBackward();
    (torch::tanh(input.matmul(parameters[0]) + parameters[1]).sum()).backward();
    std::vector<torch::Tensor> before;
    for (const torch::Tensor& parameter : parameters) {
      before.push_back(parameter.grad().defined() ? parameter.grad().clone() : torch::Tensor());
    }
    const std::vector<double> extras = reducer.Finish({2.5, 1.0});
    ok = extras == std::vector<double>{2.5, 1.0} && !parameters[2].grad().defined();
    for (int i = 0; i < 2; ++i) {
      ok = ok && parameters[i].grad().is_cuda() && torch::equal(parameters[i].grad(), before[i]);
    }
    detail = std::to_string(reducer.bucket_count()) + " buckets, " +
             std::to_string(reducer.last_buckets_during_backward()) + " during the backward";
  });
  Report("reducer", ok && errors[0].empty(), detail + " " + Joined(errors));
}

void MissingPeer(const torch::Device& gpu) {
  ft::train::DistributedOptions options = Options(0, 2, "nccl");
  options.timeout_seconds = 3;
  options.store_prefix = "nccl-check-missing";
  const auto start = std::chrono::steady_clock::now();
  std::string error;
  try {
    Gang::Join(options, gpu);
  } catch (const std::exception& caught) {
    error = caught.what();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Report("missing-peer", error.find("did not join within 3 s") != std::string::npos &&
                             seconds < 10,
         "failed after " + std::to_string(seconds) + " s: " + error.substr(0, 300));
}

// Each rank sums [rank + 1, ...]: the sum of both is 3 in every element.
void WorldTwo(const std::string& backend, const std::vector<torch::Device>& devices) {
  std::vector<bool> ok(2, false);
  const std::vector<std::string> errors = RunGang(backend, devices, [&](Gang& gang, int rank) {
    const auto options = torch::TensorOptions(torch::kFloat32).device(devices[rank]);
    torch::Tensor on_gpu = torch::full({4096}, rank + 1.0, options);
    torch::Tensor extras = torch::full({5}, rank + 1.0, torch::kFloat64);
    gang.StartSum(on_gpu);
    gang.StartSum(extras);
    gang.WaitForSums();
    torch::Tensor highest = torch::full({2}, static_cast<double>(rank), torch::kFloat64);
    gang.MaxInPlace(highest);
    ok[rank] = on_gpu.is_cuda() && torch::equal(on_gpu, torch::full({4096}, 3.0, options)) &&
               torch::equal(extras, torch::full({5}, 3.0, torch::kFloat64)) &&
               torch::equal(highest, torch::full({2}, 1.0, torch::kFloat64));
  });
  Report("world2-" + backend, ok[0] && ok[1] && errors[0].empty() && errors[1].empty(),
         "ranks on " + devices[0].str() + " and " + devices[1].str() + " " + Joined(errors));
}

}  // namespace

int main() {
  if (!torch::cuda::is_available()) {
    Skip("all", "no CUDA device");
    return 0;
  }
  const torch::Device gpu(torch::kCUDA, 0);
  bool nccl_built = true;
  try {
    ft::train::DistributedOptions probe = Options(0, 1, "nccl");
    probe.store_prefix = "nccl-check-probe";
    Gang::Join(probe, gpu);
  } catch (const std::invalid_argument& error) {
    nccl_built = false;
    Skip("world1-sum reducer missing-peer world2-nccl", error.what());
  } catch (const std::exception&) {
    // Any other failure shows in the checks below.
  }
  if (nccl_built) {
    WorldOneNccl(gpu);
    ReducerOnNccl(gpu);
    MissingPeer(gpu);
  }
  if (Gang::Available()) {
    WorldTwo("gloo", {gpu, gpu});
  } else {
    Skip("world2-gloo", "this LibTorch came without Gloo's headers");
  }
  if (nccl_built && torch::cuda::device_count() >= 2) {
    WorldTwo("nccl", {gpu, torch::Device(torch::kCUDA, 1)});
  } else if (nccl_built) {
    Skip("world2-nccl", "one GPU");
  }
  std::cout << "#### nccl checks: " << (failures == 0 ? "all passed" : "FAILED") << std::endl;
  return failures == 0 ? 0 : 1;
}
