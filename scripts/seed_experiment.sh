#!/usr/bin/env bash
# The seed's experiment in small, through the real daemon: the same model, data, seed and learning
# rate trained twice, with micro-batch 1 and no accumulation (noisy batch-1 updates), and with
# micro-batch 1 x 16 accumulation steps (the updates of batch 16 in the memory of batch 1). Both
# run side by side on a fresh ftd with its own home under /tmp; then `ftctl plot` draws both
# curves, against the training examples seen, into docs/seed_experiment.svg.
#
#   bash scripts/seed_experiment.sh          # needs build/bin (bash scripts/build.sh)
#   EPOCHS=1 OUT=/tmp/quick.svg bash scripts/seed_experiment.sh
#
# The seed (README of ../shared/data): BLOOM-560m, IMDB, one epoch, Adam lr 5e-5 for both runs:
# 87.4 % test accuracy with 1 x 16, 78.5 % with batch 1. Here: scratch:bloom-tiny (random weights,
# no pretrained checkpoint on this machine) on TREC, which such a model learns within minutes,
# with the project's learning rate for scratch models, 1e-3, for both runs.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-build/bin}
DATA=${DATA:-$(cd .. && pwd)/shared/data}
TRAIN=${TRAIN:-$DATA/trec/train.csv}
TEST=${TEST:-$DATA/trec/test.csv}
MODEL=${MODEL:-scratch:bloom-tiny}
EPOCHS=${EPOCHS:-3}
LR=${LR:-0.001}
SEED=${SEED:-1}
ACCUMULATION=${ACCUMULATION:-16}
# A loss point per 160 training examples and a validation every 1,232 (about a quarter of TREC's
# 4,907 training questions), the same examples for both runs whatever their step counts.
LOG_EVERY_EXAMPLES=${LOG_EVERY_EXAMPLES:-160}
EVAL_EVERY_EXAMPLES=${EVAL_EVERY_EXAMPLES:-1232}
OUT=${OUT:-docs/seed_experiment.svg}

for tool in ftd ftworker ftctl; do
  if [[ ! -x "$BIN/$tool" ]]; then
    echo "seed_experiment: $BIN/$tool not found; build first: bash scripts/build.sh" >&2
    exit 2
  fi
done
for file in "$TRAIN" "$TEST"; do
  if [[ ! -f "$file" ]]; then
    echo "seed_experiment: data file $file not found (set TRAIN= and TEST=)" >&2
    exit 2
  fi
done

HOME_DIR=$(mktemp -d /tmp/ftd-seed-experiment.XXXXXX)
# Two workers of one thread each: both runs train at the same time on a 2-core machine. A private
# daemon on loopback, so without authentication; datasets from the folders of TRAIN and TEST.
"$BIN/ftd" --listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --home "$HOME_DIR" \
  --port-file "$HOME_DIR/ports" --local-workers 2 --worker-threads 1 --insecure-no-auth \
  --data-root "$(dirname "$TRAIN")" --data-root "$(dirname "$TEST")" >"$HOME_DIR/ftd.log" 2>&1 &
FTD_PID=$!
cleanup() {
  kill "$FTD_PID" 2>/dev/null || true
  wait "$FTD_PID" 2>/dev/null || true
  if [[ -z "${KEEP:-}" ]]; then rm -rf "$HOME_DIR"; else echo "kept $HOME_DIR"; fi
}
trap cleanup EXIT
for _ in $(seq 100); do [[ -s "$HOME_DIR/ports" ]] && break; sleep 0.1; done
if [[ ! -s "$HOME_DIR/ports" ]]; then
  echo "seed_experiment: ftd did not start; its log:" >&2
  cat "$HOME_DIR/ftd.log" >&2
  exit 1
fi
read -r API_PORT _ <"$HOME_DIR/ports"
export FT_SERVER="127.0.0.1:$API_PORT"
echo "ftd is up on $FT_SERVER (home $HOME_DIR)"

submit() {  # micro-batch, accumulation steps
  local examples_per_step=$(($1 * $2))
  "$BIN/ftctl" submit --model "$MODEL" --train "$TRAIN" --test "$TEST" \
    --micro-batch-size "$1" --accumulation-steps "$2" --epochs "$EPOCHS" --lr "$LR" \
    --seed "$SEED" --max-seq-length 128 \
    --log-every-steps $((LOG_EVERY_EXAMPLES / examples_per_step)) \
    --eval-every-steps $((EVAL_EVERY_EXAMPLES / examples_per_step))
}
NOISY=$(submit 1 1)
ACCUMULATED=$(submit 1 "$ACCUMULATION")
echo "submitted $NOISY (micro-batch 1, no accumulation) and $ACCUMULATED (micro-batch 1 x $ACCUMULATION)"

SECONDS=0
status=0
for job in "$NOISY" "$ACCUMULATED"; do
  if [[ -t 1 && "$job" == "$NOISY" ]]; then
    "$BIN/ftctl" watch "$job" || status=$?  # live: progress bar and loss sparkline
  else
    "$BIN/ftctl" watch "$job" >"$HOME_DIR/$job.watch.log" || status=$?
    tail -n 4 "$HOME_DIR/$job.watch.log"
  fi
done
echo "both done in ${SECONDS}s"
if [[ $status -ne 0 ]]; then
  echo "seed_experiment: a job did not succeed (ftd log: $HOME_DIR/ftd.log)" >&2
  KEEP=1
  exit 1
fi

mkdir -p "$(dirname "$OUT")"
"$BIN/ftctl" plot "$NOISY" "$ACCUMULATED" --x examples --out "$OUT" \
  --title "$MODEL on $(basename "$(dirname "$TRAIN")"), lr $LR, seed $SEED: micro-batch 1 vs 1 x $ACCUMULATION accumulated"
