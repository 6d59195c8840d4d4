#!/usr/bin/python3
"""Peak memory of ftworker: gradient accumulation must not cost the memory of a large batch.

Usage (from the repository root):

    /usr/bin/python3 tests/bench/peak_memory.py --ftworker build/bin/ftworker

Trains scratch:bloom-small (4 layers, hidden 256, 8 heads) on IMDB reviews
(../shared/data/imdb/imdb_small_2000.csv; most are longer than 512 bytes, so micro-batches are
padded to max_seq_length 512 and activations dominate) for the same 64 examples three ways:

    1 x 1   micro-batch 1, no accumulation, 64 optimizer steps
    1 x 32  micro-batch 1, 32 micro-batches accumulated per step, 2 steps (effective batch 32)
    32 x 1  micro-batch 32, no accumulation, 2 steps (effective batch 32)

and 1 x 32 and 32 x 1 again with activation checkpointing (each block's activations recomputed in
the backward pass instead of kept),

and reads each ftworker process's peak resident set size (ru_maxrss of that child, from
os.wait4, the same figure as `/usr/bin/time -v`'s "Maximum resident set size"). Evaluation is
limited to 1 example so that it does not set the peak.

Expected: 1 x 32 within 10 % of 1 x 1 (accumulation keeps the activations of one micro-batch
alive at a time), 32 x 1 far above (here: at least twice). A missed expectation prints an
"EXPECTATION NOT MET" line but does not change the exit status (it is a benchmark); errors
(ftworker failing, wrong example counts) exit non-zero.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402

# (name, micro-batch, accumulation steps, activation checkpointing)
CONFIGS = [("1x1", 1, 1, False), ("1x32", 1, 32, False), ("32x1", 32, 1, False),
           ("1x32 ckpt", 1, 32, True), ("32x1 ckpt", 32, 1, True)]
ACCUMULATION_TOLERANCE = 0.10  # 1x32 may exceed 1x1 by at most this fraction
LARGE_BATCH_FACTOR = 2.0       # 32x1 must be at least this many times 1x1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--train",
                        default=os.path.join(bc.SHARED_DATA, "imdb", "imdb_small_2000.csv"))
    parser.add_argument("--model", default="scratch:bloom-small")
    parser.add_argument("--max-seq-length", type=int, default=512)
    parser.add_argument("--examples", type=int, default=64,
                        help="examples trained on in each configuration (a multiple of 32)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.examples % 32 != 0:
        sys.exit("--examples must be a multiple of 32")

    ftworker = bc.check_ftworker(args.ftworker)
    train = bc.check_data(args.train)
    env = bc.ftworker_env()
    print("# peak_memory: %s, %s, max_seq_length %d, %d examples per configuration, "
          "%d threads" % (args.model, os.path.relpath(train, bc.REPO_ROOT), args.max_seq_length,
                          args.examples, args.threads))
    print("# %s, %d CPUs, load average %.2f %.2f %.2f" %
          ((time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count()) + os.getloadavg()))

    rows, errors = [], []
    for name, micro, accumulation, checkpointing in CONFIGS:
        steps = args.examples // (micro * accumulation)
        spec = {
            "model": args.model,
            "dataset": {"train": train},
            "micro_batch_size": micro,
            "accumulation_steps": accumulation,
            "epochs": 1,
            "max_steps": steps,
            "learning_rate": 1e-3,
            "max_seq_length": args.max_seq_length,
            "log_every_steps": steps,
            "max_eval_examples": 1,
            "seed": 1,
            "activation_checkpointing": checkpointing,
        }
        with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
            run, result, _ = bc.run_ftworker(ftworker, spec, args.threads, workdir, env)
        rss_kib, wall = run.rss_mib * 1024.0, run.wall
        if result["samples_seen"] != args.examples or result["steps"] != steps:
            errors.append("%s: %d samples in %d steps, expected %d in %d" %
                          (name, result["samples_seen"], result["steps"], args.examples, steps))
        rows.append(dict(name=name, micro=micro, accumulation=accumulation, steps=steps,
                         checkpointing=checkpointing,
                         rss_mib=rss_kib / 1024.0, wall=wall, tokens=result["tokens_seen"],
                         train_seconds=result["timing"]["train_seconds"]))
        print("%-5s peak RSS %7.1f MiB  (%d steps, %d tokens, %.1f s)" %
              (name, rss_kib / 1024.0, steps, result["tokens_seen"], wall), flush=True)

    reference = rows[0]["rss_mib"]
    print()
    print("| config | micro x accumulation | activation checkpointing | effective batch | steps "
          "| peak RSS MiB | ratio to 1x1 | train s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | %d x %d | %s | %d | %d | %.1f | %.2f | %.1f |" %
              (r["name"], r["micro"], r["accumulation"], "yes" if r["checkpointing"] else "no",
               r["micro"] * r["accumulation"], r["steps"], r["rss_mib"], r["rss_mib"] / reference,
               r["train_seconds"]))
    print()

    by_name = {r["name"]: r for r in rows}
    accumulated = by_name["1x32"]["rss_mib"] / reference
    large = by_name["32x1"]["rss_mib"] / reference
    if accumulated <= 1 + ACCUMULATION_TOLERANCE:
        print("expectation met: 1x32 is %.2f x 1x1 (within %.0f %%)" %
              (accumulated, 100 * ACCUMULATION_TOLERANCE))
    else:
        print("EXPECTATION NOT MET: 1x32 uses %.2f x the peak memory of 1x1 (more than %.0f %% "
              "above)" % (accumulated, 100 * ACCUMULATION_TOLERANCE))
    if large >= LARGE_BATCH_FACTOR:
        print("expectation met: 32x1 is %.2f x 1x1 (at least %.1f x)" % (large,
                                                                          LARGE_BATCH_FACTOR))
    else:
        print("EXPECTATION NOT MET: 32x1 uses only %.2f x the peak memory of 1x1 (expected at "
              "least %.1f x)" % (large, LARGE_BATCH_FACTOR))
    for error in errors:
        print("ERROR: " + error)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
