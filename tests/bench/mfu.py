#!/usr/bin/python3
"""Model FLOP utilisation (MFU) of ftworker's training step, next to the fair PyTorch baseline's.

Usage (from the repository root, Debian's /usr/bin/python3 with its PyTorch 1.13, the LibTorch
that ftworker links):

    /usr/bin/python3 tests/bench/mfu.py --ftworker build/bin/ftworker
    /usr/bin/python3 tests/bench/mfu.py --ftworker before=/tmp/ftworker-old \\
        --ftworker after=build/bin/ftworker --models scratch:bloom-small --precisions fp32

For each model (--models) and precision (--precisions fp32,bf16) it trains --steps optimizer
steps of micro-batch x accumulation (--batching) on the first SST-2 training sentences
(../shared/data/sst2, byte tokens, max_seq_length 128), in fresh processes, the sides rotated over
--repeats: every ftworker given (NAME=PATH, several for a before/after comparison) and the
baseline, a plain PyTorch loop over bloom_torch.py's BLOOM (transformers' way: ALiBi and mask in
one baddbmm, fused tanh GeLU, softmax in float32) with ftworker's micro-batches and last-block
shortcut, torch.optim.AdamW, and for bf16 torch.autocast("cpu", bfloat16) around the forward as
ftworker's autocast does (loss in float32). One environment for all: OMP_WAIT_POLICY=PASSIVE,
OPENBLAS_NUM_THREADS = torch threads = --threads, ftworker's malloc thresholds in GLIBC_TUNABLES.
The first --warmup steps are left out on both sides; the step clock runs from the collated
micro-batches to after the optimizer step on both.

MFU = 6 x N x tokens/s / peak, N = the parameters of the linear layers (n_layer x 12 x hidden^2:
the embedding table, a lookup, and the 2-label head are left out), tokens = the token slots
computed (padding included); the same with the real (non-padding) tokens is the second figure.
The peak is measured in the same run (torch.mm of --peak-size square matrices at --threads, fp32
and bf16, best of --peak-repeats) and the nominal ~200 / ~385 GFLOP/s is shown beside it.
"executed GFLOP/s" counts what the step really computes: attention (QK^T and PV) included and
the last block computed only at the pooled token (keys and values everywhere), as both sides do.

Best and median over the repeats; the ratio is ftworker's tokens/s over the baseline's.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402  (no torch import)

NOMINAL_PEAK = {"fp32": 200.0, "bf16": 385.0}  # GFLOP/s on 2 threads, issue 17
BASELINE = "baseline"


# ---------------------------------------------------------------------------------------------
# Child processes: the peak and the baseline (torch imported only here)


def measure_peak(config):
    """Best GFLOP/s of torch.mm on square matrices, per precision; one JSON line."""
    import torch
    torch.set_num_threads(config["threads"])
    n = config["size"]
    result = {}
    for precision, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
        torch.mm(a, b)  # first call: oneDNN's kernel generation, OpenBLAS's buffers
        best = float("inf")
        for _ in range(config["repeats"]):
            start = time.perf_counter()
            torch.mm(a, b)
            best = min(best, time.perf_counter() - start)
        result[precision] = 2 * n ** 3 / best / 1e9
    print(json.dumps(result))


def run_baseline(config):
    """The PyTorch training loop; one JSON line with per-step seconds and the summed losses."""
    import contextlib
    import torch
    import bloom_torch

    torch.set_num_threads(config["threads"])
    ids, label_list, windows, model, optimizer = bloom_torch.training_setup(
        config, config["model"], last_block_only=True)
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) \
        if config["precision"] == "bf16" else contextlib.nullcontext
    step_seconds, losses, _ = bloom_torch.timed_classifier_steps(
        model, optimizer, ids, label_list, windows, autocast=autocast)
    print(json.dumps({"step_seconds": step_seconds, "losses": losses}))


def child_json(mode, config, env):
    with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
        run = bc.check_child(bc.run_child(
            [sys.executable, os.path.abspath(__file__), "--" + mode, json.dumps(config)], env,
            workdir), mode)
    return json.loads(run.stdout.strip().splitlines()[-1]), run


# ---------------------------------------------------------------------------------------------
# FLOPs


def model_flops_per_token(config):
    """6 N: forward and backward of the linear layers per token."""
    return 6 * bc.matmul_parameters(config)


def executed_flops(config, rows, seq):
    """Forward + backward FLOPs that a micro-batch of rows x seq really computes on both sides:
    every block but the last at every position; the last block's fused QKV projection at every
    position and its attention output, dense and MLP at the pooled one; attention (QK^T, PV)."""
    h, layers = config["hidden_size"], config["n_layer"]
    tokens = rows * seq
    linear = tokens * ((layers - 1) * 12 + 3) * h * h + rows * 9 * h * h
    attention = (layers - 1) * rows * 4 * seq * seq * h + rows * 4 * seq * h
    return 3 * 2 * linear + 3 * attention


# ---------------------------------------------------------------------------------------------
# One setting (model, precision, batching): every side, rotated over the repeats


def run_setting(model, precision, args, sides, data, env, deadline):
    config = bc.model_config(model)
    micro, accumulation = args.micro, args.accumulation
    run_config = dict(train=data, model=model, precision=precision, threads=args.threads,
                      micro_batch_size=micro, accumulation_steps=accumulation, steps=args.steps,
                      learning_rate=1e-4, max_seq_length=args.max_seq_length, seed=1)
    texts, _ = bc.read_csv_examples(data)
    lengths = [len(bc.byte_tokenize(t, args.max_seq_length)) for t in texts]
    windows = bc.training_windows(lengths, 1, micro, accumulation, args.steps)
    steady = windows[args.warmup:]
    slots = sum(len(m) * max(lengths[i] for i in m) for w in steady for m in w)
    real = sum(lengths[i] for w in steady for m in w for i in m)
    flops = sum(executed_flops(config, len(m), max(lengths[i] for i in m))
                for w in steady for m in w)

    seconds = {name: [] for name in sides}
    losses = {}
    names = list(sides)
    for repeat in range(args.repeats):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        for name in order:
            bc.wait_for_idle_cpus(args.max_busy, deadline)
            if name == BASELINE:
                measured, _ = child_json("baseline", run_config, env)
                seconds[name].append(sum(measured["step_seconds"][args.warmup:]))
                losses[name] = statistics.mean(measured["losses"][:args.warmup])
            else:
                spec = bc.timed_spec(dict(run_config, validation=data), args.warmup, 16)
                spec["precision"] = precision
                with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
                    _, result, out_dir = bc.run_ftworker(sides[name], spec, args.threads,
                                                         workdir, env)
                    # events.jsonl has the step times at full precision (the printed samples/s
                    # has one decimal, too coarse for a step of seconds).
                    progress = bc.progress_events(bc.read_events(out_dir))
                if result["pipeline"]["padding"]["slots"] != sum(
                        len(m) * max(lengths[i] for i in m) for w in windows for m in w):
                    sys.exit("%s computed other micro-batches than the plan" % name)
                first = progress[0]
                seconds[name].append(bc.steady_event_seconds(progress, args.warmup))
                losses[name] = float(first["loss"])  # per example over the first interval
            print("  %s %s %s repeat %d: %.2f s for steps %d..%d" %
                  (model, precision, name, repeat + 1, seconds[name][-1], args.warmup + 1,
                   args.steps), flush=True)
    return dict(model=model, precision=precision, config=config, seconds=seconds, slots=slots,
                real=real, flops=flops, padding=1 - real / slots, losses=losses)


# ---------------------------------------------------------------------------------------------
# Report


def summarize(setting, name, peak):
    runs = setting["seconds"][name]
    best, median = min(runs), statistics.median(runs)
    per_token = model_flops_per_token(setting["config"])
    figures = {}
    for label, seconds in (("best", best), ("median", median)):
        slots_rate = setting["slots"] / seconds
        figures[label] = dict(
            slots=slots_rate, real=setting["real"] / seconds,
            mfu=per_token * slots_rate / (peak * 1e9),
            mfu_real=per_token * setting["real"] / seconds / (peak * 1e9),
            mfu_nominal=per_token * slots_rate / (NOMINAL_PEAK[setting["precision"]] * 1e9),
            executed=setting["flops"] / seconds / 1e9)
    return figures


def print_report(settings, sides, peak, args):
    print()
    print("Peak (torch.mm %d x %d, %d threads, best of %d): fp32 %.0f GFLOP/s, bf16 %.0f GFLOP/s "
          "(nominal %.0f / %.0f)" % (args.peak_size, args.peak_size, args.threads,
                                     args.peak_repeats, peak["fp32"], peak["bf16"],
                                     NOMINAL_PEAK["fp32"], NOMINAL_PEAK["bf16"]))
    print()
    print("| model | precision | side | token slots/s best / median | real tokens/s best / "
          "median | MFU (measured peak) best / median | MFU real tokens best | MFU (nominal "
          "peak) best | executed GFLOP/s best | ratio to baseline best / median |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for setting in settings:
        figures = {name: summarize(setting, name, peak[setting["precision"]]) for name in sides}
        for name in sides:
            f = figures[name]
            ratio = "" if name == BASELINE else "**%.2f** / %.2f" % (
                f["best"]["slots"] / figures[BASELINE]["best"]["slots"],
                f["median"]["slots"] / figures[BASELINE]["median"]["slots"])
            print("| %s | %s | %s | %.0f / %.0f | %.0f / %.0f | **%.1f %%** / %.1f %% | %.1f %% "
                  "| %.1f %% | %.1f | %s |" %
                  (setting["model"].split(":")[-1], setting["precision"], name,
                   f["best"]["slots"], f["median"]["slots"], f["best"]["real"],
                   f["median"]["real"], 100 * f["best"]["mfu"], 100 * f["median"]["mfu"],
                   100 * f["best"]["mfu_real"], 100 * f["best"]["mfu_nominal"],
                   f["best"]["executed"], ratio))
    print()
    for setting in settings:
        print("%s %s: N = %.1fM linear parameters, padding %.0f %% of the token slots, mean loss "
              "of the first %d steps %s" % (setting["model"], setting["precision"],
                             bc.matmul_parameters(setting["config"]) / 1e6,
                             100 * setting["padding"], args.warmup,
                             ", ".join("%s %.4f" % kv for kv in sorted(setting["losses"].items()))))


def parse_sides(values):
    """--ftworker PATH or NAME=PATH, repeatable: {name: absolute path} plus the baseline."""
    sides = {}
    for value in values or [bc.DEFAULT_FTWORKER]:
        name, _, path = value.rpartition("=")
        name = name or ("ftworker" if len(values or [1]) == 1 else os.path.basename(path))
        if name in sides or name == BASELINE:
            sys.exit("--ftworker: the name %r is used twice" % name)
        sides[name] = bc.check_ftworker(path)
    sides[BASELINE] = None
    return sides


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", action="append",
                        help="PATH or NAME=PATH; repeat for a before/after comparison "
                             "(default %s)" % bc.DEFAULT_FTWORKER)
    parser.add_argument("--models", default="scratch:bloom-small,scratch:bloom-560m")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--batching", default="16x1", help="MICROxACCUMULATION")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=10,
                        help="first steps left out on every side (ftworker reports every "
                             "--warmup steps; --steps must be a multiple)")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-tsv", default=os.path.join(bc.SHARED_DATA, "sst2", "train.tsv"))
    parser.add_argument("--peak-size", type=int, default=2048)
    parser.add_argument("--peak-repeats", type=int, default=10)
    bc.add_quiet_arguments(parser)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)  # internal: the PyTorch run
    parser.add_argument("--peak", help=argparse.SUPPRESS)      # internal: the torch.mm peak
    args = parser.parse_args()
    if args.baseline:
        return run_baseline(json.loads(args.baseline))
    if args.peak:
        return measure_peak(json.loads(args.peak))

    args.micro, args.accumulation = bc.parse_batching(args.batching, "--batching")
    if args.warmup < 1 or args.steps <= args.warmup or args.steps % args.warmup:
        sys.exit("need --warmup >= 1 and --steps a multiple of --warmup above it")
    sides = parse_sides(args.ftworker)
    bc.print_header("mfu: %s, %s, %s, %d steps (first %d left out), %d threads, %d repeats" %
                    (args.models, args.precisions, args.batching, args.steps, args.warmup,
                     args.threads, args.repeats))
    env = bc.job_env(args.threads)
    bc.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    begin = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ftd-mfu-") as folder:
        texts, labels = bc.read_glue_tsv(bc.check_data(args.train_tsv))
        count = args.steps * args.micro * args.accumulation  # one epoch holds every step
        data = bc.write_csv_examples(os.path.join(folder, "train.csv"), texts[:count],
                                     labels[:count])
        peak, _ = child_json("peak", dict(threads=args.threads, size=args.peak_size,
                                          repeats=args.peak_repeats), env)
        settings = [run_setting(model, precision, args, sides, data, env, deadline)
                    for model in args.models.split(",")
                    for precision in args.precisions.split(",")]
    print_report(settings, sides, peak, args)
    print("load average after %.2f %.2f %.2f; %.0f s" % (os.getloadavg() + (
        time.perf_counter() - begin,)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
