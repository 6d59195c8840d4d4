#!/usr/bin/env bash
# Here (not on the GPU host): copies the header-only nlohmann_json and ICU that the GPU image lacks, and the
# IMDB reviews the check trains on, into build-gpu/ (ignored), for the device tool to carry.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build-gpu/deps/include build-gpu/deps/share/cmake build-gpu/data
cp -r /usr/include/nlohmann build-gpu/deps/include/
cp -r /usr/share/cmake/nlohmann_json build-gpu/deps/share/cmake/
cp ../shared/data/imdb/imdb_small_2000.csv build-gpu/data/
# ICU (the tokenizers' Unicode data), which the GPU image lacks: headers and the runtime libraries
# under their sonames (run.sh names them to CMake and puts them on LD_LIBRARY_PATH).
mkdir -p build-gpu/deps/icu/lib build-gpu/deps/icu/include
cp -r /usr/include/unicode build-gpu/deps/icu/include/
for lib in uc i18n data; do cp -L /usr/lib/x86_64-linux-gnu/libicu$lib.so.72 build-gpu/deps/icu/lib/; done
echo "carry build-gpu/deps and build-gpu/data, then run: OUT=\$OUT bash tests/gpu/run.sh"
