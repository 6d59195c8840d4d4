#!/usr/bin/env bash
# On the GPU host, with build-gpu/service.tar.xz (prepare_service.sh made it here; unpacked into
# build-gpu/ftsvc unless there already): builds ftworker's daemon mode against python3's LibTorch
# and the carried prefix, starts the carried ftd with one local worker, and drives it with the
# carried ftctl:
#   SECTION=service  a short bloom-560m bf16 job on CUDA, watched to the end; /metrics scraped for
#                    the device-memory gauges
#   SECTION=seed     the seed's whole experiment as one `ftctl submit` (IMDB 35,000 train, effective
#                    batch 16, bloom-560m, one epoch, validation and test), time-boxed
# SECTION="service seed" (the default) runs both. One line per step; files in $OUT (at most 8):
# configure.log build.log ftd.log worker.log metrics.txt service-result.json seed-result.json
# summary.txt. FT_GPU_DRY_RUN=1: the same steps on the CPU with a tiny model and few reviews
# (FT_PYTHON=/usr/bin/python3 for Debian's LibTorch); tests/gpu/README.md.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${OUT:-/tmp/out}
SVC=${FT_SVC:-$ROOT/build-gpu/ftsvc}
PREFIX=$SVC/prefix
LIBS=$PREFIX/lib/x86_64-linux-gnu
BUILD=${FT_SVC_BUILD:-/tmp/ft-svc-build}
HOME_DIR=${FT_SVC_HOME:-/tmp/ft-svc-home}
PYTHON=${FT_PYTHON:-python3}
DRY=${FT_GPU_DRY_RUN:-0}
SECTION=${SECTION:-service seed}
# Seconds this whole script may take (the device tool's limit per command is 600): the seed gets
# what the build and the service section leave.
BUDGET=${FT_SVC_BUDGET_S:-570}
START=$(date +%s)
mkdir -p "$OUT"
: > "$OUT/summary.txt"

say() { echo "$*" | tee -a "$OUT/summary.txt"; }
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( BUDGET - $(elapsed) )); }
fail() { say "FAIL [$(elapsed) s] $*"; exit 1; }

ARCHIVE=${FT_SVC_ARCHIVE:-$ROOT/build-gpu/service.tar.xz}
if [[ ! -x $SVC/bin/ftd ]]; then
  [[ -f $ARCHIVE ]] || fail "unpack: neither $SVC nor $ARCHIVE (prepare_service.sh makes it)"
  mkdir -p "$(dirname "$SVC")"
  # tar needs xz(1), which an image may lack; Python's tarfile reads .xz itself.
  tar -xJf "$ARCHIVE" -C "$(dirname "$SVC")" 2>/dev/null ||
    "$PYTHON" -c 'import sys, tarfile
tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter="tar")' "$ARCHIVE" "$(dirname "$SVC")" ||
      fail "unpack: $ARCHIVE"
  [[ -x $SVC/bin/ftd ]] || fail "unpack: $ARCHIVE holds no ftsvc/bin/ftd"
  say "ok   [$(elapsed) s] unpacked $(basename "$ARCHIVE") into $(dirname "$SVC")"
fi
export CMAKE_POLICY_VERSION_MINIMUM=3.5  # CMake 4 refuses Debian's older package files otherwise

say "== host $(uname -m), $(ldd --version | head -1), $(cmake --version | head -1)," \
  "$(c++ --version | head -1)"
if [[ $DRY != 1 ]]; then
  nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader |
    tee -a "$OUT/summary.txt"
