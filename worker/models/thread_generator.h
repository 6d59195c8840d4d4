// The CPU random generator of this thread's forward passes.
//
// LibTorch's dropout draws from one process-wide CPU generator. Threads that run forward passes
// at the same time (the CPU replicas, cpu_replicas.h) would draw from it in a racy order: neither
// the masks nor a resume could be reproduced. A thread can instead be given its own generator for
// a scope; the draws that ftd makes itself (the models' and LoRA's dropout) and the activation
// checkpoint's replay of them use ThisThreadsCpuGenerator(). Without a scope it is the default
// generator, so a single-threaded job draws exactly what it drew before.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ft::models {

at::Generator ThisThreadsCpuGenerator();

// Gives this thread a generator seeded with `seed` until the scope ends (scopes nest).
class OwnCpuGenerator {
 public:
  explicit OwnCpuGenerator(uint64_t seed);
  ~OwnCpuGenerator();
  OwnCpuGenerator(const OwnCpuGenerator&) = delete;
  OwnCpuGenerator& operator=(const OwnCpuGenerator&) = delete;

 private:
  at::Generator generator_;
  at::Generator* previous_;
};

// Training-mode dropout drawn from ThisThreadsCpuGenerator() on the CPU: torch::dropout's CPU
// computation (a Bernoulli(1 - p) mask scaled by 1 / (1 - p)), so from the default generator it
// draws the same mask; on a GPU, torch::dropout itself.
at::Tensor ThisThreadsDropout(const at::Tensor& input, double p);

// One 64-bit draw from `generator`, under its lock.
uint64_t DrawSeed(at::Generator generator);

// Independent, well-spread seeds for the streams 0, 1, ... derived from one seed (splitmix64).
uint64_t StreamSeed(uint64_t seed, int stream);

}  // namespace ft::models
