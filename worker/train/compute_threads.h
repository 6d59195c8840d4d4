// The number of threads the CPU math runs on, set in every library that keeps its own count.
#pragma once

namespace ft::train {

// Sets LibTorch's intra-op threads and, when the process runs OpenBLAS, OpenBLAS's own pool.
// LibTorch's setting does not reach the BLAS library, which otherwise keeps one thread per core:
// a "1-thread" worker kept ~1.9 cores busy (tests/bench/README.md). The two counts are also
// process-wide state that changes how a matrix product is split and so how float32 rounds:
// code (and tests) that need a reproducible result set both, here.
void SetComputeThreads(int threads);

// OpenBLAS's own count alone; 0 and nothing done where the process has no OpenBLAS (another BLAS
// keeps its own setting).
int BlasThreads();
void SetBlasThreads(int threads);

}  // namespace ft::train
