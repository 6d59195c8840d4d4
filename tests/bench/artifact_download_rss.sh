#!/bin/sh
# ftd's resident memory while it streams one large artifact (issue 18): the CI test
# tests/integration/artifact_memory_test.cc on a 2 GiB sparse file instead of 512 MiB. Prints the
# MiB streamed, the time and throughput over loopback, and ftd's RSS before and its peak growth.
# Usage: sh tests/bench/artifact_download_rss.sh [BUILD_DIR] [BYTES]   (about 10 s)
set -eu
build=${1:-build}
bytes=${2:-2147483648}
echo "machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1 /proc/loadavg)"
echo "command: FT_ARTIFACT_TEST_BYTES=$bytes FT_BIN_DIR=$build/bin" \
  "$build/tests/artifact_memory_test"
FT_ARTIFACT_TEST_BYTES=$bytes FT_BIN_DIR=$build/bin "$build/tests/artifact_memory_test" |
  grep -E "streamed|PASSED|FAILED"
