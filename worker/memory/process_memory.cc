#include "worker/memory/process_memory.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <fstream>
#include <sstream>
#include <string>

namespace ft::train {
namespace {

// The value of "<name>:   1234 kB" in a /proc file, in bytes.
std::optional<uint64_t> ReadKilobytes(const char* file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) != 0 || line.size() <= name.size() ||
        line[name.size()] != ':') {
      continue;
    }
    std::istringstream fields(line.substr(name.size() + 1));
    uint64_t kilobytes = 0;
    if (fields >> kilobytes) return kilobytes * 1024;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::optional<uint64_t> MemAvailableBytes() { return ReadKilobytes("/proc/meminfo", "MemAvailable"); }
std::optional<uint64_t> CurrentRssBytes() { return ReadKilobytes("/proc/self/status", "VmRSS"); }
std::optional<uint64_t> PeakRssBytes() { return ReadKilobytes("/proc/self/status", "VmHWM"); }

bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

void TrimHeap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

}  // namespace ft::train
