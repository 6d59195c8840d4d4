#include "train/compute_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace ft::train {

void SetComputeThreads(int threads) {
  at::set_num_threads(threads);
  // OpenBLAS is found at run time, so other BLAS builds simply keep their own setting.
  using SetBlasThreads = void (*)(int);
  if (auto set =
          reinterpret_cast<SetBlasThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set(threads);
  }
}

}  // namespace ft::train
