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
HOME_DIR=${FT_HOME:-$PWD/.ftd-demo}
PORT=${PORT:-50051}
METRICS_PORT=${METRICS_PORT:-9464}
if [[ ! -f "$TRAIN" ]]; then
  echo "demo: training file $TRAIN not found (set TRAIN=path/to/file.csv)" >&2
  exit 2
fi

# Authentication as in production: a token file with one admin token made for this demo (ftctl
# sends it from $FTD_TOKEN). ftd reads datasets only from its --data-root folders.
mkdir -p "$HOME_DIR"
TOKEN_FILE="$HOME_DIR/tokens"
if [[ ! -s "$TOKEN_FILE" ]]; then
  (umask 077; echo "demo-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') demo admin" >"$TOKEN_FILE")
fi
export FTD_TOKEN=$(awk '!/^#/ && NF == 3 {print $1; exit}' "$TOKEN_FILE")
roots=()
for path in "$DATA" "$(dirname "$TRAIN")" ${TEST:+"$(dirname "$TEST")"}; do
  [[ -d "$path" ]] && roots+=(--data-root "$path")
done
rm -f "$HOME_DIR.ports"  # a stale one would let ftctl start before ftd listens
build/bin/ftd --listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$METRICS_PORT" \
  --home "$HOME_DIR" --port-file "$HOME_DIR.ports" --token-file "$TOKEN_FILE" "${roots[@]}" \
  >"$HOME_DIR.log" 2>&1 &
FTD_PID=$!
trap 'kill $FTD_PID 2>/dev/null; wait $FTD_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [[ -s "$HOME_DIR.ports" ]] && break; sleep 0.1; done
echo "ftd is up (pid $FTD_PID): API 127.0.0.1:$PORT, metrics http://127.0.0.1:$METRICS_PORT/metrics, log $HOME_DIR.log"

test_args=()
[[ -n "$TEST" && -f "$TEST" ]] && test_args=(--test "$TEST")
export FT_SERVER="127.0.0.1:$PORT"
# Effective batch 16 as 8 examples x 2 accumulated micro-batches: the gradient of a batch of 16 in
# the memory of a batch of 8.
build/bin/ftctl submit --model "${MODEL:-scratch:bloom-tiny}" --train "$TRAIN" "${test_args[@]}" \
  --micro-batch-size "${MICRO_BATCH:-8}" --accumulation-steps "${ACCUMULATION:-2}" \
  --epochs "${EPOCHS:-4}" --lr "${LR:-0.001}" --lr-scheduler "${LR_SCHEDULER:-constant}" \
  --max-seq-length "${MAX_SEQ_LENGTH:-128}" \
  --log-every-steps "${LOG_EVERY:-50}" --seed "${SEED:-1}" --name "demo" --watch
