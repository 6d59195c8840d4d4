// OpenMP's waiting policy, which libgomp reads once, when it is loaded: before main() runs.
#pragma once

#include <string>

namespace ft::worker {

// LibTorch's OpenMP threads spin between parallel regions by default, against OpenBLAS's own
// threads: a whole 2-thread job took 66 s instead of 34 s (tests/bench/README.md). When
// OMP_WAIT_POLICY is unset, this sets it to PASSIVE and re-executes the binary with the same
// arguments, so that libgomp loads with it; a value the user set is kept. Returns only when no
// re-execution was needed or it failed (then with a warning on stderr: the run is slower, not
// wrong).
void ReexecWithPassiveOpenMpWait(char** argv);

// OMP_WAIT_POLICY as this process image started with it (what libgomp read), "" when unset.
std::string OpenMpWaitPolicyAtLoad();

}  // namespace ft::worker
