#!/usr/bin/python3
"""Memory and step time of LoRA against full finetuning, through the real ftworker.

Usage (from the repository root):

    /usr/bin/python3 tests/bench/lora_memory.py --ftworker build/bin/ftworker \\
        [--model scratch:bloom-560m] [--steps 2] [--max-seq-length 128] [--configs full,lora]

    # The ~1B Llama-style model (TinyLlama-1.1B's shape, random weights). Its full row needs
    # ~19 GiB free: on a shared machine run the LoRA rows, and the full row alone when quiet.
    /usr/bin/python3 tests/bench/lora_memory.py --model scratch:llama-1b --threads 1 \\
        --configs lora,lora-bf16,lora-ckpt,lora-bf16-ckpt
    /usr/bin/python3 tests/bench/lora_memory.py --model scratch:llama-1b --threads 1 --configs full

Trains the model (random weights for scratch:NAME, or a model folder) for --steps AdamW steps of
micro-batch 1 on IMDB reviews, up to five ways (--configs picks them by key):

    full            full              every weight trains (gradients and AdamW's two moments)
    lora            lora r=8          LoRA on the family's default targets, fp32 base
    lora-bf16       lora r=8 bf16     the frozen linear weights held in bfloat16
    lora-ckpt       lora r=8 ckpt     with activation checkpointing
    lora-bf16-ckpt  lora r=8 bf16 ckpt

and reports for each: the bytes of gradients + optimizer state (4 + 8 bytes per trainable
parameter for AdamW; trainable parameters from the job's log line, or all of them for full:
exact from the parameter count, also when the full row does not run), the process's peak
resident set size (ru_maxrss from os.wait4) and the mean step time (result.json's train seconds
/ steps). Goals from issue 15: gradients + optimizer state under 2 % of full finetuning, peak
memory under 40 % of it; a missed goal prints a line but does not change the exit status (a
benchmark).

Each configuration is one ftworker process, one after the other. Before each, the script reads
MemAvailable (/proc/meminfo) and refuses the configuration when it may not fit (a line with what
it needs and what is free; exit status 2 at the end): on a machine shared with builds, a job
that does not fit is killed by the kernel, or takes other processes down with it. Full
finetuning needs 16 bytes a parameter plus activations: bloom-560m ~11 GiB, llama-1b ~19 GiB.
"""
import argparse
import json
import os
import re
import struct
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402

# key (for --configs), name, lora (None: full finetuning), activation checkpointing
CONFIGS = [
    ("full", "full", None, False),
    ("lora", "lora r=8", {"r": 8, "alpha": 16}, False),
    ("lora-bf16", "lora r=8 bf16", {"r": 8, "alpha": 16, "base_precision": "bf16"}, False),
    ("lora-ckpt", "lora r=8 ckpt", {"r": 8, "alpha": 16}, True),
    ("lora-bf16-ckpt", "lora r=8 bf16 ckpt", {"r": 8, "alpha": 16, "base_precision": "bf16"},
     True),
]
GRADIENT_GOAL, PEAK_GOAL = 0.02, 0.40
LORA_LINE = re.compile(r"LoRA r=\d+ on \d+ layers \(.*\): (\d+) of (\d+) parameters train")
GIB = 2.0**30

# The scratch classifiers' parameters (2 labels), from common/models/model_catalog.cc's shapes:
# the memory check needs them before a run has logged the exact count.
SCRATCH_PARAMETERS = {
    "scratch:bloom-560m": 559_216_640,
    # Embeddings 32000 x 2048; 22 layers of q and o 2048^2, k and v 2048 x 256, the MLP's
    # 3 x 2048 x 5632 and two norms; the final norm; the 2-label score head.
    "scratch:llama-1b": 32000 * 2048
    + 22 * (2 * 2048**2 + 2 * 2048 * 256 + 3 * 2048 * 5632 + 2 * 2048) + 2048 + 2 * 2048,
}


def folder_parameters(folder):
    """The element count of every tensor in a model folder's *.safetensors (headers only)."""
    total = 0
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(folder, name), "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        for key, entry in header.items():
            if key != "__metadata__":
                count = 1
                for dim in entry["shape"]:
                    count *= dim
                total += count
    return total


def model_parameters(model):
    if model in SCRATCH_PARAMETERS:
        return SCRATCH_PARAMETERS[model]
    if os.path.isdir(model):
        return folder_parameters(model)
    sys.exit("%s: not a model folder, and no scratch model whose size this script knows (%s)"
             % (model, ", ".join(SCRATCH_PARAMETERS)))


def needed_bytes(parameters, lora):
    """A generous bound on a configuration's peak memory, calibrated on bloom-560m (full 11,081
    MiB = 16 bytes a parameter + 2.5 GiB; LoRA 2,585 MiB = 4 bytes + 0.5 GiB): the float32
    weights (a bf16 base is built in float32 first), for full finetuning also the gradients and
    AdamW's two moments, plus activations, libraries and the end-of-job writes."""
    if lora is None:
        return 16 * parameters + 3 * GIB
    return 4 * parameters + 1.5 * GIB


def mem_available_bytes():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    sys.exit("cannot read MemAvailable from /proc/meminfo")


def trainable_parameters(out_dir):
    for event in bc.read_events(out_dir):
        match = LORA_LINE.match(event.get("log", {}).get("message", ""))
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def parse_configs(text):
    keys = [key for key, _, _, _ in CONFIGS]
    chosen = [key.strip() for key in text.split(",") if key.strip()]
    for key in chosen:
        if key not in keys:
            sys.exit("--configs: unknown configuration %r (expected some of %s)"
                     % (key, ",".join(keys)))
    return [config for config in CONFIGS if config[0] in chosen]


