#!/usr/bin/env bash
# Compiles the gang's NCCL path (worker/distributed/gang.cc and nccl_group.cc with FT_WITH_NCCL)
# against Debian's LibTorch 1.13 headers and the CUDA toolkit's (nccl.h among them). Compile
# only: Debian's LibTorch has no CUDA libraries, so nothing here can link or run it; the GPU host
# does (tests/gpu/run.sh, SECTIONS=nccl). Not in CI. Exit 77 (skipped) without nccl.h.
set -euo pipefail
cd "$(dirname "$0")/.."
CUDA=${CUDA_HOME:-/usr/local/cuda}
TORCH_API=/usr/include/torch/csrc/api/include
if [ ! -f "$CUDA/include/nccl.h" ] || [ ! -f "$CUDA/include/cuda_runtime_api.h" ]; then
  echo "skipped: no nccl.h and cuda_runtime_api.h under $CUDA/include (CUDA_HOME)"
  exit 77
fi
if [ ! -f /usr/include/torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp ]; then
  echo "skipped: no ProcessGroupNCCL.hpp in /usr/include (libtorch-dev)"
  exit 77
fi
echo "NCCL $(awk '/define NCCL_(MAJOR|MINOR|PATCH) /{printf "%s%s", sep, $3; sep="."}' \
  "$CUDA/include/nccl.h") ($CUDA/include/nccl.h), CUDA $(awk '/define CUDART_VERSION/{print $3}' \
  "$CUDA/include/cuda_runtime_api.h")"
# Debian's CPU build of LibTorch ships c10/cuda's headers without the file that a CUDA build
# generates, c10/cuda/impl/cuda_cmake_macros.h (it only defines C10_CUDA_BUILD_SHARED_LIBS, which
# matters for Windows exports). C10_CUDA_NO_CMAKE_CONFIGURE_FILE is c10's own switch to go
# without it (ROCm builds use it).
flags=(-std=c++17 -fsyntax-only -Wall -Wextra -I. -I"$TORCH_API" -I"$CUDA/include"
  -DFT_WITH_NCCL=1 -DUSE_C10D_NCCL -DFT_WITH_GLOO=1 -DUSE_C10D_GLOO
  -DC10_CUDA_NO_CMAKE_CONFIGURE_FILE)
for file in worker/distributed/gang.cc worker/distributed/nccl_group.cc; do
  start=$(date +%s)
  "${CXX:-c++}" "${flags[@]}" "$file"
  echo "compiled $file with FT_WITH_NCCL in $(( $(date +%s) - start )) s"
done
