#!/usr/bin/python3
"""What gradient accumulation costs in ftworker: samples/s of micro-batch 8 x accumulation 4
against micro-batch 32 x 1 (the same effective batch of 32, the same data, fp32).

Usage (from the repository root):

    /usr/bin/python3 tests/bench/accumulation_overhead.py --ftworker build/bin/ftworker

Both configurations train scratch:bloom-small for --steps optimizer steps on the same examples:
the first steps x 32 rows of ag_news/train_subset.csv, one epoch. ftworker's windows hold the
same 32 examples per optimizer step in both (PlanWindows cuts the shuffled order into windows
of micro x accumulation, then into micro-batches), so both see the same examples per step and
the same tokens (checked: result.json's tokens_seen and samples_seen must be equal).

AG News at max_seq_length 128 is chosen because 91 % of its texts are longer than 128 bytes:
nearly every sequence is cut to 128, so micro-batches of 8 and of 32 pad alike and the ratio
measures the accumulation itself (four smaller forward/backward passes and one optimizer step
per window, against one larger pass). With texts of varied length (e.g. --data of SST-2
sentences converted to CSV) the smaller micro-batches pad less and 8x4 gains from that; the
printed padding shares show how much.

Timing: ftworker reports progress every --warmup steps; the first report's interval (the
warm-up: first allocations, OpenMP pool start) is left out and the later intervals give
steady samples/s = samples / (samples / (samples/s)). result.json's
timing.train_samples_per_second (all steps) is shown too. Each configuration runs --repeats
times, alternating the order; the best run of each is reported.

Target (issue 3): 8x4 at least 0.9x the samples/s of 32x1.
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

TARGET = 0.9
SEED = 1


def parse_batchings(text):
    batchings = [bc.parse_batching(item, "--configs") for item in text.split(",")]
    effective = {m * a for m, a in batchings}
    if len(batchings) < 2 or len(effective) != 1:
        sys.exit("--configs: need at least two settings with the same effective batch")
    return batchings, effective.pop()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Smoke run on a busy machine: --steps 4 --warmup 2 --repeats 1 --max-load 100 "
               "--max-busy 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bc.add_job_arguments(parser)
    parser.add_argument("--data",
                        default=os.path.join(bc.SHARED_DATA, "ag_news", "train_subset.csv"),
                        help="a text,label CSV (default %(default)s)")
    parser.add_argument("--model", default="scratch:bloom-small")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--configs", default="32x1,8x4",
                        help="MICROxACCUMULATION settings with one effective batch; the first "
                             "is the reference (default %(default)s)")
    parser.add_argument("--steps", type=int, default=60, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=10,
                        help="first steps left out of the steady samples/s")
    parser.add_argument("--repeats", type=int, default=2)
    bc.add_quiet_arguments(parser)
    args = parser.parse_args()

    ftworker = bc.check_ftworker(args.ftworker)
    data = bc.check_data(args.data)
    extra = bc.parse_extra_spec(args.extra_spec)
    bc.model_config(args.model)
    batchings, effective = parse_batchings(args.configs)
    if args.warmup < 1 or args.steps <= args.warmup or args.repeats < 1:
        sys.exit("need --warmup >= 1, --steps > --warmup and --repeats >= 1")
    texts, labels = bc.read_csv_examples(data)
    train_count, eval_count = args.steps * effective, 8
    if train_count + eval_count > len(texts):
        sys.exit("%s has %d rows; %d steps of %d need %d (+%d for validation)" %
                 (data, len(texts), args.steps, effective, train_count, eval_count))
    env = bc.job_env(args.threads)  # the same for both sides

    bc.print_header(
        "accumulation_overhead: ftworker %s, %s, %s (first %d rows), max_seq_length %d, %d "
        "steps (first %d left out), %d threads, OMP_WAIT_POLICY=PASSIVE, fp32, best of %d; "
        "ftworker %s; extra spec %s" %
        (" vs ".join("%dx%d" % b for b in batchings), args.model,
         os.path.relpath(data, bc.REPO_ROOT), train_count, args.max_seq_length, args.steps,
         args.warmup, args.threads, args.repeats, ftworker,
         json.dumps(extra) if extra else "none"))
    lengths = [len(bc.byte_tokenize(t, args.max_seq_length)) for t in texts[:train_count]]
    order = bc.epoch_order(train_count, SEED, 1)
    load_before = bc.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    begin = time.perf_counter()

    runs = {b: [] for b in batchings}
    busy, problems = [], []
    with tempfile.TemporaryDirectory(prefix="ftd-bench-data-") as data_dir:
        train = bc.write_csv_examples(os.path.join(data_dir, "train.csv"), texts[:train_count],
                                      labels[:train_count])
        validation = bc.write_csv_examples(
            os.path.join(data_dir, "validation.csv"),
            texts[train_count:train_count + eval_count],
            labels[train_count:train_count + eval_count])
        for repeat in range(args.repeats):
            for micro, accumulation in (batchings if repeat % 2 == 0 else batchings[::-1]):
                spec = bc.merge_spec({
                    "model": args.model,
                    "dataset": {"train": train, "validation": validation},
                    "micro_batch_size": micro,
                    "accumulation_steps": accumulation,
                    "epochs": 1,
                    "learning_rate": 1e-3,
                    "max_seq_length": args.max_seq_length,
                    "log_every_steps": args.warmup,
                    "max_eval_examples": eval_count,
                    "seed": SEED,
                }, extra)
                busy.append(bc.wait_for_idle_cpus(args.max_busy, deadline))
                with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
                    run, result, _ = bc.run_ftworker(ftworker, spec, args.threads, workdir, env)
                window_samples = [effective] * args.steps
                seconds, samples = bc.steady_seconds(bc.progress_reports(run.stdout),
                                                     window_samples, args.warmup)
                if result["steps"] != args.steps or result["samples_seen"] != train_count or \
                        seconds <= 0:
                    problems.append("%dx%d: %d steps, %d samples, %d steady samples; expected "
                                    "%d steps of %d" % (micro, accumulation, result["steps"],
                                                        result["samples_seen"], samples,
                                                        args.steps, effective))
                    continue
                run.result, run.steady = result, samples / seconds
                runs[(micro, accumulation)].append(run)
                print("  %dx%d: %.1f samples/s steady, %.1f over all steps (result.json), "
                      "process %.1f s, peak RSS %.0f MiB" %
                      (micro, accumulation, run.steady,
                       result["timing"]["train_samples_per_second"], run.wall, run.rss_mib),
                      flush=True)
    elapsed = time.perf_counter() - begin
    load_after = os.getloadavg()
    if problems or any(not r for r in runs.values()):
        for problem in problems:
            print("ERROR: " + problem)
        return 1

    tokens = {b: runs[b][0].result["tokens_seen"] for b in batchings}
    if len(set(tokens.values())) != 1:
        print("ERROR: the settings saw different tokens: %s" % tokens)
        return 1
    real = sum(lengths)
    reference = max(r.steady for r in runs[batchings[0]])
    print()
    print("| micro x accumulation | effective batch | steps | samples/s (steady, best) "
          "| ratio to %dx%d | samples/s (all steps) | padding share | peak RSS MiB "
          "| all runs (steady samples/s) |" % batchings[0])
    print("|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    for b in batchings:
        best = max(runs[b], key=lambda r: r.steady)
        ratios[b] = best.steady / reference
        micro, accumulation = b
        computed = sum(len(m) * max(lengths[i] for i in m)
                       for w in bc.plan_epoch(lengths, SEED, 1, micro, accumulation) for m in w)
        print("| %d x %d | %d | %d | %.1f | **%.2f** | %.1f | %s | %.0f | %s |" %
              (micro, accumulation, effective, args.steps, best.steady, ratios[b],
               best.result["timing"]["train_samples_per_second"],
               "%.1f %%" % (100 * (1 - real / computed)) if not extra else "-", best.rss_mib,
               " / ".join("%.1f" % r.steady for r in runs[b])))
    print()
    for b in batchings[1:]:
        print("%s %dx%d runs at %.2f x the samples/s of %dx%d (target >= %.1f)" %
              ("target met:" if ratios[b] >= TARGET else "TARGET NOT MET:", b[0], b[1],
               ratios[b], batchings[0][0], batchings[0][1], TARGET))
    print("load average before %.2f, after %.2f %.2f %.2f (these runs included); others' CPU "
          "use sampled before each run: at most %.0f %%; benchmark took %.0f s" %
          ((load_before[0],) + load_after + (100 * max(busy), elapsed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
