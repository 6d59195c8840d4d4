"""Helpers shared by the benchmarks in tests/bench (no torch import here).

- the repository layout (ftworker, ../shared/data),
- a "is the machine quiet" check on the load average,
- ftworker's data order (EpochOrder: mt19937_64 seeded through SplitMix64's finalizer, then a
  Fisher-Yates shuffle) and windows (PlanWindows), re-implemented so that a Python baseline
  can train on exactly the same micro-batches as ftworker,
- the byte tokenizer (id = 4 + byte, head kept) and a CSV reader (Python's csv module).
"""
import csv
import os
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED_DATA = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data"))
DEFAULT_FTWORKER = os.path.join(REPO_ROOT, "build", "bin", "ftworker")

MASK64 = (1 << 64) - 1

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
        if busy < max_busy or time.monotonic() >= deadline:
            if busy >= max_busy:
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


def _mix(value):  # SplitMix64's finalizer, as in worker/train/example_sampler.cc
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


def training_windows(n, seed, micro_batch_size, accumulation_steps, steps):
    """The first `steps` windows ftworker trains on (epochs 1, 2, ... as needed)."""
    windows = []
    epoch = 1
    while len(windows) < steps:
        windows += plan_windows(epoch_order(n, seed, epoch), micro_batch_size,
                                accumulation_steps)
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


def _self_test():
    generator = MT19937_64(5489)
    for _ in range(9999):
        generator()
    assert generator() == 9981545732273789042, "mt19937_64 is wrong"  # the C++ standard's check
    print("OK")


if __name__ == "__main__":
    _self_test()
