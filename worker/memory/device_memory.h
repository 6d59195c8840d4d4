// Memory a training job holds on its device, for progress reports (TrainingProgress
// device_memory_bytes / device_memory_peak_bytes). Standard library + Linux only: on CUDA it
// reads cudaMemGetInfo from whichever CUDA runtime LibTorch loaded (found at run time, so the
// same code builds against Debian's CPU LibTorch); on the CPU the process's VmRSS and VmHWM.
#pragma once

#include <cstdint>

namespace ft::train {

struct DeviceMemory {
  uint64_t in_use_bytes = 0;  // 0: unknown
  uint64_t peak_bytes = 0;
};

class DeviceMemoryMeter {
 public:
  explicit DeviceMemoryMeter(bool cuda);

  // The current reading. On CUDA, in use = total - free on the current device (the caching
  // allocator's reserve included, other processes' memory too) and the peak is the highest value
  // this meter has read; on the CPU, VmRSS and VmHWM.
  DeviceMemory Read();

 private:
  using MemGetInfo = int (*)(std::size_t* free, std::size_t* total);
  bool cuda_;
  MemGetInfo mem_get_info_ = nullptr;
  uint64_t peak_ = 0;
};

}  // namespace ft::train
