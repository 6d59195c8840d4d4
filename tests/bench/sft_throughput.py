#!/usr/bin/python3
"""Causal-LM finetuning (SFT): ftworker against the plain PyTorch SFT loop a user would write.

Usage (from the repository root, with Debian's /usr/bin/python3 and its PyTorch 1.13, the same
LibTorch that ftworker links):

    /usr/bin/python3 tests/bench/sft_throughput.py --ftworker build/bin/ftworker
    /usr/bin/python3 tests/bench/sft_throughput.py --smoke     # about a minute

The data (--data): TREC questions as prompt/completion rows, "Question: Q\\nType:" -> " TYPE"
(TREC's coarse class name, e.g. " location"), written as JSON Lines once before any timed run;
or AG News texts as `text` rows (--data ag_news: every token a target, longer rows). Byte
tokenizer (id = byte + 4), EOS (2) appended, the prompt masked, the head of --max-seq-length kept,
exactly as docs/causal_lm.md describes (bench_common.lm_example).

For each model (--models: scratch:bloom-tiny and scratch:bloom-small) and each batching
(--batching: micro-batch 4 x accumulation 4 and 16 x 1) it runs, each in a fresh process:

  * ours: `ftworker --spec SPEC --out DIR --threads N` with "task": "causal_lm", AdamW lr 1e-3
    (weight decay 0, constant schedule), --steps optimizer steps, a progress report every
    --warmup steps;
  * the baseline (this script's --baseline mode), a plain PyTorch SFT loop: bloom_torch.py's
    BloomForCausalLM (Hugging Face's names, lm_head tied to the word embeddings;
    torch.manual_seed(seed) gives ftworker's initial weights), ftworker's micro-batches in
    ftworker's order (bench_common's shuffle and windows), dynamic right padding, labels -100 on
    prompt and padding, each micro-batch's cross-entropy summed over its target tokens and
    divided by the WINDOW's target count (correct accumulation), torch.optim.AdamW as ftworker
    sets it up, torch.set_num_threads(N);
  * packed (unless --no-packing): ftworker again with "packing": true, the same windows laid end
    to end in rows of --max-seq-length (micro_batch_size rows per micro-batch), for the ratio
    packed / unpacked in the same run and the padding both computed (result.json's
    pipeline.padding).

Same conditions: both sides run with OMP_WAIT_POLICY=PASSIVE and OPENBLAS_NUM_THREADS = N
(ftworker sets its OpenBLAS pool itself), and the baseline with ftworker's malloc thresholds
(GLIBC_TUNABLES; ftworker calls mallopt). Each setting runs --repeats times per side, alternating
which side goes first; best and median are reported.

Times: the sum of the optimizer steps after the first --warmup. ftworker's step time runs from
zeroing the gradients to the end of optimizer.step() (its micro-batches are collated ahead on a
prefetch thread; it also computes the global gradient norm every step); the baseline's from
zeroing the gradients to the end of optimizer.step() less the time it spends collating the
window's micro-batches (as if a DataLoader worker had collated them ahead; reported apart). The
baseline's GeLU is the fused tanh kernel, as ftworker's. Rates: target tokens/s (the
loss terms), all tokens/s (real tokens, prompts included, padding not) and samples/s. GFLOP/s are
ESTIMATES (bench_common.micro_batch_flops with the LM head, padding included) against the
~200 GFLOP/s fp32 peak assumed for this 2-core machine.

Same computation: before timing a model, a check run of --check-steps steps with a progress
report every step (ftworker's events.jsonl, full precision) against the baseline's losses on the
first batching; the first step's loss must agree within 1e-4, else the script stops. ftworker's
tokens_seen must equal the baseline's plan in every run.

Memory: peak RSS (ru_maxrss of the child, from os.wait4) of ftworker and of the baseline for
micro-batch 4 with accumulation 1, 4 and 16 over the same --memory-examples examples, plus 16 x 1
(the effective batch of 4 x 4 in one micro-batch) for contrast: --memory-model on --memory-data
(default IMDB reviews as text rows at --memory-max-seq-length 512, so that activations dominate).
Expected: 4 x 16 within 10 % of 4 x 1.

Quiet machine: waits (up to --max-wait) for the 1-minute load below --max-load before starting,
and before each run while others keep more than --max-busy of the CPUs busy.
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

PEAK_GFLOPS = 200.0
LOSS_BAR = 1e-4
MEMORY_TOLERANCE = 0.10
LEARNING_RATE = 1e-3
SEED = 1
EVAL_EXAMPLES = 32
MEMORY_BATCHINGS = [(4, 1), (4, 4), (4, 16), (16, 1)]

# --data: (train rows, validation rows) from ../shared/data
DATASETS = {
    "trec": lambda: (bc.trec_prompt_completion_rows(
        bc.check_data(os.path.join(bc.SHARED_DATA, "trec", "train.csv"))),
        bc.trec_prompt_completion_rows(
            bc.check_data(os.path.join(bc.SHARED_DATA, "trec", "test.csv")))),
    "ag_news": lambda: (bc.text_rows(bc.check_data(
        os.path.join(bc.SHARED_DATA, "ag_news", "train_subset.csv"))),
        bc.text_rows(bc.check_data(os.path.join(bc.SHARED_DATA, "ag_news", "test.csv")),
                     EVAL_EXAMPLES)),
    "imdb": lambda: (bc.text_rows(bc.check_data(
        os.path.join(bc.SHARED_DATA, "imdb", "imdb_small_2000.csv"))), []),
}


# ---------------------------------------------------------------------------------------------
# The baseline: a plain PyTorch SFT loop


def run_baseline(config):
    """The plain PyTorch SFT loop; prints one JSON line with per-step times and losses."""
    start = time.perf_counter()
    import torch
    import bloom_torch

    torch.set_num_threads(config["threads"])
    with open(config["train"], encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    examples = bc.lm_examples(rows, config["max_seq_length"])
    windows = bc.training_windows(len(examples), config["seed"], config["micro_batch_size"],
                                  config["accumulation_steps"], config["steps"])

    model = bloom_torch.build_causal_lm(config["model"], config["seed"])
    model.train()
    optimizer = bloom_torch.make_adamw(model, config["learning_rate"])
    step_seconds, collate_seconds, losses, step_targets, tokens = [], [], [], [], 0
    for window in windows:
        t0 = time.perf_counter()
        optimizer.zero_grad()
        # The window's micro-batches are collated first: their target count divides every loss.
        batches = [bloom_torch.pad_lm_batch([examples[i] for i in micro]) for micro in window]
        targets = sum(bloom_torch.loss_terms(labels) for _, _, labels in batches)
        collate_seconds.append(time.perf_counter() - t0)
        loss_sum, window_tokens = bloom_torch.window_loss_backward(
            model, batches, targets, bloom_torch.token_loss_sum)
        optimizer.step()
        step_seconds.append(time.perf_counter() - t0)
        losses.append(float(loss_sum) / targets)
        step_targets.append(targets)
        tokens += window_tokens
    print(json.dumps({"step_seconds": step_seconds, "collate_seconds": collate_seconds,
                      "losses": losses, "step_targets": step_targets, "tokens": tokens,
                      "threads": torch.get_num_threads(),
                      "process_seconds": time.perf_counter() - start}))


# ---------------------------------------------------------------------------------------------
# Running the two sides


def run_ours(ftworker, config, env, log_every_steps, eval_examples=EVAL_EXAMPLES):
    """(ChildRun, result.json, progress events)."""
    with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
        run, result, out_dir = bc.run_ftworker(
            ftworker, bc.timed_spec(dict(config, task="causal_lm"), log_every_steps,
                                    eval_examples), config["threads"],
            workdir, env)
        return run, result, bc.progress_events(bc.read_events(out_dir))


def run_pytorch(config, env):
    """(ChildRun, the baseline's JSON line)."""
    with tempfile.TemporaryDirectory(prefix="ftd-bench-") as workdir:
        run = bc.check_child(bc.run_child(
            [sys.executable, os.path.abspath(__file__), "--baseline", json.dumps(config)], env,
            workdir), "baseline")
    return run, json.loads(run.stdout.strip().splitlines()[-1])


class Plan:
    """What both sides train on for one setting: counts and FLOPs of all steps and of the steps
    after the warm-up."""

    def __init__(self, examples, config, warmup, model_config):
        windows = bc.training_windows(len(examples), config["seed"], config["micro_batch_size"],
                                      config["accumulation_steps"], config["steps"])

        def totals(part):
            micros = [m for w in part for m in w]
            return dict(
                samples=sum(len(m) for m in micros),
                tokens=sum(len(examples[i][0]) for m in micros for i in m),
                targets=sum(sum(examples[i][1]) for m in micros for i in m),
                computed=sum(len(m) * max(len(examples[i][0]) for i in m) for m in micros),
                flops=sum(bc.micro_batch_flops(model_config, len(m),
                                               max(len(examples[i][0]) for i in m), lm_head=True)
                          for m in micros))

        self.all = totals(windows)
        self.steady = totals(windows[warmup:])


# ---------------------------------------------------------------------------------------------
# The checks and measurements


def check_same_losses(ftworker, config, env_ours, env_base, steps):
    """ftworker's per-step losses (events, full precision) against the baseline's; stops the
    script when the first differs by more than LOSS_BAR."""
    config = dict(config, steps=steps)
    _, _, progress = run_ours(ftworker, config, env_ours, log_every_steps=1, eval_examples=1)
    _, measured = run_pytorch(config, env_base)
    ours = [float(p["loss"]) for p in progress]
    theirs = measured["losses"]
    differences = [abs(a - b) for a, b in zip(ours, theirs)]
    print("check %s %dx%d: per-step loss ftworker %s, baseline %s, |diff| %s" %
          (config["model"], config["micro_batch_size"], config["accumulation_steps"],
           " ".join("%.6f" % v for v in ours), " ".join("%.6f" % v for v in theirs),
           " ".join("%.1e" % d for d in differences)), flush=True)
    if len(ours) != steps or not differences or differences[0] > LOSS_BAR:
        sys.exit("STOP: the first step's loss differs by more than %.0e (or a side reported "
                 "no loss): the two sides do not compute the same thing" % LOSS_BAR)
    return differences


def measure_setting(ftworker, config, plan, args, env_ours, env_base, deadline):
    """--repeats runs per side (ftworker, the baseline, ftworker with packing unless
    --no-packing), the order rotated from one repeat to the next."""
    sides = ["ours", "pytorch"] + ([] if args.no_packing else ["packed"])
    runs = {side: [] for side in sides}
    busy = []
    for repeat in range(args.repeats):
        for side in sides[repeat % len(sides):] + sides[:repeat % len(sides)]:
            busy.append(bc.wait_for_idle_cpus(args.max_busy, deadline))
            if side in ("ours", "packed"):
                run, result, progress = run_ours(
                    ftworker, dict(config, packing=side == "packed"), env_ours, args.warmup)
                padding = result["pipeline"]["padding"]
                if result["tokens_seen"] != plan.all["tokens"]:
                    sys.exit("ftworker saw %d tokens, the baseline's plan %d: not the same "
                             "batches" % (result["tokens_seen"], plan.all["tokens"]))
                seconds = bc.steady_event_seconds(progress, args.warmup)
                all_seconds = result["timing"]["train_seconds"]
                loss = float(progress[-1]["loss"])
                collate = 0.0  # on ftworker's prefetch thread, outside its step time
            if side == "pytorch":
                padding = None
                run, measured = run_pytorch(config, env_base)
                if measured["tokens"] != plan.all["tokens"]:
                    sys.exit("the baseline saw %d tokens, its plan %d" %
                             (measured["tokens"], plan.all["tokens"]))
                # Collating is left out of the baseline's time as ftworker's prefetch thread
                # leaves it out of its own (a DataLoader worker would do it ahead too).
                step = sum(measured["step_seconds"][args.warmup:])
                collate_seconds = sum(measured["collate_seconds"][args.warmup:])
                seconds = step - collate_seconds
                collate = collate_seconds / step
                all_seconds = sum(measured["step_seconds"])
                # ftworker's interval loss: the interval's summed loss / its target tokens
                begin = (args.steps - 1) // args.warmup * args.warmup
                loss = (sum(l * t for l, t in zip(measured["losses"][begin:],
                                                  measured["step_targets"][begin:]))
                        / sum(measured["step_targets"][begin:]))
            runs[side].append(dict(seconds=seconds, all_seconds=all_seconds, wall=run.wall,
                                   cores=run.cores_busy, rss=run.rss_mib, loss=loss,
                                   collate=collate, padding=padding))
            print("  %s run %d: %.1f target tokens/s, %.0f tokens/s (steady %.2f s, process "
                  "%.1f s, %.2f cores busy)" %
                  (side, repeat + 1, plan.steady["targets"] / seconds,
                   plan.steady["tokens"] / seconds, seconds, run.wall, run.cores_busy),
                  flush=True)
    return runs, max(busy)


def summarize(runs, plan):
    """Best and median rates of one side."""
    seconds = sorted(r["seconds"] for r in runs)
    best, median = seconds[0], statistics.median(seconds)
    steady = plan.steady
    return dict(best=best, median=median,
                targets_best=steady["targets"] / best, targets_median=steady["targets"] / median,
                tokens_best=steady["tokens"] / best, tokens_median=steady["tokens"] / median,
                samples_best=steady["samples"] / best,
                gflops_best=steady["flops"] / best / 1e9,
                all_targets=plan.all["targets"] / min(r["all_seconds"] for r in runs),
                wall=min(r["wall"] for r in runs), cores=statistics.median(r["cores"] for r in runs),
                rss=max(r["rss"] for r in runs), loss=runs[0]["loss"],
                collate=statistics.median(r["collate"] for r in runs), padding=runs[0]["padding"])


def measure_memory(ftworker, args, env_ours, env_base, deadline, workdir):
    """Peak RSS of both sides for MEMORY_BATCHINGS over the same examples."""
    train_rows, _ = DATASETS[args.memory_data]()
    examples = args.memory_examples
    train = bc.write_jsonl(os.path.join(workdir, "memory_train.jsonl"), train_rows[:examples])
    validation = bc.write_jsonl(os.path.join(workdir, "memory_validation.jsonl"),
                                train_rows[examples:examples + 1])
    kept = bc.lm_examples(train_rows[:examples], args.memory_max_seq_length)
    mean_length = sum(len(ids) for ids, _ in kept) / len(kept)
    print()
    print("memory: %s, %s text rows, %d examples (mean %.0f tokens at max_seq_length %d), "
          "%d threads" % (args.memory_model, args.memory_data, len(kept), mean_length,
                          args.memory_max_seq_length, args.threads), flush=True)
    rows = []
    for micro, accumulation in MEMORY_BATCHINGS:
        window = micro * accumulation
        if len(kept) % window:
            sys.exit("--memory-examples must be a multiple of %d" % window)
        config = dict(model=args.memory_model, train=train, validation=validation,
                      micro_batch_size=micro, accumulation_steps=accumulation,
                      steps=len(kept) // window, learning_rate=LEARNING_RATE,
                      max_seq_length=args.memory_max_seq_length, seed=SEED, threads=args.threads)
        bc.wait_for_idle_cpus(args.max_busy, deadline)
        ours, result, _ = run_ours(ftworker, config, env_ours, config["steps"], eval_examples=1)
        bc.wait_for_idle_cpus(args.max_busy, deadline)
        theirs, _ = run_pytorch(config, env_base)
        rows.append(dict(micro=micro, accumulation=accumulation, steps=config["steps"],
                         ours=ours.rss_mib, theirs=theirs.rss_mib,
                         train_seconds=result["timing"]["train_seconds"]))
        print("  %2d x %-2d ftworker %.0f MiB, baseline %.0f MiB" %
              (micro, accumulation, ours.rss_mib, theirs.rss_mib), flush=True)
    return rows


# ---------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--models", default="scratch:bloom-tiny,scratch:bloom-small")
    parser.add_argument("--data", choices=("trec", "ag_news"), default="trec",
                        help="trec: prompt/completion rows (default); ag_news: text rows")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2,
                        help="both sides (ftworker --threads, torch.set_num_threads, "
                             "OPENBLAS_NUM_THREADS; default %(default)s)")
    parser.add_argument("--batching", default="4x4,16x1",
                        help="comma-separated MICROxACCUMULATION settings")
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps per run")
    parser.add_argument("--warmup", type=int, default=10,
                        help="first steps excluded from the timing (both sides)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each side per setting, alternating which goes first")
    parser.add_argument("--check-steps", type=int, default=3,
                        help="steps of the loss check run per model")
    parser.add_argument("--memory-model", default="scratch:bloom-small")
    parser.add_argument("--memory-data", choices=("imdb", "ag_news"), default="imdb")
    parser.add_argument("--memory-max-seq-length", type=int, default=512)
    parser.add_argument("--memory-examples", type=int, default=64,
                        help="examples per memory run (a multiple of 64)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-RSS runs")
    parser.add_argument("--no-packing", action="store_true",
                        help="skip the ftworker runs with packing: true")
    parser.add_argument("--smoke", action="store_true",
                        help="small settings (about a minute): bloom-tiny, 4x4, 14 steps with 4 "
                             "warm-up, 1 repeat, memory at 128 tokens over 64 examples; the "
                             "figures only show that the script works")
    bc.add_quiet_arguments(parser)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)  # internal: the PyTorch run
    args = parser.parse_args()

    if args.baseline:
        return run_baseline(json.loads(args.baseline))
    if args.smoke:
        args.models, args.batching, args.steps, args.warmup, args.repeats = (
            "scratch:bloom-tiny", "4x4", 14, 4, 1)
        args.memory_model, args.memory_max_seq_length = "scratch:bloom-tiny", 128
        args.memory_examples = 64
    ftworker = bc.check_ftworker(args.ftworker)
    if args.warmup < 1 or args.repeats < 1 or args.steps <= args.warmup or args.check_steps < 1:
        sys.exit("need --warmup >= 1, --repeats >= 1, --check-steps >= 1, --steps > --warmup")
    models = args.models.split(",")
    for model in models:
        bc.model_config(model)
    batchings = [bc.parse_batching(b, "--batching") for b in args.batching.split(",")]

    bc.print_header("sft_throughput: %s, %s %s rows, max_seq_length %d, %d threads, %d steps per "
                    "run (first %d excluded), %d runs per side" %
                    (", ".join(models), args.data,
                     "prompt/completion" if args.data == "trec" else "text",
                     args.max_seq_length, args.threads, args.steps, args.warmup, args.repeats))
    load_before = bc.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    env_ours = bc.ftworker_env()
    env_base = bc.baseline_env(args.threads, malloc_like_ftworker=True)
    begin = time.perf_counter()

    workdir_holder = tempfile.TemporaryDirectory(prefix="ftd-sft-")
    workdir = workdir_holder.name
    train_rows, validation_rows = DATASETS[args.data]()
    train = bc.write_jsonl(os.path.join(workdir, "train.jsonl"), train_rows)
    validation = bc.write_jsonl(os.path.join(workdir, "validation.jsonl"),
                                validation_rows[:EVAL_EXAMPLES])
    examples = bc.lm_examples(train_rows, args.max_seq_length)
    print("data: %d of %d rows kept (%d without a target within max_seq_length); per example "
          "%.1f tokens, %.1f targets on average" %
          (len(examples), len(train_rows), len(train_rows) - len(examples),
           sum(len(e[0]) for e in examples) / len(examples),
           sum(sum(e[1]) for e in examples) / len(examples)), flush=True)

    rows, check_differences = [], {}
    for model in models:
        base = dict(model=model, train=train, validation=validation,
                    learning_rate=LEARNING_RATE, max_seq_length=args.max_seq_length, seed=SEED,
                    threads=args.threads, steps=args.steps)
        micro, accumulation = batchings[0]
        check_differences[model] = check_same_losses(
            ftworker, dict(base, micro_batch_size=micro, accumulation_steps=accumulation),
            env_ours, env_base, args.check_steps)
        for micro, accumulation in batchings:
            config = dict(base, micro_batch_size=micro, accumulation_steps=accumulation)
            plan = Plan(examples, config, args.warmup, bc.model_config(model))
            print("%s %dx%d:" % (model, micro, accumulation), flush=True)
            runs, busy = measure_setting(ftworker, config, plan, args, env_ours, env_base,
                                         deadline)
            ours, theirs = summarize(runs["ours"], plan), summarize(runs["pytorch"], plan)
            packed = summarize(runs["packed"], plan) if "packed" in runs else None
            rows.append(dict(model=model, micro=micro, accumulation=accumulation, ours=ours,
                             theirs=theirs, packed=packed, busy=busy, plan=plan))
            print("  best ratio %.2f, median ratio %.2f" %
                  (ours["targets_best"] / theirs["targets_best"],
                   ours["targets_median"] / theirs["targets_median"]), flush=True)
            if packed:
                print("  packed / unpacked ftworker: best ratio %.2f, median ratio %.2f" %
                      (packed["targets_best"] / ours["targets_best"],
                       packed["targets_median"] / ours["targets_median"]), flush=True)

    memory = [] if args.no_memory else measure_memory(ftworker, args, env_ours, env_base,
                                                       deadline, workdir)
    elapsed = time.perf_counter() - begin
    load_after = os.getloadavg()
    workdir_holder.cleanup()

    print()
    print("Steady state (steps %d..%d; the same micro-batches on both sides; %d runs per side; "
          "ratio = ftworker / PyTorch):" % (args.warmup + 1, args.steps, args.repeats))
    print()
    print("| model | micro x accum | PyTorch target tok/s best / median | ftworker target tok/s "
          "best / median | PyTorch all tok/s best / median | ftworker all tok/s best / median "
          "| ratio best | ratio median | PyTorch GFLOP/s (est.) | ftworker GFLOP/s (est.) "
          "| ftworker %% of ~%.0f peak |" % PEAK_GFLOPS)
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, t = r["ours"], r["theirs"]
        print("| %s | %d x %d | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | %.0f / %.0f | **%.2f** "
              "| %.2f | %.1f | %.1f | %.1f %% |" %
              (r["model"].split(":")[-1], r["micro"], r["accumulation"], t["targets_best"],
               t["targets_median"], o["targets_best"], o["targets_median"], t["tokens_best"],
               t["tokens_median"], o["tokens_best"], o["tokens_median"],
               o["targets_best"] / t["targets_best"], o["targets_median"] / t["targets_median"],
               t["gflops_best"], o["gflops_best"], 100 * o["gflops_best"] / PEAK_GFLOPS))
    print()
    print("Same runs: samples/s (best), process wall s (best: start to exit, evaluation of %d "
          "examples and ftworker's files included), cores busy (median), peak RSS MiB (max), "
          "loss per target token over the last progress interval (first run), padding share of the computed "
          "tokens, share of the baseline's steady step time spent collating (median):" % EVAL_EXAMPLES)
    print()
    print("| model | micro x accum | PyTorch samples/s | ftworker samples/s | PyTorch process s "
          "| ftworker process s | PyTorch cores | ftworker cores | PyTorch RSS | ftworker RSS "
          "| PyTorch loss | ftworker loss | padding | PyTorch collating |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        o, t, plan = r["ours"], r["theirs"], r["plan"]
        print("| %s | %d x %d | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | %.0f | %.4f "
              "| %.4f | %.0f %% | %.1f %% |" %
              (r["model"].split(":")[-1], r["micro"], r["accumulation"], t["samples_best"],
               o["samples_best"], t["wall"], o["wall"], t["cores"], o["cores"], t["rss"],
               o["rss"], t["loss"], o["loss"],
               100 * (1 - plan.all["tokens"] / plan.all["computed"]), 100 * t["collate"]))
    print()
    if any(r["packed"] for r in rows):
        print("Packing (ftworker with \"packing\": true against ftworker without, the same runs; "
              "the same windows and gradients, examples laid end to end in rows of "
              "max_seq_length; padding = share of the computed token slots):")
        print()
        print("| model | micro x accum | unpacked target tok/s best / median | packed target "
              "tok/s best / median | ratio best | ratio median | padding unpacked | padding "
              "packed | token slots unpacked / packed | loss unpacked / packed |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            o, p = r["ours"], r["packed"]
            if not p:
                continue
            print("| %s | %d x %d | %.0f / %.0f | %.0f / %.0f | **%.2f** | %.2f | %.1f %% | "
                  "%.1f %% | %d / %d | %.4f / %.4f |" %
                  (r["model"].split(":")[-1], r["micro"], r["accumulation"], o["targets_best"],
                   o["targets_median"], p["targets_best"], p["targets_median"],
                   p["targets_best"] / o["targets_best"],
                   p["targets_median"] / o["targets_median"],
                   100 * o["padding"]["fraction"], 100 * p["padding"]["fraction"],
                   o["padding"]["slots"], p["padding"]["slots"], o["loss"], p["loss"]))
        print()
    for model, differences in check_differences.items():
        print("loss check %s (%dx%d, %d steps): max |ftworker - PyTorch| per step %s (bar %.0e "
              "on the first)" % (model, batchings[0][0], batchings[0][1], args.check_steps,
                                 ", ".join("%.1e" % d for d in differences), LOSS_BAR))
    if memory:
        print()
        print("Peak RSS (MiB), %s, %s text rows, max_seq_length %d, %d examples each:" %
              (args.memory_model, args.memory_data, args.memory_max_seq_length,
               args.memory_examples))
        print()
        print("| micro x accum | steps | ftworker peak RSS MiB | ratio to 4 x 1 | PyTorch peak RSS "
              "MiB | ratio to 4 x 1 | ftworker train s |")
        print("|---|---|---|---|---|---|---|")
        reference = memory[0]
        for m in memory:
            print("| %d x %d | %d | %.0f | %.2f | %.0f | %.2f | %.1f |" %
                  (m["micro"], m["accumulation"], m["steps"], m["ours"],
                   m["ours"] / reference["ours"], m["theirs"], m["theirs"] / reference["theirs"],
                   m["train_seconds"]))
        accumulated = max(m["ours"] for m in memory if m["micro"] == 4) / reference["ours"]
        print()
        print("%s: ftworker's largest micro-batch-4 peak is %.2f x that of 4 x 1 (bar %.2f)" %
              ("expectation met" if accumulated <= 1 + MEMORY_TOLERANCE
               else "EXPECTATION NOT MET", accumulated, 1 + MEMORY_TOLERANCE))
    print()
    print("load average before %.2f, after %.2f %.2f %.2f; others' CPU use before the runs: at "
          "most %.0f %%; benchmark took %.0f s" %
          ((load_before[0],) + load_after + (100 * max(r["busy"] for r in rows), elapsed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
