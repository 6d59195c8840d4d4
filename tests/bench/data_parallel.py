#!/usr/bin/python3
"""Data parallelism on this machine: 2 ranks of 1 thread against 1 rank of 1 thread, same job.

Usage (from the repository root):

    /usr/bin/python3 tests/bench/data_parallel.py --ftworker build/bin/ftworker

Both sides train the same scratch model on the same windows: the first steps x window rows of
ag_news/train_subset.csv, the effective batch --micro x 2. One rank runs micro x accumulation 2;
the gang runs 2 ranks of micro x 1 (`ftworker --rank R --world-size 2 --rendezvous
127.0.0.1:PORT`), each computing one micro-batch of every window, then all-reducing the
gradients (c10d, ProcessGroupGloo over loopback). Both report the job's samples/s (the gang's
rank 0 counts the whole window).

The gang overlaps each gradient bucket's all-reduce with the backward (`--gang-reduce
overlapped`, the default); --compare-after-backward adds a third side, the same gang with every
all-reduce started after the backward (`--gang-reduce after-backward`), for a before/after.

--baseline-ftworker PATH adds each gang again with another ftworker build (e.g. main's), for a
before/after of a change to the gang: the same job, rotated with the other sides.

Reported: samples/s of each (steady: the first progress interval, --warmup steps, left out),
the ratio (issue 16's goal: >= 1.8x), the exposed all-reduce's share of the gang's step time
(rank 0's progress lines: mean seconds from the end of the backward to the last sum's arrival,
waiting for the slower rank included, / mean step seconds) and its milliseconds per step, each
gang rank's peak RSS, and the bytes each rank puts into the all-reduce per optimizer step
against the model's size (model.safetensors). The sides run --repeats times, rotating which goes
first; best and median ratios are printed.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402  (no torch import)

TARGET = 1.8
GANG_LINE = re.compile(r"step (\d+)/\d+ .* ([0-9.]+) samples/s .* step ([0-9.]+)s "
                       r"exposed all-reduce ([0-9.]+)s")
OVERLAPPED, AFTER_BACKWARD = "overlapped", "after-backward"
BASELINE = "baseline build"
BYTES_LINE = re.compile(r"all-reduces (\d+) bytes of gradients")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def steady_samples_per_second(stdout, window, warmup):
    reports = bc.progress_reports(stdout)
    seconds, samples = bc.steady_seconds(reports, [window] * (reports[-1][0] if reports else 0),
                                         warmup)
    return samples / seconds if seconds > 0 else 0.0


def run_side(args, spec, world, workdir, gang_reduce=OVERLAPPED, ftworker=None):
    """{rate: samples/s, share: exposed all-reduce share or None, exposed_ms: its mean per step,
    sent: bytes per all-reduce or None, model_bytes, rss_mib: each rank's peak RSS}."""
    os.makedirs(workdir)
    micro = args.micro
    spec = dict(spec, micro_batch_size=micro, accumulation_steps=2 // world)
    spec_path = os.path.join(workdir, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out_dir = os.path.join(workdir, "out")
    port = free_port()
    processes = []
    for rank in range(world):
        command = [ftworker or args.ftworker, "--spec", spec_path, "--out", out_dir, "--threads",
                   "1", "--cache-dir", ""]
        if world > 1:
            command += ["--rank", str(rank), "--world-size", str(world), "--rendezvous",
                        "127.0.0.1:%d" % port, "--gang-reduce", gang_reduce]
        log = open(os.path.join(workdir, "rank%d.log" % rank), "w+")
        processes.append((subprocess.Popen(command, env=bc.ftworker_env(), stdout=log,
                                           stderr=subprocess.STDOUT, text=True), log))
    outputs, rss_mib = [], []
    for process, log in processes:
        # os.wait4: this rank's own peak RSS (as `/usr/bin/time -v` reports it).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        outputs.append(log.read())
        log.close()
        rss_mib.append(usage.ru_maxrss / 1024.0)
    for (p, _), output in zip(processes, outputs):
        if p.returncode != 0:
            sys.exit("ftworker failed (exit %d):\n%s" % (p.returncode, output[-4000:]))
    stdout = outputs[0]
    side = {"rate": steady_samples_per_second(stdout, micro * 2, args.warmup), "share": None,
            "exposed_ms": None, "sent": None, "rss_mib": rss_mib,
            "model_bytes": os.path.getsize(os.path.join(out_dir, "model.safetensors"))}
    if world > 1:
        steps = [m for m in (GANG_LINE.search(line) for line in stdout.splitlines()) if m]
        steady = [m for m in steps if int(m.group(1)) > args.warmup]
        step_s = statistics.mean(float(m.group(3)) for m in steady)
        reduce_s = statistics.mean(float(m.group(4)) for m in steady)
        side["share"] = reduce_s / step_s
        side["exposed_ms"] = 1000 * reduce_s
        found = BYTES_LINE.search(stdout)
        side["sent"] = int(found.group(1)) if found else None
    return side


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog="Smoke run on a busy machine: --steps 6 --warmup 2 "
                                            "--repeats 1 --max-load 100 --max-busy 1",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--model", default="scratch:bloom-small")
    parser.add_argument("--data", default=os.path.join(bc.SHARED_DATA, "ag_news",
                                                       "train_subset.csv"))
    parser.add_argument("--micro", type=int, default=8, help="rows per micro-batch")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5, help="steps per progress report; "
                        "the first report's steps are left out")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--compare-after-backward", action="store_true",
                        help="also run the gang with every all-reduce after the backward")
    parser.add_argument("--baseline-ftworker", help="also run each gang with this ftworker "
                        "(another build), for a before/after")
    bc.add_quiet_arguments(parser)
    args = parser.parse_args()
    bc.check_ftworker(args.ftworker)
    if args.baseline_ftworker:
        bc.check_ftworker(args.baseline_ftworker)
    bc.check_data(args.data)
    bc.print_header("data parallel: 2 ranks x 1 thread vs 1 rank x 1 thread")
    bc.wait_until_quiet(args.max_load, args.max_wait)

    with tempfile.TemporaryDirectory(prefix="ft_bench_dp_") as tmp:
        texts, labels = bc.read_csv_examples(args.data)
        rows = args.steps * args.micro * 2
        train = os.path.join(tmp, "train.csv")
        validation = os.path.join(tmp, "validation.csv")
        bc.write_csv_examples(train, texts[:rows], labels[:rows])
        bc.write_csv_examples(validation, texts[rows:rows + 64], labels[rows:rows + 64])
        spec = {"model": args.model, "dataset": {"train": train, "validation": validation},
                "epochs": 1, "max_steps": args.steps, "learning_rate": 1e-4,
                "lr_scheduler": "constant", "max_seq_length": args.max_seq_length,
                "log_every_steps": args.warmup, "max_eval_examples": 32, "seed": 1,
                "checkpoint_every_steps": 1000}
        gangs = [OVERLAPPED] + ([AFTER_BACKWARD] if args.compare_after_backward else [])
        # (world, --gang-reduce, label): the label names the ftworker build.
        sides = [(1, OVERLAPPED, "")] + [(2, reduce, "") for reduce in gangs]
        if args.baseline_ftworker:
            sides += [(2, reduce, BASELINE) for reduce in gangs]
        figures = {side: {"ratio": [], "share": [], "exposed_ms": [], "rss_mib": []}
                   for side in sides[1:]}
        sent = model_bytes = None
        for repeat in range(args.repeats):
            shift = repeat % len(sides)
            rates = {}
            for side in sides[shift:] + sides[:shift]:
                world, reduce, label = side
                bc.wait_for_idle_cpus(args.max_busy, time.monotonic() + args.max_wait)
                result = run_side(
                    args, spec, world,
                    os.path.join(tmp, "r%d-w%d-%s%s" % (repeat, world, reduce, label)), reduce,
                    args.baseline_ftworker if label == BASELINE else None)
                rates[side] = result["rate"]
                model_bytes = result["model_bytes"]
                if world == 2:
                    for key in ("share", "exposed_ms"):
                        figures[side][key].append(result[key])
                    figures[side]["rss_mib"].append(max(result["rss_mib"]))
                    sent = result["sent"] if not label else sent
            line = "repeat %d: 1 rank %.1f samples/s" % (repeat + 1, rates[sides[0]])
            for side in sides[1:]:
                figures[side]["ratio"].append(rates[side] / rates[sides[0]])
                line += ("; 2 ranks %s %.1f samples/s, ratio %.2fx, exposed all-reduce %.1f %% "
                         "of the step (%.1f ms), peak RSS %.0f MiB"
                         % (side_name(side), rates[side], figures[side]["ratio"][-1],
                            100 * figures[side]["share"][-1], figures[side]["exposed_ms"][-1],
                            figures[side]["rss_mib"][-1]))
            print(line, flush=True)

    print()
    print("| figure | best | median |")
    print("|---|---|---|")
    for side in sides[1:]:
        name, side_figures = side_name(side), figures[side]
        print("| samples/s ratio, 2 ranks x 1 thread (%s) / 1 rank x 1 thread (goal >= %.1fx) | "
              "%.2fx | %.2fx |" % (name, TARGET, max(side_figures["ratio"]),
                                   statistics.median(side_figures["ratio"])))
        print("| exposed all-reduce share of the gang's step time (%s) | %.1f %% | %.1f %% |"
              % (name, 100 * min(side_figures["share"]),
                 100 * statistics.median(side_figures["share"])))
        print("| exposed all-reduce per step (%s) | %.1f ms | %.1f ms |"
              % (name, min(side_figures["exposed_ms"]),
                 statistics.median(side_figures["exposed_ms"])))
        print("| peak RSS of the larger rank (%s) | %.0f MiB | %.0f MiB |"
              % (name, min(side_figures["rss_mib"]), statistics.median(side_figures["rss_mib"])))
    if sent is not None:
        print("| bytes into the all-reduce per optimizer step (each rank) | %d | "
              "model.safetensors: %d bytes (%.2fx) |" % (sent, model_bytes, sent / model_bytes))


def side_name(side):
    _, reduce, label = side
    return reduce + (", " + label if label else "")


if __name__ == "__main__":
    main()
