#!/usr/bin/env bash
# On the GPU host: builds the training core against python3's LibTorch and runs gpu_check
# (BLOOM-560m shape, 2,048 tokens: micro-batch 16 does not fit an 80 GB GPU).
set -u
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader
TORCH_DIR=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
if ! grep -q "set_autocast_gpu_dtype" "$TORCH_DIR/include/ATen/autocast_mode.h"; then
  echo "autocast: this LibTorch has only the device-type API; using tests/gpu/autocast_scope_torch2.h"
  cp autocast_scope_torch2.h ../../worker/train/autocast_scope.h
fi
start=$(date +%s)
cmake -S . -B /tmp/ft-gpu-build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX;$PWD/../../build-gpu/deps" > "$OUT/configure.log" 2>&1 ||
  { tail -40 "$OUT/configure.log"; exit 2; }
cmake --build /tmp/ft-gpu-build -j 16 --target gpu_check > "$OUT/build.log" 2>&1 ||
  { grep -m 20 -B2 -A6 "error" "$OUT/build.log" | head -80; exit 3; }
echo "built in $(( $(date +%s) - start )) s"
/tmp/ft-gpu-build/bin/gpu_check /tmp/ft-gpu-check "${MODEL:-scratch:bloom-560m}" "${SEQ:-2048}" 2>&1 |
  tee "$OUT/run.log" | cut -c1-1500
