#include "tests/load/process_memory.h"

#include <fstream>
#include <sstream>
#include <string>

namespace ft::load {

ProcessMemory ReadProcessMemory(pid_t pid) {
  ProcessMemory memory;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t kb = -1;
    fields >> key >> kb;
    if (key == "VmRSS:") memory.rss_kb = kb;
    if (key == "VmHWM:") memory.hwm_kb = kb;
  }
  return memory;
}

}  // namespace ft::load
