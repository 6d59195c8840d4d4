#!/usr/bin/env bash
# Here (not on the GPU host): copies the header-only nlohmann_json the GPU image lacks, and the
# IMDB reviews the check trains on, into build-gpu/ (ignored), for the device tool to carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build-gpu/deps/include build-gpu/deps/share/cmake build-gpu/data
cp -r /usr/include/nlohmann build-gpu/deps/include/
cp -r /usr/share/cmake/nlohmann_json build-gpu/deps/share/cmake/
cp ../shared/data/imdb/imdb_small_2000.csv build-gpu/data/
echo "carry build-gpu, then run: OUT=\$OUT bash tests/gpu/run.sh"
