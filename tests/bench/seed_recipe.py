#!/usr/bin/python3
"""The seed's recipe (pad to the longest review, micro-batch 1, accumulation 16) against
ftworker's pipeline (dynamic padding, optionally length grouping, the same effective batch).

Usage (from the repository root, with Debian's /usr/bin/python3 and its PyTorch 1.13):

    /usr/bin/python3 tests/bench/seed_recipe.py --ftworker build/bin/ftworker

The seed (rasbt's gradient-accumulation blog; see ../shared/data/imdb/PROVENANCE.md) tokenized
each IMDB split at once with padding=True, so every review was padded to the longest review of
its split, then trained with micro-batch 1 and 16 accumulation steps (effective batch 16).

  * the seed's recipe (baseline): this script's --baseline mode, a PyTorch loop in Python doing
    exactly that with the BLOOM module of bloom_torch.py: the training subset byte-tokenized
    (id = 4 + byte, truncated to --max-seq-length) and padded as one tensor to its longest
    review, a TensorDataset, a DataLoader with batch size 1, loss / 16 accumulated over 16
    micro-batches, torch.optim.AdamW;
  * ours: ftworker with micro-batch 8 x accumulation 2 (--ours-batching; 16x1 gives the same
    effective batch 16 but needs twice the memory), its dynamic padding, plus --extra-spec (e.g.
    '{"group_by_length": true}' for length grouping once ftworker has it).

Data: the first --examples reviews of imdb/imdb_small_2000.csv (default 128). The byte
tokenizer makes reviews long (median 993 bytes, 10 % under 476, 10 % over 2,595, longest
10,321), so --max-seq-length decides how much padding the seed's recipe wastes, and with it
what speedup is possible at all. The script prints FLOP estimates
(6 x matmul parameters x tokens + attention 12 x layers x length^2 x hidden per sequence, padding
included) for the seed, for ftworker's micro-batches in its plain shuffled order, and for
micro-batches of length-sorted reviews (what grouping can reach), and their ratios, i.e. the
speedup that padding alone allows. For 128 reviews and bloom-small:

    max_seq_length  reviews cut  seed TFLOP  bound: plain 8x2  sorted 8x2  sorted 16x1  1x16
     512            84 %          1.6        1.00             1.04        1.03         1.06
    1024            55 %          4.1        1.00             1.21        1.18         1.25
    2048 (default)  19 %         11.5        1.00             1.95        1.85         2.05
    3072             7 %         22.3        1.20             2.97        2.78         3.26
    4096             2 %         36.3        1.52             4.21        3.71         4.80

The seed's cap was 1,024 BPE tokens, about 4,500 bytes, on reviews of ~1,300 bytes on average:
its padding waste lies between the 3072 and 4096 rows. A 3x target therefore needs --max-seq-length 3072 or
more, where the baseline's epoch of 128 reviews takes 10 to 15 minutes on 2 cores and
micro-batches of long reviews need a lot of memory (ftworker's peak RSS was 4.5 GiB for a
micro-batch of 4 reviews at 2048 bytes, so 8x2 needs ~9 GiB and 16x1 ~18 GiB; at 4096 about
four times that), so use micro-batches of 1 to 4 there (e.g. --ours-batching 2x8 with length grouping, or
'{"auto_micro_batch": true}' in --extra-spec once ftworker has it). The default (2048, 8x2)
fits a 24 GiB machine and shows the mechanism.

Time per epoch: the sum of the optimizer steps' times (ftworker: result.json's
timing.train_seconds; baseline: each window timed from its fetched examples to the end of
optimizer.step(), as ftworker's prefetch thread collates outside its clock). Both sides train the same examples in the same windows of 16 (ftworker's
shuffle, rebuilt by bench_common.py), from the same initial weights, with the same learning
rate; the validation loss after the epoch is printed for both (equal up to rounding when the
order is ftworker's default). Both run in one environment (bench_common.job_env:
OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS = threads, ftworker's malloc thresholds in
GLIBC_TUNABLES) with the same thread count. Target (issue 3): ours at least 3x faster per epoch.
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

TARGET = 3.0
SEED = 1


def flop_estimates(lengths, model, micro, accumulation):
    """Training FLOPs of one epoch over sequences of `lengths` (estimates): per sequence padded
    to n, 6 x matmul parameters x n plus attention (QK^T and PV, 4 n^2 hidden per layer forward,
    x3 with backward). seed: all padded to the longest; plain: ftworker's micro-batches in its
    shuffled order; sorted: consecutive micro-batches of the length-sorted reviews; unpadded:
    every sequence at its own length."""
    config = bc.model_config(model)
    hidden, layers = config["hidden_size"], config["n_layer"]

    def cost(n):
        return 6 * 12 * hidden * hidden * layers * n + 12 * layers * n * n * hidden

    windows = bc.plan_epoch(lengths, SEED, 1, micro, accumulation)
    ordered = sorted(lengths)
    return {
        "seed": len(lengths) * cost(max(lengths)),
        "plain": sum(len(m) * cost(max(lengths[i] for i in m)) for w in windows for m in w),
        "sorted": sum(len(ordered[b:b + micro]) * cost(max(ordered[b:b + micro]))
                      for b in range(0, len(ordered), micro)),
        "unpadded": sum(cost(n) for n in lengths),
    }


def run_baseline(config):
    """The seed's recipe; prints one JSON line."""
    start = time.perf_counter()
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset
    import bloom_torch

    torch.set_num_threads(config["threads"])

    def pad_split(texts, labels):
        """The whole split padded to its longest sequence (a tokenizer's padding=True)."""
        ids = [bc.byte_tokenize(t, config["max_seq_length"]) for t in texts]
        longest = max(len(i) for i in ids)
        input_ids = torch.full((len(ids), longest), bloom_torch.PAD_ID, dtype=torch.long)
        mask = torch.zeros((len(ids), longest), dtype=torch.long)
        for row, sequence in enumerate(ids):
            input_ids[row, :len(sequence)] = torch.tensor(sequence)
            mask[row, :len(sequence)] = 1
        return TensorDataset(input_ids, mask, torch.tensor(labels)), longest

    texts, labels = bc.read_csv_examples(config["train"])
    val_texts, val_labels = bc.read_csv_examples(config["validation"])
    train_ids, val_ids, num_labels = bc.label_ids(labels, val_labels)
    train_set, longest = pad_split(texts, train_ids)
    val_set, _ = pad_split(val_texts, val_ids)

    order = bc.epoch_order(len(train_set), config["seed"], 1)
    windows = bc.plan_windows(order, 1, config["accumulation_steps"])
    loader = DataLoader(train_set, batch_size=1, sampler=order)
    model = bloom_torch.build_model(config["model"], num_labels, config["seed"])
    model.train()
    optimizer = bloom_torch.make_adamw(model, config["learning_rate"])
    setup_seconds = time.perf_counter() - start

    batches = iter(loader)
    train_seconds, samples, computed = 0.0, 0, 0
    for window in windows:
        # Fetched before the clock starts, as ftworker's prefetch thread collates outside its.
        micro_batches = [next(batches) for _ in window]
        t0 = time.perf_counter()
        optimizer.zero_grad()
        window_size = len(window)  # micro-batches of one example
        bloom_torch.window_loss_backward(model, micro_batches, window_size)
        optimizer.step()
        train_seconds += time.perf_counter() - t0
        samples += window_size
        computed += window_size * longest

    model.eval()
    loss_sum = 0.0
    with torch.no_grad():
        for ids, mask, target in DataLoader(val_set, batch_size=16):
            loss_sum += float(F.cross_entropy(model(ids, mask), target, reduction="sum"))
    print(json.dumps({"train_seconds": train_seconds, "setup_seconds": setup_seconds,
                      "samples": samples, "longest": longest, "computed_tokens": computed,
                      "validation_loss": loss_sum / len(val_set)}))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Smoke run on a busy machine: --examples 32 --max-seq-length 128 --repeats 1 "
               "--max-load 100 --max-busy 1",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    bc.add_job_arguments(parser)
    parser.add_argument("--data",
                        default=os.path.join(bc.SHARED_DATA, "imdb", "imdb_small_2000.csv"))
    parser.add_argument("--model", default="scratch:bloom-small")
    parser.add_argument("--examples", type=int, default=128,
                        help="training reviews: the first rows of --data (default %(default)s)")
    parser.add_argument("--eval-examples", type=int, default=16,
                        help="validation reviews (the rows after the training ones), only to "
                             "check both sides trained the same model; not timed")
    parser.add_argument("--max-seq-length", type=int, default=2048,
                        help="bytes a review is cut to (default %(default)s; see above for what "
                             "it implies)")
    parser.add_argument("--accumulation", type=int, default=16,
                        help="the seed's accumulation steps (micro-batch 1); the effective "
                             "batch both sides use")
    parser.add_argument("--ours-batching", default="8x2",
                        help="ftworker's MICROxACCUMULATION (its product must equal "
                             "--accumulation)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs of each side, alternating which goes first; the fastest "
                             "epoch of each side is reported")
    bc.add_quiet_arguments(parser)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)  # internal: the PyTorch run
    args = parser.parse_args()

    if args.baseline:
        return run_baseline(json.loads(args.baseline))

    ftworker = bc.check_ftworker(args.ftworker)
    data = bc.check_data(args.data)
    extra = bc.parse_extra_spec(args.extra_spec)
    bc.model_config(args.model)
    micro, accumulation = bc.parse_batching(args.ours_batching, "--ours-batching")
    if micro * accumulation != args.accumulation:
        sys.exit("--ours-batching %s: effective batch %d, the seed's is %d" %
                 (args.ours_batching, micro * accumulation, args.accumulation))
    texts, labels = bc.read_csv_examples(data)
    if args.examples < 1 or args.eval_examples < 1 or \
            args.examples + args.eval_examples > len(texts):
        sys.exit("need 1 <= --examples, 1 <= --eval-examples and their sum <= %d (rows of %s)"
                 % (len(texts), data))
    env = bc.job_env(args.threads)  # the same for both sides

    bc.print_header(
        "seed_recipe: the seed's recipe (pad to the longest, micro-batch 1 x accumulation %d) "
        "in PyTorch vs ftworker %s; %s, first %d reviews, max_seq_length %d, %s, %d threads, "
        "OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=%d, fp32; ftworker %s; extra spec %s" %
        (args.accumulation, args.ours_batching, os.path.relpath(data, bc.REPO_ROOT),
         args.examples, args.max_seq_length, args.model, args.threads, args.threads, ftworker,
         json.dumps(extra) if extra else "none"))

    # What each side computes, in tokens (for ftworker in its default order).
    lengths = [len(bc.byte_tokenize(t, args.max_seq_length)) for t in texts[:args.examples]]
    real_tokens = sum(lengths)
    longest = max(lengths)
    ours_windows = bc.plan_epoch(lengths, SEED, 1, micro, accumulation)
    ours_computed = sum(len(m) * max(lengths[i] for i in m) for w in ours_windows for m in w)
    print("reviews: %d, %d to %d bytes after truncation (mean %.0f), %.0f %% cut to %d" %
          (args.examples, min(lengths), longest, real_tokens / args.examples,
           100.0 * sum(n == args.max_seq_length for n in lengths) / args.examples,
           args.max_seq_length))
    estimate = flop_estimates(lengths, args.model, micro, accumulation)
    print("FLOP estimate for the epoch: seed %.1f TFLOP; ftworker %dx%d in its plain order %.1f "
          "TFLOP (padding allows at most %.2fx), length-sorted micro-batches %.1f TFLOP (at most "
          "%.2fx); micro-batch 1, no padding: at most %.2fx" %
          (estimate["seed"] / 1e12, micro, accumulation, estimate["plain"] / 1e12,
           estimate["seed"] / estimate["plain"], estimate["sorted"] / 1e12,
           estimate["seed"] / estimate["sorted"], estimate["seed"] / estimate["unpadded"]),
          flush=True)

    load_before = bc.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    begin = time.perf_counter()
    ours_runs, base_runs, busy, problems = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="ftd-bench-data-") as data_dir:
        train = bc.write_csv_examples(os.path.join(data_dir, "train.csv"),
                                      texts[:args.examples], labels[:args.examples])
        validation = bc.write_csv_examples(
            os.path.join(data_dir, "validation.csv"),
            texts[args.examples:args.examples + args.eval_examples],
            labels[args.examples:args.examples + args.eval_examples])
        spec = bc.merge_spec({
            "model": args.model,
            "dataset": {"train": train, "validation": validation},
            "micro_batch_size": micro,
            "accumulation_steps": accumulation,
            "epochs": 1,
            "lr_scheduler": "constant",  # as the baseline
            "learning_rate": args.learning_rate,
            "max_seq_length": args.max_seq_length,
            "seed": SEED,
        }, extra)
        config = dict(train=train, validation=validation, model=args.model, threads=args.threads,
                      seed=SEED, accumulation_steps=args.accumulation,
                      learning_rate=args.learning_rate, max_seq_length=args.max_seq_length)
        print("ftworker spec: " + json.dumps(spec), flush=True)
        for repeat in range(args.repeats):
            for side in (("ours", "seed") if repeat % 2 == 0 else ("seed", "ours")):
                busy.append(bc.wait_for_idle_cpus(args.max_busy, deadline))
                with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
                    if side == "ours":
                        run, result, _ = bc.run_ftworker(ftworker, spec, args.threads, workdir,
                                                         env)
                        run.result = result
                        ours_runs.append(run)
                        print("  ftworker: epoch %.1f s, process %.1f s" %
                              (result["timing"]["train_seconds"], run.wall), flush=True)
                        if result["samples_seen"] != args.examples or \
                                result["tokens_seen"] != real_tokens:
                            problems.append("ftworker trained %d examples / %d tokens, expected "
                                            "%d / %d" % (result["samples_seen"],
                                                         result["tokens_seen"], args.examples,
                                                         real_tokens))
                    else:
                        run = bc.check_child(bc.run_child(
                            [sys.executable, os.path.abspath(__file__), "--baseline",
                             json.dumps(config)], env, workdir), "baseline")
                        run.measured = json.loads(run.stdout.strip().splitlines()[-1])
                        base_runs.append(run)
                        print("  seed recipe: epoch %.1f s, process %.1f s" %
                              (run.measured["train_seconds"], run.wall), flush=True)
                        if run.measured["samples"] != args.examples:
                            problems.append("the baseline trained %d examples" %
                                            run.measured["samples"])
    elapsed = time.perf_counter() - begin
    load_after = os.getloadavg()

    ours = min(ours_runs, key=lambda r: r.result["timing"]["train_seconds"])
    base = min(base_runs, key=lambda r: r.measured["train_seconds"])
    ours_epoch = ours.result["timing"]["train_seconds"]
    base_epoch = base.measured["train_seconds"]
    speedup = base_epoch / ours_epoch
    base_computed = base.measured["computed_tokens"]
    print()
    print("Time per epoch (sum of the optimizer steps' times; fastest of %d runs per side); "
          "computed tokens include padding:" % args.repeats)
    print()
    print("| recipe | micro x accumulation | padded to | computed tokens | padding share "
          "| epoch s | samples/s | speedup | validation loss | all runs (epoch s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("| seed (PyTorch) | 1 x %d | longest review (%d) | %d | %.0f %% | %.1f | %.2f | 1.00 "
          "| %.4f | %s |" %
          (args.accumulation, base.measured["longest"], base_computed,
           100 * (1 - real_tokens / base_computed), base_epoch, args.examples / base_epoch,
           base.measured["validation_loss"],
           " / ".join("%.1f" % r.measured["train_seconds"] for r in base_runs)))
    options = ours.result["options"]  # what ftworker used (an automatic micro-batch included)
    print("| ftworker%s | %d x %d | longest of each micro-batch | %s | %s | %.1f | %.2f | "
          "**%.2f** | %.4f | %s |" %
          (" + " + json.dumps(extra) if extra else "", options["micro_batch_size"],
           options["accumulation_steps"],
           "%d" % ours_computed if not extra else "(order changed)",
           "%.0f %%" % (100 * (1 - real_tokens / ours_computed)) if not extra else "-",
           ours_epoch, args.examples / ours_epoch, speedup,
           ours.result["metrics"]["validation"]["loss"],
           " / ".join("%.1f" % r.result["timing"]["train_seconds"] for r in ours_runs)))
    print()
    print("%s speedup %.2f (target >= %.1f)" %
          ("target met:" if speedup >= TARGET else "TARGET NOT MET:", speedup, TARGET))
    print("process wall times (best runs): seed recipe %.1f s, ftworker %.1f s" %
          (base.wall, ours.wall))
    print("load average before %.2f, after %.2f %.2f %.2f (these runs included); others' CPU "
          "use sampled before each run: at most %.0f %%; benchmark took %.0f s" %
          ((load_before[0],) + load_after + (100 * max(busy), elapsed)))
    for problem in problems:
        print("ERROR: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