fi
TORCH_INFO=$("$PYTHON" -c 'import torch
print(torch.utils.cmake_prefix_path, torch.__version__, torch.version.cuda,
      torch.cuda.is_available(), int(torch._C._GLIBCXX_USE_CXX11_ABI))') ||
  fail "python: $PYTHON cannot import torch"
read -r TORCH_CMAKE TORCH_VERSION TORCH_CUDA CUDA_OK TORCH_ABI <<< "$TORCH_INFO"
say "== torch $TORCH_VERSION cuda $TORCH_CUDA available $CUDA_OK cxx11-abi $TORCH_ABI"
# Debian's gRPC, protobuf and abseil take std::string in the C++11 ABI; a LibTorch of the old ABI
# would compile ftworker with _GLIBCXX_USE_CXX11_ABI=0 and fail to link against them.
[[ $TORCH_ABI == 1 ]] || fail "torch: built with the pre-C++11 ABI, cannot link the carried gRPC"
[[ $DRY == 1 || $CUDA_OK == True ]] || fail "torch: CUDA not available"
grep -A1 "highest glibc" "$SVC/MANIFEST.txt" | tail -1 | sed 's/^/   carried objects need /'

# The carried ftd and ftctl must load from the prefix alone (the host has no gRPC or abseil).
for binary in ftd ftctl; do
  missing=$(LD_LIBRARY_PATH=$LIBS ldd "$SVC/bin/$binary" | grep "not found")
  [[ -z $missing ]] || fail "ldd $binary: $missing"
done
say "ok   [$(elapsed) s] ftd and ftctl load with LD_LIBRARY_PATH=prefix"

# --- configure: the prefix first, so that nothing of the host's /usr shadows a carried package.
GENERATOR=$(command -v ninja >/dev/null && echo Ninja || echo "Unix Makefiles")
# The H200 host's shared libstdc++ broke std::filesystem calls of gpu_check (README.md there).
STATIC_CXX=${FT_SVC_STATIC_LIBSTDCXX:-1}
LINK_FLAGS="-Wl,-rpath-link,$LIBS"
[[ $STATIC_CXX == 1 ]] && LINK_FLAGS="$LINK_FLAGS -static-libstdc++ -static-libgcc"
# Debian 12's package headers were written against GCC 12's, which pulled in <cstdint> along the
# way; GCC 13 and later no longer do.
CXX_FLAGS=""
(( $(c++ -dumpversion | cut -d. -f1) >= 13 )) 2>/dev/null && CXX_FLAGS="-include cstdint"
timeout 300 cmake -S . -B "$BUILD" -G "$GENERATOR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFT_WORKER_ONLY=ON -DFT_BUILD_TESTS=OFF -DFT_PROTO_GENERATED_DIR="$SVC/gen" \
  -DCMAKE_PREFIX_PATH="$PREFIX;$TORCH_CMAKE" -DCMAKE_LIBRARY_PATH="$LIBS" \
  -DCMAKE_INCLUDE_PATH="$PREFIX/include" -DCMAKE_EXE_LINKER_FLAGS="$LINK_FLAGS" \
  -DCMAKE_CXX_FLAGS="$CXX_FLAGS" \
  > "$OUT/configure.log" 2>&1 || { tail -30 "$OUT/configure.log"; fail "configure"; }
# Every package but Torch must come from the prefix: list where each resolved.
pkgs='gRPC|absl|Protobuf|protobuf|spdlog|fmt|CLI11|nlohmann_json|ICU|CURL|OPENSSL|ZLIB|c-ares|re2'
resolved=$(grep -E "^($pkgs)[A-Za-z0-9_]*:(PATH|FILEPATH)=" "$BUILD/CMakeCache.txt" |
  grep -v -E 'PROTOC|NOTFOUND|=$')
echo "$resolved" | sed "s|$PREFIX|<prefix>|" >> "$OUT/configure.log"
outside=$(echo "$resolved" | grep -v "=$PREFIX" | grep -v -E '_(EXECUTABLE|DERIVED_INCLUDE_DIR)')
[[ -z $outside ]] || { echo "$outside"; fail "configure: the paths above are outside the prefix"; }
say "ok   [$(elapsed) s] configure: $(echo "$resolved" | wc -l) package paths, all in the prefix"

# --- build ftworker only (its Torch files dominate; 16 cores on the host).
timeout "${FT_SVC_BUILD_S:-420}" nice cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" \
  --target ftworker > "$OUT/build.log" 2>&1 ||
  { grep -m 10 -B2 -A6 "error\|Error" "$OUT/build.log" | head -60; fail "build (log: build.log)"; }
WORKER=$BUILD/bin/ftworker
say "ok   [$(elapsed) s] build ftworker ($(du -m "$WORKER" | cut -f1) MB)"
# Headers the build took from the host's /usr/include (its libc, compiler and perhaps Torch), by
# folder; one that the prefix also holds would be a carried package shadowed by the host's.
if [[ $GENERATOR == Ninja ]]; then
  used=$(ninja -C "$BUILD" -t deps | grep -o '^ *\S*' | grep '^ */usr/include/' | sort -u)
  shadowed=$(for header in $used; do
    [[ -e $PREFIX/include/${header#/usr/include/} ]] && echo "$header"; done | head -5)
  echo "$used" | sed -E 's|^ */usr/include/([^/]*).*|\1|' | sort | uniq -c | sort -rn |
    head -12 | awk '{printf "%s(%s) ", $2, $1}' | sed 's/^/     headers from the host: /'; echo
  [[ -z $shadowed ]] || fail "build: carried headers shadowed by the host's: $shadowed"
fi

# --- ftd up, one local worker (the ftworker just built; it inherits ftd's environment).
rm -rf "$HOME_DIR"; mkdir -p "$HOME_DIR"
DATA=$SVC/data/imdb
# The prefix's libraries for ftd, ftctl and (inherited from ftd) ftworker only: Python and the
# host's tools keep their own.
WITH_PREFIX=(env "LD_LIBRARY_PATH=$LIBS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
"${WITH_PREFIX[@]}" "$SVC/bin/ftd" --home "$HOME_DIR" --listen 127.0.0.1:0 \
  --metrics-listen 127.0.0.1:0 \
  --port-file "$HOME_DIR/ports" --local-workers 1 --worker-binary "$WORKER" \
  --insecure-no-auth --data-root "$SVC/data" > "$OUT/ftd.log" 2>&1 &
FTD_PID=$!
finish() {
  kill "$FTD_PID" 2>/dev/null; wait "$FTD_PID" 2>/dev/null
  cat "$HOME_DIR"/workers/*.log > "$OUT/worker.log" 2>/dev/null
  # Crash frames of ftworker (no debugger on the host): function and line.
  grep -o "ftworker(+0x[0-9a-f]*)" "$OUT/worker.log" 2>/dev/null | grep -o "0x[0-9a-f]*" |
    head -20 | xargs -r addr2line -f -C -e "$WORKER" 2>/dev/null
}
trap finish EXIT
for _ in $(seq 60); do [[ -s $HOME_DIR/ports ]] && break; sleep 0.5; done
[[ -s $HOME_DIR/ports ]] || { tail -20 "$OUT/ftd.log"; fail "ftd up: no port file in 30 s"; }
read -r API_PORT METRICS_PORT _ < "$HOME_DIR/ports"
export FTD_SERVER=127.0.0.1:$API_PORT
ftctl() { "${WITH_PREFIX[@]}" "$SVC/bin/ftctl" "$@"; }
say "ok   [$(elapsed) s] ftd up (api $API_PORT, metrics $METRICS_PORT, 1 local worker)"

scrape() {
  "$PYTHON" -c "import urllib.request,sys
sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$METRICS_PORT/metrics').read().decode())"
}

# Submits a JobSpec (JSON), watches it to its end within $2 seconds, keeps result.json as $3.
# Sets JOB.
run_job() {
  local spec=$1 seconds=$2 result=$3 state
  echo "$spec" > "$HOME_DIR/$result.spec.json"
  JOB=$(ftctl submit -f "$HOME_DIR/$result.spec.json") || fail "submit $result: $JOB"
  JOB=$(echo "$JOB" | tail -1 | awk '{print $NF}')
  say "ok   [$(elapsed) s] submitted $JOB ($result)"
  timeout "$seconds" "${WITH_PREFIX[@]}" "$SVC/bin/ftctl" watch "$JOB" \
    > "$HOME_DIR/$result.watch.log" 2>&1
  state=$(ftctl get "$JOB" -o json |
    "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["state"])')
  # Progress streamed back: the events watch printed, and the last few of them.
  say "     $(grep -c -i "loss" "$HOME_DIR/$result.watch.log") progress lines streamed; last:"
  grep -i "loss\|acc" "$HOME_DIR/$result.watch.log" | tail -3 | cut -c1-160 |
    tee -a "$OUT/summary.txt"
  cp "$HOME_DIR/jobs/$JOB/result.json" "$OUT/$result" 2>/dev/null
  [[ $state == *SUCCEEDED* ]] || { tail -5 "$HOME_DIR/$result.watch.log"; return 1; }
}

# The figures of a result.json worth a line.
result_line() {
  "$PYTHON" - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def get(path):
    value = r
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value
fields = ["runtime.device", "spec.precision", "steps", "samples_seen", "tokens_seen",
          "metrics.validation.accuracy", "metrics.test.accuracy", "timing.train_seconds",
          "timing.eval_seconds", "timing.total_seconds", "timing.train_samples_per_second"]
def name(field):
    return field.split(".")[-1] if field.startswith("timing") else field.replace("metrics.", "")
print(" ".join(f"{name(f)}={round(v, 4) if isinstance(v, float) else v}"
               for f in fields if (v := get(f)) is not None))
EOF
}

if [[ " $SECTION " == *" service "* ]]; then
  if [[ $DRY == 1 ]]; then
    MODEL=scratch:bloom-tiny PRECISION=fp32 STEPS=6 EVAL=32 LEN=64
  else
    MODEL=scratch:bloom-560m PRECISION=bf16 STEPS=25 EVAL=200 LEN=256
  fi
  spec=$(cat <<EOF
{"model": "$MODEL", "display_name": "service check",
 "dataset": {"train": "$DATA/train.csv", "validation": "$DATA/val.csv"},
 "micro_batch_size": 8, "accumulation_steps": 2, "epochs": 1, "max_steps": $STEPS,
 "max_eval_examples": $EVAL, "precision": "$PRECISION", "max_seq_length": $LEN,
 "learning_rate": 5e-5, "seed": 1, "log_every_steps": 5}
EOF
)
  run_job "$spec" 240 service-result.json || fail "service job $JOB did not succeed"
  say "ok   [$(elapsed) s] job SUCCEEDED: $(result_line "$OUT/service-result.json")"
  device=$("$PYTHON" -c 'import json, sys
print(json.load(open(sys.argv[1])).get("runtime", {}).get("device", "?"))' \
    "$OUT/service-result.json")
  [[ $DRY == 1 || $device == cuda* ]] || fail "service job trained on $device, not CUDA"
  scrape > "$OUT/metrics.txt" || fail "metrics: no answer on $METRICS_PORT"
  gauges=$(grep -E "^ft_job_device_memory(_peak)?_bytes" "$OUT/metrics.txt")
  [[ -n $gauges ]] || fail "metrics: no ft_job_device_memory_bytes series (metrics.txt)"
  say "ok   [$(elapsed) s] metrics ok: $(echo "$gauges" | sed 's/{[^}]*}//' | tr '\n' ' ')"
  if [[ $DRY != 1 ]] && ! echo "$gauges" | awk '$2 > 0 {found=1} END {exit !found}'; then
    fail "metrics: the device-memory gauges are all 0 on CUDA"
  fi
fi

if [[ " $SECTION " == *" seed "* ]]; then
  if [[ $DRY == 1 ]]; then
    MODEL=scratch:bloom-tiny PRECISION=fp32 MICRO=8 ACCUM=2 LEN=64 LIMIT='"max_steps": 4,
 "max_eval_examples": 32,'
  else
    MODEL=scratch:bloom-560m PRECISION=bf16 MICRO=${SEED_MICRO:-16} LEN=${SEED_MAX_LEN:-512}
    ACCUM=$(( 16 / MICRO )) LIMIT=""
  fi
  spec=$(cat <<EOF
{"model": "$MODEL", "display_name": "seed experiment",
 "dataset": {"train": "$DATA/train.csv", "validation": "$DATA/val.csv", "test": "$DATA/test.csv"},
 "micro_batch_size": $MICRO, "accumulation_steps": $ACCUM, "epochs": 1, $LIMIT
 "precision": "$PRECISION", "max_seq_length": $LEN, "learning_rate": 5e-5, "seed": 1,
 "log_every_steps": 50, "checkpoint_every_steps": 1000000}
EOF
)
  seconds=$(left)
  (( seconds > 30 )) || fail "seed: only $seconds s of the budget left (SECTION=seed alone)"
  seed_start=$(date +%s)
  if run_job "$spec" "$seconds" seed-result.json; then
    say "ok   [$(elapsed) s] seed SUCCEEDED in $(( $(date +%s) - seed_start )) s wall:" \
      "$(result_line "$OUT/seed-result.json")"
  else
    # Cut off by the budget: how far it got and the job's own estimate of the rest.
    ftctl get "$JOB" -o json > "$OUT/seed-result.json" 2>/dev/null
    say "seed not finished after $(( $(date +%s) - seed_start )) s; its last progress:"
    "$PYTHON" -c 'import json,sys
j=json.load(open(sys.argv[1])); p=j.get("progress", {})
print({k: p[k] for k in list(p)[:14]})' "$OUT/seed-result.json" | cut -c1-600 |
      tee -a "$OUT/summary.txt"
    fail "seed: job $JOB not SUCCEEDED within the budget"
  fi
fi
say "done [$(elapsed) s]"
