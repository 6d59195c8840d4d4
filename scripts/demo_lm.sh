#!/usr/bin/env bash
# The causal-LM demo, from a fresh Debian 12 (as root) like scripts/demo.sh: a scratch decoder
# (BLOOM, random initial weights, byte-level tokens) finetuned through ftd on TREC's questions
# written as prompt/completion rows ("Question: ...\nType:" -> " location"), then its greedy
# answers on the 500 test questions compared with the answer the majority class would give.
#
#   bash scripts/demo_lm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# python3 writes the JSON Lines rows from TREC's CSV.
bash scripts/install-deps.sh python3
FT_BUILD_TESTS=OFF bash scripts/build.sh

DATA=${DATA:-$(cd .. && pwd)/shared/data}
ROWS=${ROWS:-$PWD/.ftd-demo-lm}
mkdir -p "$ROWS"
# TREC's coarse classes in harvardnlp's numbering (../shared/data/trec/PROVENANCE.md).
/usr/bin/python3 - "$DATA/trec" "$ROWS" <<'PY'
import csv, json, os, sys
names = ["description", "entity", "abbreviation", "human", "location", "number"]
source, out = sys.argv[1], sys.argv[2]
for split in ("train", "test"):
    with open(os.path.join(source, split + ".csv"), newline="", encoding="utf-8") as f, \
            open(os.path.join(out, split + ".jsonl"), "w", encoding="utf-8") as rows:
        for row in csv.DictReader(f):
            rows.write(json.dumps({"prompt": "Question: %s\nType:" % row["text"],
                                   "completion": " " + names[int(row["label"])]}) + "\n")
PY

source scripts/lib/demo_ftd.sh
FT_HOME=${FT_HOME:-$PWD/.ftd-demo-lm-home} start_demo_ftd "$ROWS"

ID=$(build/bin/ftctl submit --task causal_lm --model "${MODEL:-scratch:bloom-tiny}" \
  --train "$ROWS/train.jsonl" --test "$ROWS/test.jsonl" \
  --micro-batch-size "${MICRO_BATCH:-8}" --accumulation-steps "${ACCUMULATION:-2}" \
  --epochs "${EPOCHS:-4}" --lr "${LR:-0.001}" --lr-scheduler "${LR_SCHEDULER:-constant}" \
  --max-seq-length "${MAX_SEQ_LENGTH:-128}" --log-every-steps "${LOG_EVERY:-50}" \
  --seed "${SEED:-1}" --name "demo-lm")
build/bin/ftctl watch "$ID"
OUT=$(build/bin/ftctl get "$ID" -o json | /usr/bin/python3 -c \
  'import json, sys; job = json.load(sys.stdin); print(job.get("outputDir", job.get("output_dir")))')
/usr/bin/python3 - "$OUT/result.json" <<'PY'
import json, sys
test = json.load(open(sys.argv[1]))["metrics"]["test"]
print("test: %d questions; greedy answers exactly right %.1f %%, the majority class's answer "
      "%.1f %%; perplexity %.2f, token accuracy %.1f %%"
      % (test["completion_examples"], 100 * test["completion_exact_match"],
         100 * test["majority_completion_exact_match"], test["perplexity"],
         100 * test["accuracy"]))
PY
echo "try it: build/bin/ftworker generate --model $OUT --prompt \$'Question: Where is Paris ?\\nType:'"
