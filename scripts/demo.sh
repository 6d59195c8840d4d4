#!/usr/bin/env bash
# One command from a fresh Debian 12 (as root): install, build, start ftd, submit the demo
# finetuning job and watch it live until it ends with its validation and test accuracy.
#
#   bash scripts/demo.sh                 # the demo job (README.md)
#   TRAIN=my.csv TEST=my_test.csv bash scripts/demo.sh   # any CSV with text,label columns
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what building and running ftd needs: no test tools, and no tests built.
bash scripts/install-deps.sh
FT_BUILD_TESTS=OFF bash scripts/build.sh

DATA=${DATA:-$(cd .. && pwd)/shared/data}
TRAIN=${TRAIN:-$DATA/trec/train.csv}
TEST=${TEST:-$DATA/trec/test.csv}
if [[ ! -f "$TRAIN" ]]; then
  echo "demo: training file $TRAIN not found (set TRAIN=path/to/file.csv)" >&2
  exit 2
fi

source scripts/lib/demo_ftd.sh
start_demo_ftd "$DATA" "$(dirname "$TRAIN")" ${TEST:+"$(dirname "$TEST")"}

test_args=()
[[ -n "$TEST" && -f "$TEST" ]] && test_args=(--test "$TEST")
# Effective batch 16 as 8 examples x 2 accumulated micro-batches: the gradient of a batch of 16 in
# the memory of a batch of 8.
build/bin/ftctl submit --model "${MODEL:-scratch:bloom-tiny}" --train "$TRAIN" "${test_args[@]}" \
  --micro-batch-size "${MICRO_BATCH:-8}" --accumulation-steps "${ACCUMULATION:-2}" \
  --epochs "${EPOCHS:-4}" --lr "${LR:-0.001}" --lr-scheduler "${LR_SCHEDULER:-constant}" \
  --max-seq-length "${MAX_SEQ_LENGTH:-128}" \
  --log-every-steps "${LOG_EVERY:-50}" --seed "${SEED:-1}" --name "demo" --watch
