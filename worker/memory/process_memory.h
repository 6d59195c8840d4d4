// This process's memory as Linux reports it, for the auto micro-batch probe (auto_micro_batch.h).
// Standard library + Linux /proc only.
#pragma once

#include <cstdint>
#include <optional>

namespace ft::train {

// MemAvailable from /proc/meminfo, in bytes; nullopt when unreadable.
std::optional<uint64_t> MemAvailableBytes();

// VmRSS / VmHWM (peak RSS) from /proc/self/status, in bytes; nullopt when unreadable.
std::optional<uint64_t> CurrentRssBytes();
std::optional<uint64_t> PeakRssBytes();

// Resets VmHWM to the current RSS by writing "5" to /proc/self/clear_refs (Linux >= 4.0).
// False where that is not allowed; the peak then only ever grows.
bool ResetPeakRss();

// Hands free heap memory back to the kernel (glibc's malloc_trim), so that RSS measures memory in
// use rather than what earlier work left in the heap. No-op on other C libraries.
void TrimHeap();

}  // namespace ft::train
