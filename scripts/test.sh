#!/usr/bin/env bash
# One command from a fresh Debian 12 (as root): install, build, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd "${BUILD_DIR:-build}"
# Tests start daemons on loopback ports; each test has its own timeout (<= 120 s).
ctest --output-on-failure --timeout 120 -j "${TEST_JOBS:-2}"
