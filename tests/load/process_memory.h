// Load test: a process' resident memory from /proc/PID/status.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ft::load {

struct ProcessMemory {
  int64_t rss_kb = -1;  // VmRSS: resident now
  int64_t hwm_kb = -1;  // VmHWM: the peak resident size so far
};

// -1 fields when the process or the line is missing.
ProcessMemory ReadProcessMemory(pid_t pid);

}  // namespace ft::load
