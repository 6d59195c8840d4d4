#include "worker/models/thread_generator.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace ft::models {
namespace {

thread_local at::Generator* this_threads_generator = nullptr;

}  // namespace

at::Generator ThisThreadsCpuGenerator() {
  return this_threads_generator != nullptr ? *this_threads_generator
                                           : at::detail::getDefaultCPUGenerator();
}

OwnCpuGenerator::OwnCpuGenerator(uint64_t seed)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)),
      previous_(this_threads_generator) {
  this_threads_generator = &generator_;
}

OwnCpuGenerator::~OwnCpuGenerator() { this_threads_generator = previous_; }

at::Tensor ThisThreadsDropout(const at::Tensor& input, double p) {
  if (!input.is_cpu()) return at::dropout(input, p, true);
  at::Tensor keep = at::empty_like(input, at::MemoryFormat::Contiguous);
  keep.bernoulli_(1 - p, ThisThreadsCpuGenerator());
  keep.div_(1 - p);
  return input * keep;
}

uint64_t DrawSeed(at::Generator generator) {
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get<at::CPUGeneratorImpl>()->random64();
}

uint64_t StreamSeed(uint64_t seed, int stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(stream) + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace ft::models
