#!/usr/bin/python3
"""What the token cache saves a causal_lm job: data loading (reading the JSON Lines rows,
tokenizing with GPT-2's byte-level BPE, target masks) with the cache cold (tokenize and store),
warm (map the stored splits) and off, on real shared data:

  imdb-text      IMDB's 35,000 training reviews as {"text": ...} rows, max_seq_length 512
  trec-prompt    TREC's 5,452 questions as {"prompt", "completion"} rows, max_seq_length 128

The model is a one-layer GPT-2 (hidden 32) with GPT-2's real tokenizer files
(../shared/data/tokenizers/gpt2), so that training takes a moment and loading the data is most of
the job. Each job trains 1 step; the figure is result.json's pipeline.token_cache.load_seconds
(reading + tokenizing, or mapping, every split) and the job's wall time. The three settings alternate in
each repeat; best and median are reported.

  /usr/bin/python3 tests/bench/lm_token_cache.py --ftworker build/bin/ftworker
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import torch

import bench_common as common

sys.path.insert(0, os.path.join(common.REPO_ROOT, "tests", "unit", "worker"))
from accumulation_reference import write_safetensors  # noqa: E402  (safetensors, independently)

GPT2_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
              "merges.txt")


def write_tiny_gpt2(folder, tokenizers):
    """A GPT2LMHeadModel folder: one layer, hidden 32, GPT-2's vocabulary and tokenizer."""
    os.makedirs(folder)
    for name in GPT2_FILES:
        shutil.copy(os.path.join(tokenizers, "gpt2", name), folder)
    vocab, hidden, positions = 50257, 32, 1024
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
                   "vocab_size": vocab, "n_embd": hidden, "n_layer": 1, "n_head": 2,
                   "n_positions": positions, "bos_token_id": 50256, "eos_token_id": 50256}, f)
    g = torch.Generator().manual_seed(0)

    def normal(*shape):
        return torch.randn(*shape, generator=g) * 0.02

    t = {"transformer.wte.weight": normal(vocab, hidden),
         "transformer.wpe.weight": normal(positions, hidden)}
    for norm in ("transformer.h.0.ln_1", "transformer.h.0.ln_2", "transformer.ln_f"):
        t[norm + ".weight"] = torch.ones(hidden)
        t[norm + ".bias"] = torch.zeros(hidden)
    for name, (n_in, n_out) in {"attn.c_attn": (hidden, 3 * hidden),
                                "attn.c_proj": (hidden, hidden),
                                "mlp.c_fc": (hidden, 4 * hidden),
                                "mlp.c_proj": (4 * hidden, hidden)}.items():
        t["transformer.h.0.%s.weight" % name] = normal(n_in, n_out)
        t["transformer.h.0.%s.bias" % name] = torch.zeros(n_out)
    write_safetensors(os.path.join(folder, "model.safetensors"), t, "F32")


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def csv_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def write_datasets(data, out):
    """{name: (train, validation, max_seq_length)}"""
    imdb = [{"text": r["text"]} for r in csv_rows(os.path.join(data, "imdb", "train.csv"))]
    trec_names = ["description", "entity", "abbreviation", "human", "location", "number"]
    trec = [{"prompt": "Question: %s\nType:" % r["text"],
             "completion": " " + trec_names[int(r["label"])]}
            for r in csv_rows(os.path.join(data, "trec", "train.csv"))]
    datasets = {}
    for name, rows, length in (("imdb-text", imdb, 512), ("trec-prompt", trec, 128)):
        train = os.path.join(out, name + "-train.jsonl")
        validation = os.path.join(out, name + "-validation.jsonl")
        write_rows(train, rows)
        write_rows(validation, rows[:64])
        datasets[name] = (train, validation, length, len(rows))
    return datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ftworker", default=common.DEFAULT_FTWORKER)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    common.add_quiet_arguments(parser, max_load=100.0, max_busy=1.0)
    args = parser.parse_args()
    common.check_ftworker(args.ftworker)
    data = os.path.join(common.REPO_ROOT, "..", "shared", "data")
    common.check_data(os.path.join(data, "imdb", "train.csv"))
    common.print_header("token cache for causal_lm jobs: cold, warm, off")
    common.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait

    work = tempfile.mkdtemp(prefix="ft_lm_token_cache_")
    try:
        model = os.path.join(work, "tiny-gpt2")
        write_tiny_gpt2(model, os.path.join(data, "tokenizers"))
        datasets = write_datasets(data, work)
        env = common.ftworker_env()
        rows = []
        for name, (train, validation, length, count) in datasets.items():
            spec = {"model": model, "task": "causal_lm",
                    "dataset": {"train": train, "validation": validation},
                    "micro_batch_size": 2, "accumulation_steps": 1, "epochs": 1, "max_steps": 1,
                    "max_seq_length": length, "max_eval_examples": 4, "log_every_steps": 1}
            seconds = {"cold": [], "warm": [], "off": []}
            walls = {"cold": [], "warm": [], "off": []}
            for repeat in range(args.repeats):
                cache = os.path.join(work, "cache-%s-%d" % (name, repeat))
                order = ["cold", "warm", "off"] if repeat % 2 == 0 else ["off", "cold", "warm"]
                for setting in order:
                    common.wait_for_idle_cpus(args.max_busy, deadline)
                    run_dir = tempfile.mkdtemp(dir=work)
                    run, result, _ = common.run_ftworker(
                        args.ftworker, spec, args.threads, run_dir, env,
                        ["--cache-dir", "" if setting == "off" else cache])
                    report = result["pipeline"]["token_cache"]
                    expected_hits = 2 if setting == "warm" else 0
                    if report["hits"] != expected_hits:
                        sys.exit("%s %s: %d cache hits, expected %d" %
                                 (name, setting, report["hits"], expected_hits))
                    seconds[setting].append(report["load_seconds"])
                    walls[setting].append(run.wall)
                    shutil.rmtree(run_dir)
            rows.append((name, count, length, seconds, walls))
            cache_bytes = sum(os.path.getsize(os.path.join(cache, f)) for f in os.listdir(cache))
            print("%s: cache %.1f MB" % (name, cache_bytes / 1e6), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("\n| data | rows | max_seq_length | data loading, s: off / cold / warm (best; median) "
          "| warm vs off | job wall, s: off / warm (best) |")
    print("|---|---|---|---|---|---|")
    for name, count, length, seconds, walls in rows:
        best = {k: min(v) for k, v in seconds.items()}
        median = {k: statistics.median(v) for k, v in seconds.items()}
        print("| %s | %d | %d | %.2f / %.2f / %.3f (%.2f / %.2f / %.3f) | %.0fx | %.1f / %.1f |" %
              (name, count, length, best["off"], best["cold"], best["warm"], median["off"],
               median["cold"], median["warm"], best["off"] / max(best["warm"], 1e-6),
               min(walls["off"]), min(walls["warm"])))


if __name__ == "__main__":
    main()
