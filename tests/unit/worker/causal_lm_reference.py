#!/usr/bin/env python3
"""Causal-LM finetuning through the real ftworker against plain PyTorch: exact token-level
gradient accumulation.

Usage: causal_lm_reference.py PATH/TO/ftworker

A window's loss is the mean over ALL target tokens of the window, so each micro-batch must add
(sum of its token losses) / (target tokens of the whole window). Dividing each micro-batch by its
own token count (the bug Hugging Face shipped until late 2024) weights the tokens of a micro-batch
with few targets more than those of one with many. This script

  1. builds a small random BloomForCausalLM (hidden 64, 2 layers, vocabulary 260, the LM head tied
     to the word embeddings) and writes it as a Hugging Face folder (written here, not by our C++);
  2. writes prompt/completion JSONL from real TREC questions ($FT_SHARED_DATA, else ../shared/data
     beside the checkout): "Question: ...\\nType:" -> " location" etc., with prompts of mixed
     lengths and some rows cut by max_seq_length inside the completion, so the micro-batches of a
     window hold very different numbers of target tokens;
  3. runs `ftworker --spec job.json --out DIR --threads 1` (task causal_lm) with micro-batch 2 x
     accumulation 4, and with 8 x 1, for 3 steps of SGD, on 8 rows (one window per epoch) and on
     7 rows (the short window 2+2+2+1), and reads model.safetensors and the per-step losses;
  4. trains the same start in plain PyTorch (torch.set_num_threads(1)) with ONE full batch per
     step: the byte tokenizer (+EOS, head kept), prompt tokens masked, labels shifted by one,
     cross-entropy summed over the target tokens and divided by their count;
  5. compares every parameter tensor and the per-step losses.

Bars: SGD parameters max |ftworker - reference| / max |reference| <= 1e-6 per tensor (both 2x4
and 8x1 against the reference, and 2x4 against 8x1); per-step losses 1e-5. The bar is shown to
catch the per-micro-batch normalisation: a reference that averages each pair of rows over its own
target tokens and then averages those means must fail it.
"""
import csv
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bloom_reference import bloom_hidden, load_safetensors  # noqa: E402
from accumulation_reference import (Checks, parameter_difference, random_model,  # noqa: E402
                                    run_spec, shared_data, write_safetensors)

HIDDEN, N_LAYER, N_HEAD, VOCAB = 64, 2, 4, 260
MAX_SEQ = 64
PAD_ID, EOS_ID, BYTE_OFFSET = 3, 2, 4
IGNORED = -100
STEPS = 3
LR = 0.5
SGD_BAR = 1e-6
LOSS_BAR = 1e-5
TYPES = ["description", "entity", "abbreviation", "human", "location", "number"]


def pick_rows():
    """Eight train and four validation prompt/completion rows from TREC, lengths mixed."""
    path = os.path.join(shared_data(), "trec", "train.csv")
    if os.path.exists(path):
        with open(path, newline="", encoding="utf-8") as f:
            rows = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    else:
        print("note: %s is missing; using generated questions" % path)
        rows = [("What is the %s of thing %d%s ?" % (w, i, " and more" * (i % 5)), i % 6)
                for i, w in enumerate(["name", "size", "place", "time"] * 300)]
    out = [{"prompt": "Question: %s\nType:" % q, "completion": " " + TYPES[label]}
           for q, label in rows]
    # Prompts that fit (a row cut inside its prompt would be skipped), spread over the file.
    fitting = [r for r in out if len(r["prompt"].encode()) < MAX_SEQ - 2]
    out = [fitting[i * 97 + 5] for i in range(12)]
    whole = [len((r["prompt"] + r["completion"]).encode()) + 1 for r in out]
    prompts = [len(r["prompt"].encode()) for r in out]
    # Some rows are cut inside the completion, none inside the prompt (those would be skipped).
    assert any(p < MAX_SEQ < w for p, w in zip(prompts, whole)), (prompts, whole)
    return out[:8], out[8:]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def write_model_folder(folder, params):
    os.makedirs(folder)
    loaded = write_safetensors(os.path.join(folder, "model.safetensors"), params, "F32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["BloomForCausalLM"], "model_type": "bloom",
                   "vocab_size": VOCAB, "n_embed": HIDDEN, "n_layer": N_LAYER, "n_head": N_HEAD,
                   "layer_norm_epsilon": 1e-5, "bos_token_id": 1, "eos_token_id": EOS_ID,
                   "pad_token_id": PAD_ID}, f)
    return loaded


def encode(row):
    """TRL's prompt/completion preparation with ft's byte tokenizer."""
    prompt = [BYTE_OFFSET + b for b in row["prompt"].encode("utf-8")]
    ids = [BYTE_OFFSET + b for b in (row["prompt"] + row["completion"]).encode("utf-8")]
    ids.append(EOS_ID)
    labels = [IGNORED] * len(prompt) + ids[len(prompt):]
    ids, labels = ids[:MAX_SEQ], labels[:MAX_SEQ]
    labels[0] = IGNORED
    return ids, labels


