"""Helpers shared by the benchmarks in tests/bench (no torch import here).

- the repository layout (ftworker, ../shared/data),
- a "is the machine quiet" check on the load average,
- ftworker's data order (EpochOrder: mt19937_64 seeded through SplitMix64's finalizer, then a
  Fisher-Yates shuffle) and windows (PlanWindows), re-implemented so that a Python baseline
  can train on exactly the same micro-batches as ftworker,
- the byte tokenizer (id = 4 + byte, head kept), CSV reading and writing (Python's csv module),
- causal-LM rows (prompt/completion and text JSON Lines) and their examples as ftworker builds
  them (docs/causal_lm.md: EOS appended, the prompt masked, the head kept),
- the scratch models' shapes (common/models/model_catalog.cc) and their training FLOPs,
- running a child process with its own wall time, CPU time and peak memory, and ftworker's
  progress lines.
"""
import csv
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
DEFAULT_FTWORKER = os.path.join(REPO_ROOT, "build", "bin", "ftworker")

MASK64 = (1 << 64) - 1

# common/models/model_catalog.cc: the byte vocabulary is 260 ids; bloom-560m keeps BLOOM's own.
MODEL_CONFIGS = {
    "scratch:bloom-tiny": dict(vocab_size=260, hidden_size=128, n_layer=2, n_head=4),
    "scratch:bloom-small": dict(vocab_size=260, hidden_size=256, n_layer=4, n_head=8),
    "scratch:bloom-560m": dict(vocab_size=250880, hidden_size=1024, n_layer=24, n_head=16),
}


def model_config(name):
    if name not in MODEL_CONFIGS:
        sys.exit("unknown model %s (known: %s)" % (name, ", ".join(MODEL_CONFIGS)))
    return MODEL_CONFIGS[name]


def matmul_parameters(config, lm_head=False):
    """Weights of the matrix products per token: per block query_key_value 3h^2, dense h^2,
    h->4h 4h^2, 4h->h 4h^2; with lm_head the vocab x h output projection (a causal LM computes
    it at every position; a classifier's score head on one token per row is left out)."""
    hidden = config["hidden_size"]
    return (config["n_layer"] * 12 * hidden * hidden
            + (config["vocab_size"] * hidden if lm_head else 0))


def micro_batch_flops(config, rows, seq, lm_head=False):
    """Estimated training FLOPs (forward + backward = 3 x forward) of one micro-batch of `rows`
    sequences padded to `seq`: 6 x matmul parameters x computed tokens (padding included) +
    attention (QK^T and PV: 4 * seq^2 * hidden per sequence and layer forward, x3)."""
    return (6 * matmul_parameters(config, lm_head) * rows * seq
            + 3 * config["n_layer"] * 4 * rows * seq * seq * config["hidden_size"])

# ---------------------------------------------------------------------------------------------
# The machine


def wait_until_quiet(max_load, max_wait_s, poll_s=30.0, out=sys.stdout):
    """Waits (up to max_wait_s) until the 1-minute load average is below max_load.

    Returns the load average measured last (measure under it even if never quiet: a benchmark
    that refuses to run is less useful than one that says under which load it ran).
    """
    deadline = time.monotonic() + max_wait_s
    while True:
        load = os.getloadavg()
        if load[0] < max_load:
            print("load average %.2f %.2f %.2f: quiet enough (< %.1f)" % (load + (max_load,)),
                  file=out, flush=True)
            return load
        if time.monotonic() >= deadline:
            print("load average %.2f %.2f %.2f: STILL BUSY after waiting; measuring anyway, "
                  "figures may be low" % load, file=out, flush=True)
            return load
        print("load average %.2f %.2f %.2f: busy (>= %.1f), waiting %.0f s" %
              (load + (max_load, poll_s)), file=out, flush=True)
        time.sleep(poll_s)