def run_config(args, ftworker, train, env, lora, checkpointing):
    spec = {"model": args.model, "dataset": {"train": train, "validation_fraction": 0.01},
            "micro_batch_size": 1, "accumulation_steps": 1, "epochs": 1,
            "max_steps": args.steps, "learning_rate": 1e-4,
            "max_seq_length": args.max_seq_length, "log_every_steps": args.steps,
            "max_eval_examples": 1, "seed": 1, "checkpoint_every_steps": 1000000,
            "activation_checkpointing": checkpointing}
    if lora is not None:
        spec["lora"] = lora
    with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
        run, result, out_dir = bc.run_ftworker(ftworker, spec, args.threads, workdir, env)
        counts = trainable_parameters(out_dir) if lora is not None else None
    return run, result, counts


def print_table(rows, full_parameters):
    full = next((r for r in rows if r["key"] == "full"), None)
    full_rss = full["rss_mib"] if full is not None and full["rss_mib"] else None
    print()
    print("| config | trainable parameters | gradients + AdamW state | share of full | peak RSS "
          "MiB | share of full | s/step |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        trainable = full_parameters if r["key"] == "full" else r["trainable"]
        if trainable is None:
            print("| %s | refused: %s | | | | | |" % (r["name"], r["refused"]))
            continue
        state = 12 * trainable
        rss = ("%.0f" % r["rss_mib"] if r["rss_mib"]
               else "refused (%s)" % r["refused"] if r["refused"] else "not run")
        rss_share = ("%.0f %%" % (100.0 * r["rss_mib"] / full_rss)
                     if r["rss_mib"] and full_rss else "")
        step = "%.2f" % r["step_s"] if r["step_s"] is not None else ""
        print("| %s | %d | %.1f MiB | %.2f %% | %s | %s | %s |"
              % (r["name"], trainable, state / 2**20, 100.0 * state / (12 * full_parameters),
                 rss, rss_share, step))
    lora_rows = [r for r in rows if r["key"] != "full" and r["rss_mib"]]
    if not lora_rows:
        return
    verdicts = [("gradients + optimizer state", lora_rows[0]["trainable"] / full_parameters,
                 GRADIENT_GOAL)]
    if full_rss:
        best = min(lora_rows, key=lambda r: r["rss_mib"])
        verdicts.append(("peak memory (%s)" % best["name"], best["rss_mib"] / full_rss,
                         PEAK_GOAL))
    for label, value, goal in verdicts:
        verdict = "goal met" if value <= goal else "GOAL NOT MET"
        print("%s: %s %.1f %% of full finetuning (goal under %.0f %%)"
              % (verdict, label, 100 * value, 100 * goal))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--train",
                        default=os.path.join(bc.SHARED_DATA, "imdb", "imdb_small_2000.csv"))
    parser.add_argument("--model", default="scratch:bloom-560m",
                        help="scratch:bloom-560m, scratch:llama-1b or a model folder")
    parser.add_argument("--configs", default=",".join(key for key, _, _, _ in CONFIGS),
                        help="the configurations to run, by key (default: all five)")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    ftworker = bc.check_ftworker(args.ftworker)
    train = bc.check_data(args.train)
    env = bc.ftworker_env()
    configs = parse_configs(args.configs)
    parameters = model_parameters(args.model)
    print("# lora_memory: %s (%d parameters), %d AdamW steps of 1 x 1, max_seq_length %d, "
          "%d threads" % (args.model, parameters, args.steps, args.max_seq_length, args.threads))
    print("# %s, %d CPUs, load average %.2f %.2f %.2f" %
          ((time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count()) + os.getloadavg()))
    print("# command: /usr/bin/python3 %s" % " ".join(sys.argv), flush=True)
    rows = []
    full_parameters = parameters  # replaced by a LoRA run's exact count (its log line)
    refused = False
    for key, name, lora, checkpointing in configs:
        row = dict(key=key, name=name, trainable=None, rss_mib=None, step_s=None, refused=None)
        rows.append(row)
        need, free = needed_bytes(parameters, lora), mem_available_bytes()
        if free < need:
            refused = True
            row["refused"] = "needs ~%.1f GiB, MemAvailable %.1f GiB" % (need / GIB, free / GIB)
            print("%-20s refused: it needs about %.1f GiB and MemAvailable is %.1f GiB; run it "
                  "alone on a quieter machine: /usr/bin/python3 tests/bench/lora_memory.py "
                  "--model %s --threads %d --configs %s"
                  % (name, need / GIB, free / GIB, args.model, args.threads, key), flush=True)
            continue
        run, result, counts = run_config(args, ftworker, train, env, lora, checkpointing)
        if counts is not None:
            full_parameters = counts[1]
        row["trainable"] = counts[0] if counts is not None else None
        row["rss_mib"] = run.rss_mib
        row["step_s"] = result["timing"]["train_seconds"] / max(1, result["steps"])
        print("%-20s peak RSS %8.1f MiB, %.2f s/step" % (name, run.rss_mib, row["step_s"]),
              flush=True)
    if not any(r["key"] == "full" for r in rows):
        # Its gradients + state are exact from the parameter count without running it.
        rows.insert(0, dict(key="full", name="full", trainable=None, rss_mib=None, step_s=None,
                            refused=None))
    print_table(rows, full_parameters)
    if any(r["key"] == "full" for r in rows) and full_parameters == parameters:
        print("(full: %d parameters, the model's count; a LoRA run's log line would add the "
              "updates)" % parameters)
    return 2 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
