#include "worker/train/compute_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace ft::train {
namespace {

// OpenBLAS is found at run time: Debian's LibTorch links the generic libblas.so.3, which the
// system may point at OpenBLAS or at another implementation.
template <typename Function>
Function OpenBlas(const char* name) {
  return reinterpret_cast<Function>(dlsym(RTLD_DEFAULT, name));
}

}  // namespace

int BlasThreads() {
  const auto get = OpenBlas<int (*)()>("openblas_get_num_threads");
  return get != nullptr ? get() : 0;
}

void SetBlasThreads(int threads) {
  if (const auto set = OpenBlas<void (*)(int)>("openblas_set_num_threads")) set(threads);
}

void SetComputeThreads(int threads) {
  at::set_num_threads(threads);
  SetBlasThreads(threads);
}

}  // namespace ft::train
