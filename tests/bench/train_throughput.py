#!/usr/bin/python3
"""Training throughput: ftworker against the plain PyTorch loop a user would otherwise write.

Usage (from the repository root, with Debian's /usr/bin/python3 and its PyTorch 1.13, the same
LibTorch that ftworker links):

    /usr/bin/python3 tests/bench/train_throughput.py --ftworker build/bin/ftworker

For each thread count (1, 2) and each batching (micro-batch 16 x accumulation 1, micro-batch 4 x
accumulation 4) it runs, one after the other, each in a fresh process with OMP_WAIT_POLICY=PASSIVE:

  * ours: `ftworker --spec SPEC --out DIR --threads N` (scratch:bloom-tiny on TREC train,
    max_seq_length 128, AdamW lr 1e-3, --steps optimizer steps);
  * the baseline: this script's --baseline mode, a plain PyTorch training loop in Python:
    the same BLOOM-tiny architecture as an nn.Module (below), the same byte tokenization, the
    same micro-batches in the same order (ftworker's shuffle re-implemented in bench_common.py;
    checked through the token count ftworker reports), the same dynamic right padding, the same
    loss scaling for accumulation, torch.optim.AdamW(lr=1e-3, weight_decay=0),
    torch.set_num_threads(N).

Fairness: both sides time each optimizer step from its collated micro-batches (ftworker's
prefetch thread collates outside its clock; the baseline collates before starting its own) to
after optimizer.step(), and both exclude the first --warmup steps (ftworker reports every --warmup
steps, so its first progress interval is exactly the warm-up; later intervals give
time = samples / (samples/s)). Process start, data loading, model construction, evaluation and
writing the model are outside the timed steps on both sides (the process wall time is shown
separately). ftworker additionally computes the global gradient norm every step (for its
progress reports); the baseline does not.

The GFLOP/s figures are ESTIMATES: 6 x (matmul parameters, i.e. Linear weights, not the
embedding table) x (tokens computed, padding included) + attention (QK^T and PV,
4 * seq^2 * hidden per sequence and layer forward, x3 for forward + backward), divided by the
timed seconds, against the ~200 GFLOP/s fp32 peak assumed for this 2-core machine.

Each setting runs --repeats times per side (default 2, alternating which side goes first) and
the best run of each side is reported; all runs are printed as they finish.

Threads: --threads / torch.set_num_threads set ATen's OpenMP pool only. Debian's PyTorch and
ftworker both use OpenBLAS's pthread build for matrix products, which runs its own pool of one
thread per core unless OPENBLAS_NUM_THREADS is set. ftworker sets OpenBLAS's pool to
--threads itself, so by default (--openblas-threads match) both sides get
OPENBLAS_NUM_THREADS = the thread count. ftworker sets its malloc thresholds
with mallopt, so by default both sides get the same thresholds through GLIBC_TUNABLES
(--glibc-tunables none leaves the baseline at glibc's defaults). The baseline trains
ftworker's micro-batches (each window sorted longest first; checked through the padded token
slots ftworker reports) with bloom_torch.py's BLOOM (transformers' BLOOM: ALiBi and mask
through one baddbmm, fused tanh GeLU), by default with ftworker's last-block shortcut
(--baseline-shortcut).

Before measuring it waits (up to --max-wait seconds) for the 1-minute load average to drop
below --max-load, and before each run while other processes keep more than --max-busy of the
CPUs busy (sampled from /proc/stat); it prints what it measured under.
"""
import argparse
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402  (no torch import)

# The independent PyTorch BLOOM forward used by the unit tests (for ALiBi slopes and the
# safetensors reader; its forward is a float64 functional reference, not a trainable module).
sys.path.insert(0, os.path.join(bc.REPO_ROOT, "tests", "unit", "worker"))

PEAK_GFLOPS = 200.0
MODEL = "scratch:bloom-tiny"
TINY = bc.model_config(MODEL)


# ---------------------------------------------------------------------------------------------
# The baseline: a plain PyTorch training loop (the model is bloom_torch.py's nn.Module)


def run_baseline(config):
    """The plain PyTorch training loop; prints one JSON line with per-step times."""
    start = time.perf_counter()
    import torch
    import bloom_torch

    torch.set_num_threads(config["threads"])
    ids, label_list, windows, model, optimizer = bloom_torch.training_setup(
        config, MODEL, config["last_block_only"])
    step_seconds, losses, tokens = bloom_torch.timed_classifier_steps(
        model, optimizer, ids, label_list, windows)
    print(json.dumps({"step_seconds": step_seconds, "losses": losses, "tokens": tokens,
                      "threads": torch.get_num_threads(),
                      "process_seconds": time.perf_counter() - start}))


# ---------------------------------------------------------------------------------------------
# Running the two sides


