#!/usr/bin/env bash
# On the GPU host: builds the training core against python3's LibTorch (2.x, CUDA) and runs
# gpu_check on BLOOM-560m's shape with the carried IMDB reviews (SECTIONS picks which; the speed
# section also runs hf_speed.py, its PyTorch baseline). Output: $OUT/{configure,build,run}.log
set -u
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader
PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
GENERATOR=$(command -v ninja >/dev/null && echo Ninja || echo "Unix Makefiles")
# nccl.h and CUDA's runtime headers for c10d's NCCL backend (worker/CMakeLists.txt): the pip
# wheels' (site-packages/nvidia/*/include), else the CUDA toolkit's.
NCCL_FLAGS=$(python3 -c '
import glob, os, torch
packages = os.path.dirname(os.path.dirname(torch.__file__))
wanted = (("FT_NCCL_INCLUDE_DIR", "nccl.h"), ("FT_CUDA_INCLUDE_DIR", "cuda_runtime_api.h"))
for flag, name in wanted:
    found = sorted(glob.glob(packages + "/nvidia/**/include/" + name, recursive=True)) + \
        sorted(glob.glob("/usr/local/cuda*/include/" + name))
    if found:
        print("-D%s=%s" % (flag, os.path.dirname(found[0])))
')
echo "NCCL headers: ${NCCL_FLAGS:-none found}"
start=$(date +%s)
ICU=$PWD/../../build-gpu/deps/icu
export LD_LIBRARY_PATH=$ICU/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cmake -S . -B /tmp/ft-gpu-build -G "$GENERATOR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$PREFIX;$PWD/../../build-gpu/deps" -DICU_INCLUDE_DIR="$ICU/include" \
  -DICU_UC_LIBRARY_RELEASE="$ICU/lib/libicuuc.so.72" \
  -DICU_I18N_LIBRARY_RELEASE="$ICU/lib/libicui18n.so.72" \
  -DICU_DATA_LIBRARY_RELEASE="$ICU/lib/libicudata.so.72" $NCCL_FLAGS > "$OUT/configure.log" 2>&1 ||
  { tail -40 "$OUT/configure.log"; exit 2; }
grep "c10d NCCL backend" "$OUT/configure.log"
cmake --build /tmp/ft-gpu-build -j 16 --target gpu_check nccl_check > "$OUT/build.log" 2>&1 ||
  { grep -m 20 -B2 -A6 "error" "$OUT/build.log" | head -80; exit 3; }
echo "built in $(( $(date +%s) - start )) s"
c++ --version | head -1; ldd /tmp/ft-gpu-build/gpu_check | grep -i "stdc\|libgcc"
python3 -c 'import torch,glob,os;print(glob.glob(os.path.dirname(torch.__file__)+"/lib/libstdc*"))'
rm -rf /tmp/ft-gpu-check
BINARY=$(ls /tmp/ft-gpu-build/bin/gpu_check /tmp/ft-gpu-build/gpu_check 2>/dev/null | head -1)
DATA="$PWD/../../build-gpu/data/imdb_small_2000.csv"
: > "$OUT/run.log"
# One process per memory configuration: the GPU memory a process holds after its job is the job's
# peak (the caching allocator keeps it).
# lora:MODEL sections (e.g. lora:llama-13b) run only when named; give them SECTION_SECONDS=300.
# nccl: the gang's c10d backends (nccl_check.cc), a few seconds.
SECTIONS=${SECTIONS:-nccl memory:1x1 memory:1x32 memory:32x1 memory:1x32-ckpt memory:32x1-ckpt
  precision long speed}
for section in $SECTIONS; do
  if [ "$section" = nccl ]; then
    timeout 60 "$(dirname "$BINARY")/nccl_check" >> "$OUT/run.log" 2>&1
    echo "nccl: exit $?"
    continue
  fi
  timeout "${SECTION_SECONDS:-100}" "$BINARY" /tmp/ft-gpu-check "$DATA" "${MODEL:-scratch:bloom-560m}" \
    "$section" >> "$OUT/run.log" 2>&1
  echo "$section: exit $?"
done
# The speed section's baseline: Hugging Face's BLOOM in PyTorch with the tokenizer.json the job
# wrote (same token ids), same data and batch shapes.
if [[ " $SECTIONS " == *" speed "* ]]; then
  for precision in fp32 bf16; do
    timeout "${SECTION_SECONDS:-100}" python3 hf_speed.py "$DATA" \
      /tmp/ft-gpu-check/speed-fp32/tokenizer.json --precision $precision >> "$OUT/run.log" 2>&1
    echo "hf_speed $precision: exit $?"
  done
fi
grep "^####\|^|\|FAILED\|warning" "$OUT/run.log" | head -60
tail -25 "$OUT/run.log"
# Crash addresses (no debugger on the GPU host): function and line of each executable frame.
grep -o "gpu_check(+0x[0-9a-f]*)" "$OUT/run.log" | grep -o "0x[0-9a-f]*" |
  xargs -r addr2line -f -C -e "$BINARY" 2>/dev/null | head -40
grep "^CRASHAT" "$OUT/run.log" | while read -r _ offset file; do
  echo "$file $offset:"; addr2line -f -C -e "$file" "$offset" 2>/dev/null
done
