#!/usr/bin/env bash
# ASan+UBSan over the daemon's and the client's code: builds the non-Torch targets (ftd, ftctl,
# their libraries and unit tests; FT_BUILD_WORKER=OFF) into build-asan/ and runs their unit tests
# there. Any sanitizer report fails the test that triggered it. Separate from build/ and not part
# of CI (it compiles everything a second time).
#   bash scripts/sanitize.sh            # configure, build, ctest -L unit
#   JOBS=4 bash scripts/sanitize.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${SANITIZE_DIR:-build-asan}
export CCACHE_BASEDIR="$PWD"
cmake -S . -B "$OUT" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_SANITIZE=ON \
  -DFT_BUILD_WORKER=OFF >/dev/null
cmake --build "$OUT" -j "${JOBS:-2}"
# halt_on_error: the first report fails the test; detect_leaks off: gRPC's and protobuf's
# process-lifetime singletons (not instrumented) would be reported as leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
cd "$OUT" && ctest -L unit -j "${JOBS:-2}" --output-on-failure
