#!/usr/bin/env bash
# Here (not on the GPU host): the causal-LM folders transformers is to load there. For each
# decoder family, ftworker trains a causal_lm job of a few steps from the family's tiny fixture
# checkpoint (tests/fixtures/hf/models/FAMILY, a transformers classifier: the base weights load,
# the LM head is tied or fresh) on short TREC questions written as prompt/completion rows (the
# tiny GPT-2 has 64 positions, and the tokens are bytes), and its
# exported folder (config.json naming the *ForCausalLM class, generation_config.json,
# model.safetensors, the byte-level tokenizer.json) goes to build-gpu/hf_in/exports_lm/FAMILY.
# Then, on the GPU host: python3 tests/gpu/hf_reference.py build-gpu/hf_in $OUT --causal-lm
set -euo pipefail
cd "$(dirname "$0")/../.."
FTWORKER=${FTWORKER:-build/bin/ftworker}
DATA=${DATA:-$(cd .. && pwd)/shared/data}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
IN=build-gpu/hf_in/exports_lm
rm -rf "$IN" && mkdir -p "$IN"
/usr/bin/python3 - "$DATA/trec/train.csv" "$WORK/trec.jsonl" <<'PY'
import csv, json, sys
names = ["description", "entity", "abbreviation", "human", "location", "number"]
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w") as out:
    rows = [row for row in csv.DictReader(f) if len(row["text"]) <= 36][:96]
    for row in rows:
        out.write(json.dumps({"prompt": "Q: %s\nA:" % row["text"],
                              "completion": " " + names[int(row["label"])]}) + "\n")
PY
for family in bloom gpt2 llama mistral qwen2; do
  # The tiny GPT-2's config keeps GPT-2's eos_token_id 50256 beside its 1,000-token vocabulary
  # (ftd refuses that for causal_lm), and the tiny Qwen2's has none: the copies trained here end
  # sequences with id 2.
  cp -r "tests/fixtures/hf/models/$family" "$WORK/base-$family"
  /usr/bin/python3 - "$WORK/base-$family/config.json" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
eos = config.get("eos_token_id")
if not isinstance(eos, int) or not 0 <= eos < config["vocab_size"]:
    config["eos_token_id"] = config["bos_token_id"] = 2
json.dump(config, open(sys.argv[1], "w"), indent=1)
PY
  cat > "$WORK/$family.json" <<JSON
{"model": "$WORK/base-$family", "task": "causal_lm",
 "dataset": {"train": "$WORK/trec.jsonl", "validation_fraction": 0.25},
 "micro_batch_size": 4, "accumulation_steps": 2, "epochs": 1, "max_steps": 5,
 "learning_rate": 0.01, "max_seq_length": 64, "seed": 7}
JSON
  "$FTWORKER" --threads 1 --cache-dir "" --spec "$WORK/$family.json" --out "$WORK/$family" \
    > "$WORK/$family.log" 2>&1 || { tail -20 "$WORK/$family.log"; exit 1; }
  mkdir -p "$IN/$family"
  cp "$WORK/$family"/{config.json,generation_config.json,model.safetensors} "$IN/$family/"
  cp "$WORK/$family"/tokenizer*.json "$WORK/$family"/special_tokens_map.json "$IN/$family/" \
    2>/dev/null || true
  echo "$family: $(ls "$IN/$family" | tr '\n' ' ')"
done
echo "carry build-gpu/hf_in; on the GPU host: python3 tests/gpu/hf_reference.py build-gpu/hf_in \$OUT --causal-lm"