def cpu_busy_fraction(seconds=1.0):
    """Share of all CPUs' time that was busy during the next `seconds` (from /proc/stat).

    Sampled while the benchmark itself runs nothing, so it measures everybody else. Unlike the
    load average it does not remember the benchmark's own previous runs.
    """
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values[:8]), idle

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    total = total1 - total0
    return (total - (idle1 - idle0)) / total if total > 0 else 0.0


def wait_for_idle_cpus(max_busy, deadline, poll_s=10.0, out=sys.stdout):
    """Before each measurement: waits until others use less than max_busy of the CPUs (or the
    monotonic deadline passes); returns the busy share measured last."""
    while True:
        busy = cpu_busy_fraction()
        if busy < max_busy or max_busy >= 1 or time.monotonic() >= deadline:
            if busy >= max_busy and max_busy < 1:
                print("  others keep %.0f %% of the CPUs busy; measuring anyway" % (100 * busy),
                      file=out, flush=True)
            return busy
        print("  others keep %.0f %% of the CPUs busy; waiting %.0f s" % (100 * busy, poll_s),
              file=out, flush=True)
        time.sleep(poll_s)


def ftworker_env():
    """Environment for ftworker and the baseline: OMP_WAIT_POLICY=PASSIVE.

    With libgomp's default (active spinning for a while after each parallel region) two threads
    on this 2-core machine spin against each other and against the main thread between the many
    small parallel regions of a small model; PASSIVE puts idle workers to sleep at once.
    """
    env = dict(os.environ)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env.pop("OMP_NUM_THREADS", None)  # the thread count is set explicitly on both sides
    return env


def add_quiet_arguments(parser, max_load=1.0, max_busy=0.25, max_wait=600.0):
    """--max-load / --max-busy / --max-wait; a smoke run on a busy machine passes e.g.
    --max-load 100 --max-busy 1 to skip the waits."""
    parser.add_argument("--max-load", type=float, default=max_load,
                        help="wait (up to --max-wait) for the 1-minute load average to fall "
                             "below this before starting (default %(default)s; 100 skips it)")
    parser.add_argument("--max-busy", type=float, default=max_busy,
                        help="before each run, wait while other processes keep more than this "
                             "share of the CPUs busy, sampled over 1 s (default %(default)s; "
                             "1 skips it)")
    parser.add_argument("--max-wait", type=float, default=max_wait,
                        help="seconds to wait for a quiet machine at the start, and again in "
                             "all for the checks before each run (default %(default)s)")


def add_job_arguments(parser):
    """--ftworker, --threads and --extra-spec, for the benchmarks that run whole jobs."""
    parser.add_argument("--ftworker", default=DEFAULT_FTWORKER)
    parser.add_argument("--threads", type=int, default=2,
                        help="threads on both sides (ftworker --threads, torch.set_num_threads, "
                             "OPENBLAS_NUM_THREADS; default %(default)s)")
    parser.add_argument("--extra-spec", default="",
                        help="a JSON object merged into ftworker's JobSpec, e.g. "
                             "'{\"group_by_length\": true}'; baselines are unchanged")


def parse_batching(text, flag):
    """"8x4" -> (8, 4)."""
    try:
        micro, accumulation = (int(v) for v in text.split("x"))
    except ValueError:
        sys.exit("%s: %r is not MICROxACCUMULATION (such as 16x1)" % (flag, text))
    if micro < 1 or accumulation < 1:
        sys.exit("%s: %r: both must be at least 1" % (flag, text))
    return micro, accumulation


def print_header(title, out=sys.stdout):
    """The benchmark's name and settings, the machine, the load and the exact command."""
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            memory = "%.1f GiB" % (int(f.readline().split()[1]) / 2 ** 20)
    except (OSError, ValueError, IndexError):
        memory = "? GiB"
    print("# " + title, file=out)
    print("# %s, %s, %d CPUs (%s), %s memory, load average %.2f %.2f %.2f" %
          ((time.strftime("%Y-%m-%d %H:%M:%S %Z"), platform.node(), os.cpu_count(), cpu, memory)
           + os.getloadavg()), file=out)
    print("# command: " + shlex.join([sys.executable] + sys.argv), file=out, flush=True)


