#include "worker/memory/device_memory.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>

#include "worker/memory/process_memory.h"

namespace ft::train {

DeviceMemoryMeter::DeviceMemoryMeter(bool cuda) : cuda_(cuda) {
  if (cuda_) {
    mem_get_info_ = reinterpret_cast<MemGetInfo>(dlsym(RTLD_DEFAULT, "cudaMemGetInfo"));
  }
}

DeviceMemory DeviceMemoryMeter::Read() {
  DeviceMemory memory;
  if (cuda_) {
    std::size_t free = 0;
    std::size_t total = 0;
    if (mem_get_info_ == nullptr || mem_get_info_(&free, &total) != 0 || free > total) {
      return memory;
    }
    memory.in_use_bytes = static_cast<uint64_t>(total - free);
    peak_ = std::max(peak_, memory.in_use_bytes);
    memory.peak_bytes = peak_;
    return memory;
  }
  memory.in_use_bytes = CurrentRssBytes().value_or(0);
  memory.peak_bytes = std::max(PeakRssBytes().value_or(0), memory.in_use_bytes);
  return memory;
}

}  // namespace ft::train
