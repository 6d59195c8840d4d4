#!/usr/bin/env bash
# kill -9 of ftd KILLS times (default 50) at random moments while jobs are submitted, trained and
# watched; prints the counts (kills, jobs, events, lost = must be 0). CTest runs the same test
# with 10 kills. Needs a build (BUILD_DIR, default build). SEED changes the moments.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export FT_KILL_LOOP_KILLS=${KILLS:-50}
export FT_KILL_LOOP_SEED=${SEED:-20261126}
export FT_BIN_DIR=$PWD/$BUILD_DIR/bin FT_SOURCE_DIR=$PWD
exec "$BUILD_DIR/tests/kill_loop_test" --gtest_brief=1