class ChildRun:
    """A finished child process: returncode, wall seconds, user and system CPU seconds, peak
    resident set size (MiB), minor page faults, stdout and stderr text."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    @property
    def cores_busy(self):
        return (self.user + self.system) / self.wall if self.wall > 0 else 0.0


def run_child(command, env, workdir):
    """Runs `command` to completion with stdout and stderr in files under `workdir`.

    The wall time runs from just before the fork to the child's exit, i.e. the whole process
    (start-up included). The rusage is this child's own, from os.wait4 (the same figures as
    `/usr/bin/time -v`).
    """
    out_path = os.path.join(workdir, "child.stdout")
    err_path = os.path.join(workdir, "child.stderr")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path) as f:
        stderr = f.read()
    return ChildRun(returncode=process.returncode, wall=wall, user=usage.ru_utime,
                    system=usage.ru_stime, rss_mib=usage.ru_maxrss / 1024.0,
                    minflt=usage.ru_minflt, stdout=stdout, stderr=stderr)


def check_child(run, what):
    if run.returncode != 0:
        sys.exit("%s failed (exit %d):\n%s%s" % (what, run.returncode, run.stdout[-4000:],
                                                run.stderr[-4000:]))
    return run


def merge_spec(spec, extra):
    """`extra` (a JSON object, e.g. from --extra-spec) merged into the JobSpec `spec`; nested
    objects (dataset) are merged key by key."""
    merged = dict(spec)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_spec(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_extra_spec(text):
    try:
        extra = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        sys.exit("--extra-spec: not JSON: %s" % error)
    if not isinstance(extra, dict):
        sys.exit("--extra-spec: expected a JSON object such as '{\"group_by_length\": true}'")
    return extra


def timed_spec(config, log_every_steps, eval_examples):
    """The JobSpec of a throughput run from `config` (model, train, validation,
    micro_batch_size, accumulation_steps, steps, learning_rate, max_seq_length, seed, and task
    and packing when set): a validation file of its own, so that train is the whole file (no
    split) and the baseline trains on exactly its examples; as many epochs as max_steps needs;
    the learning rate held constant, as a plain AdamW has it."""
    spec = {
        "model": config["model"],
        "dataset": {"train": config["train"], "validation": config["validation"]},
        "micro_batch_size": config["micro_batch_size"],
        "accumulation_steps": config["accumulation_steps"],
        "epochs": 1000,
        "max_steps": config["steps"],
        "learning_rate": config["learning_rate"],
        "lr_scheduler": "constant",
        "max_seq_length": config["max_seq_length"],
        "log_every_steps": log_every_steps,
        "max_eval_examples": eval_examples,
        "seed": config["seed"],
    }
    for optional in ("task", "packing"):
        if optional in config:
            spec[optional] = config[optional]
    return spec


def run_ftworker(ftworker, spec, threads, workdir, env, extra_args=()):
    """One standalone ftworker job: (ChildRun, result.json as a dict, output folder)."""
    spec_path = os.path.join(workdir, "spec.json")
    out_dir = os.path.join(workdir, "out")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    run = check_child(run_child([ftworker, "--spec", spec_path, "--out", out_dir, "--threads",
                                 str(threads), "--log-level", "warn"] + list(extra_args), env,
                                workdir), "ftworker")
    with open(os.path.join(out_dir, "result.json")) as f:
        result = json.load(f)
    return run, result, out_dir


def read_events(out_dir):
    """ftworker's events.jsonl (one JSON object a line) in its output folder."""
    with open(os.path.join(out_dir, "events.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def progress_events(events):
    """The progress reports of read_events, in order: dicts with step, loss (full precision),
    step_seconds (the interval's mean step time), samples_per_second, tokens_seen..."""
    return [e["progress"] for e in events if "progress" in e]


def steady_event_seconds(progress, warmup):
    """Seconds of ftworker's steps warmup+1.. from its progress events when it reported every
    `warmup` steps: each interval is its step count x its mean step time."""
    seconds, previous = 0.0, 0
    for report in progress:
        step = int(report["step"])
        if previous >= warmup:
            seconds += float(report["step_seconds"]) * (step - previous)
        previous = step
    return seconds


PROGRESS = re.compile(r"^step (\d+)/(\d+) epoch \d+ loss ([0-9.eE+-]+|nan|inf) lr \S+ "
                      r"([0-9.]+) samples/s ([0-9.]+) tokens/s")


def progress_reports(stdout):
    """ftworker's progress lines: [(step, loss, samples/s, tokens/s)]."""
    reports = []
    for line in stdout.splitlines():
        match = PROGRESS.match(line.strip())
        if match:
            reports.append((int(match.group(1)), float(match.group(3)), float(match.group(4)),
                            float(match.group(5))))
    return reports


def steady_seconds(reports, window_samples, warmup):
    """(seconds, samples) of ftworker's steps warmup+1.. from its progress intervals when it
    reported every `warmup` steps; window_samples[i] is the example count of step i+1."""
    seconds, samples, previous = 0.0, 0, 0
    for step, _, samples_per_second, _ in reports:
        interval = sum(window_samples[previous:step])
        if previous >= warmup:
            seconds += interval / samples_per_second
            samples += interval
        previous = step
    return seconds, samples


# ftworker's mallopt at the start of main (worker/main.cc): freed activations stay in the heap
# instead of being trimmed and faulted back in at every step.
FTWORKER_MALLOC_TUNABLES = ("glibc.malloc.trim_threshold=134217728:"
                            "glibc.malloc.mmap_threshold=33554432")


def job_env(threads):
    """The one environment both sides of a comparison run in: ftworker_env() (passive OpenMP
    waiting), OPENBLAS_NUM_THREADS = threads (ftworker sets its OpenBLAS pool to --threads
    itself; a Python process gets the same only through this variable) and GLIBC_TUNABLES with
    ftworker's malloc thresholds (ftworker sets them itself with mallopt; without the variable
    the baseline would trim and fault its activation memory back in at every step)."""
    env = ftworker_env()
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["GLIBC_TUNABLES"] = FTWORKER_MALLOC_TUNABLES
    return env


def check_ftworker(path):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        sys.exit("ftworker not found at %s: build it with "
                 "`cmake --build build -j2 --target ftworker` or pass --ftworker" % path)
    return os.path.abspath(path)


def check_data(path):
    if not os.path.isfile(path):
        sys.exit("data file %s is missing (the benchmarks use ../shared/data next to the "
                 "repository; pass the path explicitly)" % path)
    return os.path.abspath(path)


# ---------------------------------------------------------------------------------------------
# ftworker's data pipeline


class MT19937_64:
    """std::mt19937_64 (the 64-bit Mersenne Twister, C++11 parameters)."""

    N, M = 312, 156
    MATRIX_A = 0xB5026F5AA96619E9
    UPPER, LOWER = 0xFFFFFFFF80000000, 0x7FFFFFFF

    def __init__(self, seed):
        mt = [0] * self.N
        mt[0] = seed & MASK64
        for i in range(1, self.N):
            mt[i] = (6364136223846793005 * (mt[i - 1] ^ (mt[i - 1] >> 62)) + i) & MASK64
        self.mt = mt
        self.index = self.N

    def _twist(self):
        mt, n, m = self.mt, self.N, self.M
        for i in range(n):
            y = (mt[i] & self.UPPER) | (mt[(i + 1) % n] & self.LOWER)
            mt[i] = mt[(i + m) % n] ^ (y >> 1) ^ (self.MATRIX_A if y & 1 else 0)
        self.index = 0

    def __call__(self):
        if self.index >= self.N:
            self._twist()
        y = self.mt[self.index]
        self.index += 1
        y ^= (y >> 29) & 0x5555555555555555
        y ^= (y << 17) & 0x71D67FFFEDA60000
        y ^= (y << 37) & 0xFFF7EEE000000000
        y ^= y >> 43
        return y & MASK64


def _mix(value):  # SplitMix64's finalizer, as in worker/data/example_sampler.cc
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def _uniform_below(generator, bound):
    threshold = ((1 << 64) - bound) % bound
    while True:
        value = generator()
        if value >= threshold:
            return value % bound


def epoch_order(n, seed, epoch):
    """ftworker's EpochOrder(n, seed, epoch)."""
    order = list(range(n))
    generator = MT19937_64(_mix(_mix(seed) ^ (epoch & MASK64)))
    for i in range(n, 1, -1):
        j = _uniform_below(generator, i)
        order[i - 1], order[j] = order[j], order[i - 1]
    return order


def plan_windows(order, micro_batch_size, accumulation_steps):
    """ftworker's PlanWindows: a list of windows (optimizer steps), each a list of micro-batches."""
    window_size = micro_batch_size * accumulation_steps
    windows = []
    for window_begin in range(0, len(order), window_size):
        window_end = min(len(order), window_begin + window_size)
        windows.append([order[b:min(window_end, b + micro_batch_size)]
                        for b in range(window_begin, window_end, micro_batch_size)])
    return windows


def plan_epoch(lengths, seed, epoch, micro_batch_size, accumulation_steps):
    """ftworker's PlanEpoch without group_by_length (worker/data/epoch_plan.h): EpochOrder, each
    window's examples sorted longest first (stable) before it is cut into micro-batches, so that
    the baseline computes exactly ftworker's micro-batches (a window's gradient is the same in
    any order, its padding is not)."""
    order = epoch_order(len(lengths), seed, epoch)
    window_size = micro_batch_size * accumulation_steps
    for begin in range(0, len(order), window_size):
        order[begin:begin + window_size] = sorted(order[begin:begin + window_size],
                                                  key=lambda i: -lengths[i])
    return plan_windows(order, micro_batch_size, accumulation_steps)


def training_windows(lengths, seed, micro_batch_size, accumulation_steps, steps):
    """The first `steps` windows ftworker trains on (epochs 1, 2, ... as needed); lengths[i] is
    example i's token count."""
    windows = []
    epoch = 1
    while len(windows) < steps:
        windows += plan_epoch(lengths, seed, epoch, micro_batch_size, accumulation_steps)
        epoch += 1
    return windows[:steps]


def read_csv_examples(path, text_column="text", label_column="label"):
    """(texts, labels) of a `text,label` CSV with Python's csv module (RFC 4180 quoting)."""
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts.append(row[text_column])
            labels.append(row[label_column])
    return texts, labels


def write_csv_examples(path, texts, labels):
    """A `text,label` CSV (RFC 4180 quoting) that ftworker and read_csv_examples both read."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels))
    return path


def read_glue_tsv(path):
    """(texts, labels) of a GLUE TSV (header `sentence<TAB>label`, no quoting)."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        text_at, label_at = header.index("sentence"), header.index("label")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            texts.append(fields[text_at])
            labels.append(fields[label_at])
    return texts, labels


def label_ids(train_labels, other_labels=()):
    """ftworker's LabelMap for canonical integer labels (the benchmark data sets) or sorted
    strings otherwise."""
    def canonical_int(s):
        return s.isdigit() and (s == "0" or not s.startswith("0"))

    if all(canonical_int(s) for s in train_labels):
        mapping = {s: int(s) for s in set(train_labels)}
    else:
        mapping = {s: i for i, s in enumerate(sorted(set(train_labels), key=str.encode))}
    return ([mapping[s] for s in train_labels], [mapping[s] for s in other_labels],
            max(mapping.values()) + 1)


def byte_tokenize(text, max_seq_length):
    """ftworker's ByteTokenizer: id = 4 + byte of the UTF-8 text, head kept, <unk> (0) if empty."""
    ids = [4 + b for b in text.encode("utf-8")[:max_seq_length]]
    return ids if ids else [0]


EOS_ID = 2           # ByteTokenizer::kEosId, BLOOM's </s>
IGNORED_LABEL = -100  # labels that are no loss term (prompt, padding), as in PyTorch and HF
# TREC's coarse classes by harvardnlp's ids (trec/PROVENANCE.md), as causal_lm_reference.py names
# them.
TREC_TYPES = ["description", "entity", "abbreviation", "human", "location", "number"]


def trec_prompt_completion_rows(path):
    """TREC questions as prompt/completion rows: "Question: Q\nType:" -> " TYPE"."""
    texts, labels = read_csv_examples(path)
    return [{"prompt": "Question: %s\nType:" % text, "completion": " " + TREC_TYPES[int(label)]}
            for text, label in zip(texts, labels)]


def text_rows(path, limit=None):
    """The texts of a `text,label` CSV as causal-LM `text` rows (every token a target)."""
    texts, _ = read_csv_examples(path)
    return [{"text": text} for text in texts[:limit]]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def lm_example(row, max_seq_length):
    """ftworker's training example of a prompt/completion or text row with the byte tokenizer
    (docs/causal_lm.md): ids = tokenize(prompt + completion) or tokenize(text), EOS appended,
    targets (0/1 per id) = the ids after the prompt's, the head of max_seq_length kept, the first
    id never a target. None for a row left without a target (ftworker skips it)."""
    untruncated = 1 << 31
    if "text" in row:
        ids, prompt_length = byte_tokenize(row["text"], untruncated), 0
    else:
        ids = byte_tokenize(row["prompt"] + row["completion"], untruncated)
        prompt_length = min(len(byte_tokenize(row["prompt"], untruncated)), len(ids))
    if ids[-1] != EOS_ID:
        ids.append(EOS_ID)
    targets = [0] * prompt_length + [1] * (len(ids) - prompt_length)
    ids, targets = ids[:max_seq_length], targets[:max_seq_length]
    targets[0] = 0
    return (ids, targets) if any(targets) else None


def lm_examples(rows, max_seq_length):
    """The examples ftworker trains on, in file order (rows without a target skipped)."""
    return [e for e in (lm_example(r, max_seq_length) for r in rows) if e is not None]


def _self_test():
    generator = MT19937_64(5489)
    for _ in range(9999):
        generator()
    assert generator() == 9981545732273789042, "mt19937_64 is wrong"  # the C++ standard's check
    # docs/causal_lm.md: EOS appended, the prompt masked, the head kept, the first id no target
    ids, targets = lm_example({"prompt": "Q:", "completion": " a"}, 8)
    assert ids == [4 + ord(c) for c in "Q: a"] + [EOS_ID] and targets == [0, 0, 1, 1, 1], ids
    # PlanEpoch: each window longest first, ties in shuffled order
    lengths = [5, 9, 9, 1, 7, 3, 8]
    for window in plan_epoch(lengths, 1, 1, 2, 2):
        flat = [i for micro in window for i in micro]
        assert [lengths[i] for i in flat] == sorted((lengths[i] for i in flat), reverse=True)
    assert sorted(i for w in plan_epoch(lengths, 1, 1, 2, 2) for m in w for i in m) == list(
        range(len(lengths)))
    ids, targets = lm_example({"text": "abc"}, 3)
    assert ids == [4 + ord(c) for c in "abc"] and targets == [0, 1, 1], (ids, targets)
    assert lm_example({"prompt": "long prompt", "completion": " x"}, 5) is None
    print("OK")


if __name__ == "__main__":
    _self_test()
