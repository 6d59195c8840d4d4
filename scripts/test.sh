#!/usr/bin/env bash
# One command from a fresh Debian 12 (as root): install (what ftd needs, then the tests' own
# tools), build with the tests, run every test, then the sanitizer and fuzz stages
# (docs/testing.md), then clang's thread safety analysis. Each stage prints its wall time.
#   FT_SANITIZERS=0 bash scripts/test.sh     # without the sanitizer and fuzz stages
#   FT_THREAD_SAFETY=0 bash scripts/test.sh  # without the thread safety analysis
set -euo pipefail
cd "$(dirname "$0")/.."
timed() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "=== stage $name: $((SECONDS - start)) s"
}
timed install-deps bash scripts/install-deps.sh
timed install-test-deps bash scripts/install-test-deps.sh
timed build env FT_BUILD_TESTS=ON bash scripts/build.sh
# Tests start daemons on loopback ports; each test has its own timeout (<= 120 s).
timed tests bash -c "cd '${BUILD_DIR:-build}' && ctest --output-on-failure --timeout 120 -j '${TEST_JOBS:-2}'"
# A run that spent over FT_SANITIZE_AFTER_S (default 30 min) getting here had a cold ccache (the
# normal build alone takes ~25 min from scratch on 2 cores): the sanitizer builds, also cold,
# would not fit in CI's 85 min. Say so loudly and skip them; the next run, with the normal build
# cached, runs them (and caches them).
if [ "${FT_SANITIZERS:-1}" != 0 ] && [ "$SECONDS" -gt "${FT_SANITIZE_AFTER_S:-1800}" ]; then
  echo "=== SKIPPED the asan, tsan and fuzz stages: ${SECONDS} s spent before them (cold ccache?)"
elif [ "${FT_SANITIZERS:-1}" != 0 ]; then
  # ASan+UBSan over ftd and ftctl (unit and integration tests; the integration tests use the
  # normal build's ftworker), TSan over the threaded server logic, then each fuzz target from
  # its seeds.
  FT_WORKER_BINARY="$(cd "${BUILD_DIR:-build}" && pwd)/bin/ftworker" timed asan bash scripts/sanitize.sh asan
  timed tsan bash scripts/sanitize.sh tsan
  SECONDS_PER_TARGET=${FUZZ_SECONDS:-15} timed fuzz bash scripts/fuzz.sh
fi
# Clang's thread safety analysis of the abseil lock annotations, -fsyntax-only over the annotated
# translation units without Torch (2-4 min on a busy 2-core machine, the same with a cold or warm
# ccache: nothing is cached). After the sanitizer decision, so that it never pushes them out.
if [ "${FT_THREAD_SAFETY:-1}" != 0 ]; then
  JOBS=${JOBS:-2} BUILD_DIR=${BUILD_DIR:-build} timed thread-safety bash scripts/thread_safety.sh
fi