def collate(rows):
    encoded = [encode(r) for r in rows]
    longest = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(rows), longest), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(rows), longest), dtype=torch.int64)
    labels = torch.full((len(rows), longest), IGNORED, dtype=torch.int64)
    for row, (seq, lab) in enumerate(encoded):
        ids[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = 1
        labels[row, :len(lab)] = torch.tensor(lab)
    return ids, mask, labels


def token_losses(params, rows):
    """Per-target-token cross-entropies of `rows` (one batch), in one flat tensor."""
    ids, mask, labels = collate(rows)
    hidden = bloom_hidden(params, ids, mask, N_HEAD, N_LAYER)
    logits = hidden @ params["transformer.word_embeddings.weight"].T  # the tied LM head
    per_token = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB).float(),
                                labels[:, 1:].reshape(-1), ignore_index=IGNORED,
                                reduction="none")
    return per_token[labels[:, 1:].reshape(-1) != IGNORED]


def reference_train(start, rows, variant):
    """Plain PyTorch SGD, one full batch of the window per step."""
    params = {n: t.clone().requires_grad_(True) for n, t in start.items()}
    opt = torch.optim.SGD(list(params.values()), lr=LR)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        if variant == "correct":
            objective = token_losses(params, rows).mean()
            losses.append(objective.item())
        elif variant == "per-micro-batch token means":
            chunks = [rows[i:i + 2] for i in range(0, len(rows), 2)]
            objective = sum(token_losses(params, c).mean() for c in chunks) / len(chunks)
            losses.append(token_losses(params, rows).mean().item())
        else:
            raise ValueError(variant)
        objective.backward()
        opt.step()
    return {n: t.detach() for n, t in params.items()}, losses


def run_ftworker(binary, workdir, name, model, train, validation, micro, accumulation):
    spec = {"model": model, "task": "causal_lm",
            "dataset": {"train": train, "validation": validation},
            "micro_batch_size": micro, "accumulation_steps": accumulation, "epochs": STEPS,
            "learning_rate": LR, "optimizer": "sgd", "max_seq_length": MAX_SEQ, "seed": 1,
            "log_every_steps": 1, "lr_scheduler": "constant"}
    out, events = run_spec(binary, workdir, name, spec)
    losses = {int(e["progress"]["step"]): e["progress"]["loss"] for e in events if "progress" in e}
    assert sorted(losses) == list(range(1, STEPS + 1)), losses
    params = {n: t.double() for n, t in
              load_safetensors(os.path.join(out, "model.safetensors")).items()}
    evaluations = [e["evaluation"] for e in events if "evaluation" in e]
    return params, [losses[s] for s in range(1, STEPS + 1)], evaluations


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    torch.set_num_threads(1)
    train_rows, validation_rows = pick_rows()
    checks = Checks()
    with tempfile.TemporaryDirectory() as workdir:
        params = random_model(11, 1)
        del params["score.weight"]
        model = os.path.join(workdir, "model")
        start = write_model_folder(model, params)
        validation = os.path.join(workdir, "validation.jsonl")
        write_jsonl(validation, validation_rows)
        for n_train in (8, 7):
            rows = train_rows[:n_train]
            train = os.path.join(workdir, "train%d.jsonl" % n_train)
            write_jsonl(train, rows)
            print("%d rows (windows of %s), SGD lr %g, %d steps:"
                  % (n_train, "2x4" if n_train == 8 else "2+2+2+1", LR, STEPS))
            targets = [sum(1 for x in encode(r)[1] if x != IGNORED) for r in rows]
            print("  target tokens per row: %s" % targets)
            reference, ref_losses = reference_train(start, rows, "correct")
            ours = {}
            for micro, accumulation in ((2, 4), (8, 1)):
                name = "%dx%d_%d" % (micro, accumulation, n_train)
                ours[name], losses, evaluations = run_ftworker(
                    binary, workdir, name, model, train, validation, micro, accumulation)
                (diff, where), _ = parameter_difference(ours[name], reference, start)
                checks.check("%s: parameters vs reference, max |d| / max |ref| (%s)"
                             % (name, where), diff, SGD_BAR, True)
                loss_diff = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
                checks.check("%s: per-step token-mean losses %s" % (
                    name, ", ".join("%.5f" % v for v in losses)), loss_diff, LOSS_BAR, True)
                if not evaluations or evaluations[-1].get("perplexity", 0) <= 1:
                    checks.fail("%s: no validation evaluation with a perplexity" % name)
            (diff, where), _ = parameter_difference(
                ours["2x4_%d" % n_train], {n: t.float() for n, t in ours["8x1_%d" % n_train].items()},
                start)
            checks.check("2x4 vs 8x1 ftworker, max |d| / max |8x1| (%s)" % where, diff, SGD_BAR,
                         True)
            wrong, _ = reference_train(start, rows, "per-micro-batch token means")
            (diff, where), _ = parameter_difference(ours["2x4_%d" % n_train], wrong, start)
            checks.check("2x4 vs per-micro-batch-mean reference (%s)" % where, diff, SGD_BAR,
                         False)
    if checks.failures:
        print("FAILED: %s" % "; ".join(checks.failures))
        sys.exit(1)
    print("all causal-LM accumulation checks passed")


if __name__ == "__main__":
    main()
