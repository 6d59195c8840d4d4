#!/usr/bin/env bash
# Sanitizer stages (scripts/test.sh runs both after the normal tests; each also runs by hand):
#   asan  ASan+UBSan over ftd, ftctl and their libraries (no Torch: FT_BUILD_WORKER=OFF), built
#         into build-asan/: the unit tests, and the integration tests, which start the sanitized
#         bin/ftd and bin/ftctl with the normal build's ftworker (FT_WORKER_BINARY, default
#         build/bin/ftworker; without it only the unit tests run).
#   tsan  TSan over our own threaded logic (event hub, job manager and leases, store with its
#         group commit and checkpointer, token reload, watcher limits, worker pool, cancel
#         token, ftworker's lease reporter and loop, webhook delivery, gangs, the console's event
#         stream), built into build-tsan/: only those unit tests.
#         absl::Mutex is made visible to TSan by tests/support/tsan_absl_mutex.cc;
#         tests/tsan_suppressions.txt names the uninstrumented libraries.
# Any sanitizer report fails the test that triggered it.
#   bash scripts/sanitize.sh            # asan, then tsan
#   bash scripts/sanitize.sh tsan
#   JOBS=4 bash scripts/sanitize.sh asan
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
JOBS=${JOBS:-2}
STAGES=("$@")
[ ${#STAGES[@]} -gt 0 ] || STAGES=(asan tsan)

# The threaded logic libraries' tests (tests/unit/server, tests/unit/client,
# tests/unit/worker/daemon).
TSAN_TESTS=(concurrency_test event_hub_test job_manager_test store_test auth_test
            housekeeping_test worker_pool_test submit_policy_test wal_sync_test
            wal_checkpointer_test lease_reporter_test worker_loop_test webhook_delivery_test
            gang_scheduling_test gang_worker_test console_test)

asan() {
  local out=${ASAN_DIR:-build-asan}
  local worker=${FT_WORKER_BINARY:-$PWD/build/bin/ftworker}
  [ -x "$worker" ] || { echo "asan: no $worker: the integration tests are left out"; worker=; }
  cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_SANITIZE=address \
    -DFT_BUILD_WORKER=OFF -DFT_WORKER_BINARY="$worker" >/dev/null
  cmake --build "$out" -j "$JOBS"
  # detect_leaks=0: gRPC's and protobuf's process-lifetime singletons (not instrumented) would
  # be reported as leaks. The options reach ftd and ftctl through the tests' environment.
  export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=0:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
  (cd "$out" && ctest -L 'unit|integration' -LE deploy -j "$JOBS" --timeout 120 \
     --output-on-failure)
}

tsan() {
  local out=${TSAN_DIR:-build-tsan}
  cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFT_SANITIZE=thread \
    -DFT_BUILD_WORKER=OFF >/dev/null
  cmake --build "$out" -j "$JOBS" --target "${TSAN_TESTS[@]}"
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan_suppressions.txt}
  local names
  names=$(IFS='|'; echo "${TSAN_TESTS[*]}")
  (cd "$out" && ctest -R "^($names)\$" -j "$JOBS" --timeout 120 --output-on-failure)
}

for stage in "${STAGES[@]}"; do
  case $stage in
    asan|tsan) start=$(date +%s); "$stage"; echo "$stage stage: $(( $(date +%s) - start )) s" ;;
    *) echo "unknown stage $stage (asan, tsan)" >&2; exit 2 ;;
  esac
done
