#!/usr/bin/env bash
# Here (not on the GPU host): copies the header-only nlohmann_json the GPU image lacks into
# build-gpu/deps, for `run` to carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build-gpu/deps/include build-gpu/deps/share/cmake
cp -r /usr/include/nlohmann build-gpu/deps/include/
cp -r /usr/share/cmake/nlohmann_json build-gpu/deps/share/cmake/
echo "carry build-gpu, then run: OUT=\$OUT bash tests/gpu/run.sh"