def usage_of(run):
    return {"cpu": run.user + run.system, "system": run.system, "minflt": run.minflt}


def run_ours(ftworker, config, workdir, env):
    spec = bc.timed_spec(dict(config, model=MODEL), config["warmup"], config["eval_examples"])
    run, result, out_dir = bc.run_ftworker(ftworker, spec, config["threads"], workdir, env)
    return bc.progress_reports(run.stdout), result, out_dir, run.wall, usage_of(run)


def run_pytorch(config, env):
    with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
        run = bc.check_child(bc.run_child(
            [sys.executable, os.path.abspath(__file__), "--baseline", json.dumps(config)], env,
            workdir), "baseline")
    return json.loads(run.stdout.strip().splitlines()[-1]), run.wall, usage_of(run)


# ---------------------------------------------------------------------------------------------
# Measurement


def window_flops(window, lengths):
    """Estimated training FLOPs of one optimizer step (see the module docstring)."""
    return sum(bc.micro_batch_flops(TINY, len(micro), max(lengths[i] for i in micro))
               for micro in window)


def cross_check_model(out_dir, result, config):
    """Loads ftworker's trained weights into the baseline module and recomputes its reported
    validation loss: the baseline trains the same architecture, not merely a similar one."""
    import torch
    import torch.nn.functional as F
    import bloom_reference
    import bloom_torch
    texts, labels = bc.read_csv_examples(config["train"])
    val_texts, val_labels = bc.read_csv_examples(config["validation"])
    _, val_ids, num_labels = bc.label_ids(labels, val_labels)
    count = min(len(val_texts), config["eval_examples"])
    model = bloom_torch.BloomForSequenceClassification(num_labels, **TINY)
    params = bloom_reference.load_safetensors(os.path.join(out_dir, "model.safetensors"))
    model.load_state_dict({k: v.float() for k, v in params.items()}, strict=True)
    model.eval()
    examples = ([torch.tensor(bc.byte_tokenize(t, config["max_seq_length"]))
                 for t in val_texts[:count]], val_ids[:count])
    with torch.no_grad():
        ids, mask, target = bloom_torch.pad_batch(examples[0], examples[1])
        logits = model(ids, mask)
        loss = F.cross_entropy(logits, target, reduction="mean").item()
        # and the float64 functional reference of the unit tests on the same batch
        reference = bloom_reference.bloom_logits(params, ids, mask, TINY["n_head"],
                                                 TINY["n_layer"])
    reported = result["metrics"]["validation"]["loss"]
    difference = abs(loss - reported)
    reference_difference = (logits.double() - reference).abs().max().item()
    ok = difference < 1e-4 and reference_difference < 1e-4
    print("cross-check: ftworker's trained weights in the baseline module: validation loss "
          "%.6f vs ftworker's %.6f (|diff| %.1e); baseline logits vs float64 reference "
          "|diff| %.1e: %s" % (loss, reported, difference, reference_difference,
                                "OK" if ok else "MISMATCH"), flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--train", default=os.path.join(bc.SHARED_DATA, "trec", "train.csv"))
    parser.add_argument("--validation", default=os.path.join(bc.SHARED_DATA, "trec", "test.csv"))
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batching", default="16x1,4x4",
                        help="comma-separated MICROxACCUMULATION settings")
    parser.add_argument("--steps", type=int, default=110, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=10,
                        help="first steps excluded from the timing (both sides)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each side per setting, alternating which goes first; the "
                             "best (least disturbed) run of each side is reported")
    parser.add_argument("--openblas-threads", choices=("default", "match"), default="match",
                        help="match (default): OPENBLAS_NUM_THREADS = the thread count on both "
                             "sides (ftworker sets its OpenBLAS pool to --threads itself); "
                             "default: leave it unset (the baseline's OpenBLAS then runs a pool "
                             "of one thread per core, whatever torch.set_num_threads says)")
    parser.add_argument("--glibc-tunables", default=bc.FTWORKER_MALLOC_TUNABLES,
                        help="GLIBC_TUNABLES for both sides (default: ftworker's own malloc "
                             "thresholds, %(default)s, which it sets with mallopt whatever the "
                             "variable says; 'none' leaves the variable unset)")
    parser.add_argument("--baseline-shortcut", choices=("on", "off"), default="on",
                        help="on (default): the baseline's classifier computes the last block "
                             "at the pooled token only, as ftworker does (the same work); off: "
                             "at every position, as transformers' classifier does")
    bc.add_quiet_arguments(parser)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)  # internal: the PyTorch run
    args = parser.parse_args()

    if args.baseline:
        return run_baseline(json.loads(args.baseline))

    ftworker = bc.check_ftworker(args.ftworker)
    if args.warmup < 1 or args.repeats < 1 or args.steps <= args.warmup:
        sys.exit("need --warmup >= 1, --repeats >= 1 and --steps > --warmup")
    base = dict(train=bc.check_data(args.train), validation=bc.check_data(args.validation),
                steps=args.steps, warmup=args.warmup, learning_rate=1e-3, max_seq_length=128,
                seed=1, eval_examples=32, last_block_only=args.baseline_shortcut == "on")
    threads_list = [int(t) for t in args.threads.split(",")]
    batchings = [bc.parse_batching(b, "--batching") for b in args.batching.split(",")]

    texts, _ = bc.read_csv_examples(base["train"])
    lengths = [len(bc.byte_tokenize(t, base["max_seq_length"])) for t in texts]

    print("# train_throughput: %s, %s, %d steps per run (first %d excluded), "
          "max_seq_length %d, OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS %s, baseline "
          "last-block shortcut %s, best of %d runs per side" %
          (MODEL, os.path.relpath(base["train"], bc.REPO_ROOT), args.steps, args.warmup,
           base["max_seq_length"],
           "= threads" if args.openblas_threads == "match" else "unset",
           args.baseline_shortcut, args.repeats))
    print("# %s, %d CPUs, %s%s" % (time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count(),
                                   ftworker,
                                   ", GLIBC_TUNABLES=" + args.glibc_tunables
                                   if args.glibc_tunables != "none" else ""), flush=True)
    load_before = bc.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait  # for the waits before each run

    rows, problems, checked = [], [], False
    begin = time.perf_counter()
    for threads in threads_list:
        env = bc.ftworker_env()
        if args.openblas_threads == "match":
            env["OPENBLAS_NUM_THREADS"] = str(threads)
        else:
            env.pop("OPENBLAS_NUM_THREADS", None)
        if args.glibc_tunables != "none":
            env["GLIBC_TUNABLES"] = args.glibc_tunables
        else:
            env.pop("GLIBC_TUNABLES", None)
        for micro, accumulation in batchings:
            config = dict(base, threads=threads, micro_batch_size=micro,
                          accumulation_steps=accumulation)
            windows = bc.training_windows(lengths, config["seed"], micro, accumulation,
                                          args.steps)
            steady = windows[args.warmup:]
            steady_samples = sum(len(m) for w in steady for m in w)
            all_samples = sum(len(m) for w in windows for m in w)
            steady_flops = sum(window_flops(w, lengths) for w in steady)
            real_tokens = sum(lengths[i] for w in windows for m in w for i in m)
            padded_tokens = sum(len(m) * max(lengths[i] for i in m) for w in windows for m in w)

            ours_runs, base_runs, busy = [], [], []
            last_interval_begin = (args.steps - 1) // args.warmup * args.warmup
            for repeat in range(args.repeats):
                for side in (("ours", "pytorch") if repeat % 2 == 0 else ("pytorch", "ours")):
                    busy.append(bc.wait_for_idle_cpus(args.max_busy, deadline))
                    if side == "ours":
                        with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
                            reports, result, out_dir, wall, usage = run_ours(ftworker, config,
                                                                             workdir, env)
                            if not checked:
                                checked = True
                                if not cross_check_model(out_dir, result, config):
                                    problems.append("the baseline module does not reproduce "
                                                    "ftworker's model")
                        seconds, samples = bc.steady_seconds(
                            reports, [sum(len(m) for m in w) for w in windows], args.warmup)
                        if result["pipeline"]["padding"]["slots"] != padded_tokens:
                            problems.append(
                                "%dx%d threads %d: ftworker computed %d token slots, the "
                                "baseline's plan %d: not the same micro-batches" %
                                (micro, accumulation, threads,
                                 result["pipeline"]["padding"]["slots"], padded_tokens))
                        if result["tokens_seen"] != real_tokens or samples != steady_samples:
                            problems.append(
                                "%dx%d threads %d: ftworker saw %d tokens, the baseline's plan "
                                "%d: not the same batches" % (micro, accumulation, threads,
                                                              result["tokens_seen"],
                                                              real_tokens))
                        ours_runs.append(dict(seconds=seconds,
                                              all_seconds=result["timing"]["train_seconds"],
                                              wall=wall, usage=usage, loss=reports[-1][1]))
                    else:
                        measured, wall, usage = run_pytorch(config, env)
                        if measured["tokens"] != real_tokens:
                            problems.append("baseline token count %d != %d" %
                                            (measured["tokens"], real_tokens))
                        # loss over the steps of ftworker's last progress interval
                        last = measured["losses"][last_interval_begin:]
                        base_runs.append(dict(
                            seconds=sum(measured["step_seconds"][args.warmup:]),
                            all_seconds=sum(measured["step_seconds"]), wall=wall, usage=usage,
                            loss=sum(last) / len(last)))
            ours = min(ours_runs, key=lambda r: r["seconds"])
            pytorch = min(base_runs, key=lambda r: r["seconds"])
            row = dict(threads=threads, micro=micro, accumulation=accumulation,
                       base_sps=steady_samples / pytorch["seconds"],
                       ours_sps=steady_samples / ours["seconds"],
                       base_runs=[steady_samples / r["seconds"] for r in base_runs],
                       ours_runs=[steady_samples / r["seconds"] for r in ours_runs],
                       base_gflops=steady_flops / pytorch["seconds"] / 1e9,
                       ours_gflops=steady_flops / ours["seconds"] / 1e9,
                       base_all_sps=all_samples / pytorch["all_seconds"],
                       ours_all_sps=all_samples / ours["all_seconds"],
                       base_wall=pytorch["wall"], ours_wall=ours["wall"],
                       base_cores=pytorch["usage"]["cpu"] / pytorch["wall"],
                       ours_cores=ours["usage"]["cpu"] / ours["wall"],
                       base_sys=pytorch["usage"]["system"], ours_sys=ours["usage"]["system"],
                       base_faults=pytorch["usage"]["minflt"],
                       ours_faults=ours["usage"]["minflt"],
                       base_loss=pytorch["loss"], ours_loss=ours["loss"],
                       padding=1 - real_tokens / padded_tokens)
            row["ratio"] = row["ours_sps"] / row["base_sps"]
            rows.append(row)
            row["busy"] = max(busy)
            print("threads %d, %2dx%d: PyTorch %s samples/s, ftworker %s samples/s, best ratio "
                  "%.2f  (others' CPU use before the runs: at most %.0f %%)" %
                  (threads, micro, accumulation,
                   " / ".join("%.1f" % v for v in row["base_runs"]),
                   " / ".join("%.1f" % v for v in row["ours_runs"]),
                   row["ratio"], 100 * row["busy"]), flush=True)
    elapsed = time.perf_counter() - begin
    load_after = os.getloadavg()

    print()
    print("Steady state (steps %d..%d of each run; same micro-batches on both sides; best of "
          "%d runs per side):" % (args.warmup + 1, args.steps, args.repeats))
    print()
    print("| threads | micro x accum | PyTorch samples/s | ftworker samples/s | ours/PyTorch "
          "| PyTorch GFLOP/s (est.) | ftworker GFLOP/s (est.) | ftworker %% of ~%.0f peak (est.) |"
          % PEAK_GFLOPS)
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d x %d | %.1f | %.1f | **%.2f** | %.1f | %.1f | %.1f %% |" %
              (r["threads"], r["micro"], r["accumulation"], r["base_sps"], r["ours_sps"],
               r["ratio"], r["base_gflops"], r["ours_gflops"],
               100 * r["ours_gflops"] / PEAK_GFLOPS))
    print()
    print("Same runs: all steps including warm-up; process wall time (start to exit: imports, "
          "data, model, evaluation of %d examples, and for ftworker checkpoints and model "
          "files); CPU cores kept busy (user+system CPU time / wall time); system CPU seconds "
          "and minor page faults of the whole process; mean loss of the "
          "last progress interval (steps %d..%d):" % (base["eval_examples"],
                                                     (args.steps - 1) // args.warmup * args.warmup
                                                     + 1, args.steps))
    print()
    print("| threads | micro x accum | PyTorch samples/s (all steps) | ftworker samples/s "
          "(all steps) | PyTorch process s | ftworker process s | PyTorch cores busy "
          "| ftworker cores busy | PyTorch system s | ftworker system s | PyTorch minor faults "
          "| ftworker minor faults | PyTorch loss | ftworker loss |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %d | %d x %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %dk | %dk "
              "| %.3f | %.3f |" %
              (r["threads"], r["micro"], r["accumulation"], r["base_all_sps"], r["ours_all_sps"],
               r["base_wall"], r["ours_wall"], r["base_cores"], r["ours_cores"], r["base_sys"],
               r["ours_sys"], r["base_faults"] // 1000, r["ours_faults"] // 1000,
               r["base_loss"], r["ours_loss"]))
    print()
    print("padding: %s of the computed tokens are padding; GFLOP/s are estimates (6 x %d matmul "
          "parameters x computed tokens + attention), peak ~%.0f GFLOP/s fp32 assumed" %
          (", ".join("%dx%d %.0f %%" % (r["micro"], r["accumulation"], 100 * r["padding"])
                     for r in rows[:len(batchings)]),
           bc.matmul_parameters(TINY), PEAK_GFLOPS))
    print("load average before %.2f, after %.2f %.2f %.2f (these runs included); others' CPU "
          "use sampled before each run: at most %.0f %%; benchmark took %.0f s" %
          ((load_before[0],) + load_after + (100 * max(r["busy"] for r in rows), elapsed)))
    if problems:
        for problem in problems:
            print("ERROR: " + problem)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
