#!/usr/bin/env bash
# Configures and builds everything into build/ (executables in build/bin), the tests included
# unless FT_BUILD_TESTS=OFF (scripts/demo.sh: running ftd needs no GoogleTest).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
# ccache hashes paths relative to the checkout, so a fresh clone elsewhere (CI) still hits.
export CCACHE_BASEDIR="$PWD"
# -g would otherwise hash the build folder too, and every other checkout would miss.
export CCACHE_NOHASHDIR=1
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DFT_BUILD_TESTS="${FT_BUILD_TESTS:-ON}" >/dev/null
# Two jobs: each LibTorch translation unit needs ~2 GB and 30-45 s.
cmake --build "$BUILD_DIR" -j "${JOBS:-2}"
