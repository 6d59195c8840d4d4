#!/usr/bin/python3
"""Where a training step's time goes in ftworker: LibTorch's autograd profiler, by op kind.

Usage (from the repository root):

    /usr/bin/python3 tests/bench/profile_step.py --ftworker build/bin/ftworker \\
        --model scratch:bloom-small --precision fp32 --batching 16x1
    /usr/bin/python3 tests/bench/profile_step.py --trace TRACE.json --steps 10   # a saved trace

It trains 3 x --interval optimizer steps on the first SST-2 training sentences (byte tokens,
max_seq_length 128, AdamW) with `ftworker --profile-trace`, which records every operator of the
training thread from the first progress report to the second (steps interval+1 .. 2 x interval;
the first interval is the warm-up), and a third interval without the profiler, whose step time
shows the profiler's own cost. The trace's events are nested per thread; each event's self time
(its duration less its children's) goes to

  * the phase: forward (inside ftworker's ft::forward scope), loss (ft::loss), backward (inside
    the autograd engine's "evaluate_function: XBackward0", or the engine itself under
    ft::backward), the optimizer step (ft::optimizer_step), the gradient norm (ft::grad_norm),
    or none (zero_grad and bookkeeping; a build whose optimizer has no scope puts AdamW here);
  * the op kind: in the forward pass the outermost operator below ft::forward (aten::linear with
    the casts autocast adds, aten::baddbmm, ...), in the backward pass the autograd node
    (AddmmBackward0 -> linear layers, BmmBackward0 -> attention probs x values, ...).

Collation runs on the prefetch thread outside the step and is not in the trace; the allocator's
time (page faults, malloc) is inside the operators that allocate: the run's minor page faults and
system time are printed beside the table.
"""
import argparse
import collections
import json
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402

BACKWARD_NODE = "autograd::engine::evaluate_function: "
SCOPES = {"ft::forward": "forward", "ft::loss": "loss", "ft::backward": "backward",
          "ft::optimizer_step": "optimizer step", "ft::grad_norm": "gradient norm",
          "ft::clip_gradients": "gradient clipping"}

LAYOUT = "layout: views, transposes, copies, gathers"
FORWARD_KINDS = [
    (r"aten::linear$", "linear layers (GEMM + bias)"),
    (r"aten::baddbmm$", "attention scores: baddbmm (ALiBi + mask bias)"),
    (r"aten::(_?softmax)$", "attention softmax"),
    (r"aten::(matmul|bmm)$", "attention probs x values: bmm"),
    (r"aten::gelu$", "GeLU"),
    (r"aten::(layer_norm|native_layer_norm)$", "layer norm"),
    (r"aten::embedding$", "embedding"),
    (r"aten::add$", "residual adds"),
    (r"aten::(where|cumsum|arange|eq|ne|lt|ge|sub|mul|bitwise_or|__or__|logical_or|full|"
     r"ones_like|contiguous|argmax|to|tensor|lift_fresh|_to_copy|copy_)$",
     "attention bias, mask, positions (once per forward)"),
    (r"aten::(view|reshape|transpose|select|gather|clone|flatten|squeeze|unsqueeze|expand|"
     r"permute|slice|narrow|t|_unsafe_view|_reshape_alias|as_strided)$", LAYOUT),
]
BACKWARD_KINDS = [
    (r"^(Addmm|Mm|Linear)Backward", "linear layers (GEMM + bias)"),
    (r"^BaddbmmBackward", "attention scores: baddbmm (ALiBi + mask bias)"),
    (r"^SoftmaxBackward", "attention softmax"),
    (r"^BmmBackward", "attention probs x values: bmm"),
    (r"^GeluBackward", "GeLU"),
    (r"^NativeLayerNormBackward", "layer norm"),
    (r"^EmbeddingBackward", "embedding"),
    (r"^AddBackward", "residual adds"),
    (r"^(NllLoss|LogSoftmax|Div|Mul|Sum)Backward", "loss"),
    (r"AccumulateGrad", "AccumulateGrad: adding into .grad"),
    (r"^ToCopyBackward", "casts (autocast)"),
    (r"^(Clone|Transpose|View|Select|UnsafeView|ReshapeAlias|Expand|Squeeze|Unsqueeze|Permute|"
     r"Slice|Gather|T)Backward", LAYOUT),
]
# What torch::optim::AdamW's step runs per parameter, for a build whose optimizer has no scope.
TORCH_ADAMW_OPS = {"aten::mul_", "aten::add_", "aten::addcmul_", "aten::sqrt", "aten::div",
                   "aten::addcdiv_"}
GEMM_KERNELS = re.compile(r"^aten::(mm|addmm|bmm|baddbmm|_mkldnn_matmul|mkldnn_matmul)$")


def kind_of(name, table, default):
    for pattern, kind in table:
        if re.search(pattern, name):
            return kind
    return default


def nest(events):
    """Per thread, each complete event with its ancestors' names (outermost first) and its self
    time in microseconds."""
    by_thread = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X":
            by_thread[event.get("tid")].append(event)
    out = []
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [event, end, children's time]
        for event in thread_events:
            start, duration = float(event["ts"]), float(event["dur"])
            while stack and start >= stack[-1][1] - 1e-3:
                out.append(_closed(stack))
            if stack:
                stack[-1][2] += duration
            stack.append([event, start + duration, 0.0])
        while stack:
            out.append(_closed(stack))
    return out


def _closed(stack):
    event, _, children = stack.pop()
    ancestors = [frame[0]["name"] for frame in stack]
    return event["name"], ancestors, max(0.0, float(event["dur"]) - children)


def attribute(name, ancestors):
    """(phase, op kind) of one event's self time."""
    path = ancestors + [name]
    backward_nodes = [n for n in path if n.startswith(BACKWARD_NODE)]
    if backward_nodes:
        node = backward_nodes[-1][len(BACKWARD_NODE):]
        return "backward", kind_of(node, BACKWARD_KINDS, "other backward: " + node)
    scopes = [SCOPES[n] for n in path if n in SCOPES]
    if not scopes:
        outermost = path[0]
        if outermost == "aten::zero_":
            return "none", "zero_grad"
        if outermost in TORCH_ADAMW_OPS:
            return "none", "torch::optim::AdamW's tensor operations (no scope)"
        return "none", "unscoped: " + outermost
    phase = scopes[-1]
    if phase == "forward":
        inside = path[path.index("ft::forward") + 1:]
        if not inside:
            return phase, "between operators (module code, dispatch)"
        return phase, kind_of(inside[0], FORWARD_KINDS, "other forward: " + inside[0])
    if phase == "backward":
        return phase, "autograd engine"
    return phase, phase


def tabulate(events, steps):
    """{(phase, kind): ms per step}, GEMM kernels' ms per step, traced ms per step."""
    totals = collections.Counter()
    gemm = 0.0
    traced = 0.0
    for name, ancestors, self_us in nest(events):
        totals[attribute(name, ancestors)] += self_us
        if GEMM_KERNELS.match(name):
            gemm += self_us
        traced += self_us
    scale = 1e-3 / steps
    return ({k: v * scale for k, v in totals.items()}, gemm * scale, traced * scale)


def print_table(totals, gemm, traced, step_ms, unprofiled_ms, title):
    kinds = collections.defaultdict(dict)
    for (phase, kind), ms in totals.items():
        kinds[kind][phase] = kinds[kind].get(phase, 0.0) + ms
    print()
    print(title)
    print()
    print("| op kind | forward ms | backward ms | other phases ms | total ms per step | share of "
          "the traced time |")
    print("|---|---|---|---|---|---|")
    for kind, phases in sorted(kinds.items(), key=lambda kv: -sum(kv[1].values())):
        total = sum(phases.values())
        if total / traced < 0.002:
            continue
        other = sum(v for p, v in phases.items() if p not in ("forward", "backward"))
        print("| %s | %s | %s | %s | %.2f | %.1f %% |" % (
            kind, "%.2f" % phases["forward"] if "forward" in phases else "",
            "%.2f" % phases["backward"] if "backward" in phases else "",
            "%.2f" % other if other else "", total, 100 * total / traced))
    print()
    print("traced %.1f ms per step (the profiled steps took %.1f ms each; without the profiler "
          "%s); GEMM kernels (aten::mm, addmm, bmm, baddbmm self time) %.1f ms = %.0f %% of the "
          "traced time; phases: %s" % (
              traced, step_ms, "%.1f ms" % unprofiled_ms if unprofiled_ms else "not measured",
              gemm, 100 * gemm / traced,
              ", ".join("%s %.0f %%" % (p, 100 * v / traced) for p, v in sorted(
                  phase_totals(totals).items(), key=lambda kv: -kv[1]))))


def phase_totals(totals):
    phases = collections.Counter()
    for (phase, _), ms in totals.items():
        phases[phase] += ms
    return phases


def read_trace(path):
    with open(path) as f:
        text = f.read().strip()
    # LibTorch 1.13's writer may leave a trailing comma before the closing bracket.
    text = re.sub(r",\s*\]\s*$", "]", text)
    return json.loads(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ftworker", default=bc.DEFAULT_FTWORKER)
    parser.add_argument("--model", default="scratch:bloom-small")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16"))
    parser.add_argument("--batching", default="16x1")
    parser.add_argument("--interval", type=int, default=10,
                        help="steps per progress interval: warm-up, profiled, unprofiled")
    parser.add_argument("--max-seq-length", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--train-tsv", default=os.path.join(bc.SHARED_DATA, "sst2", "train.tsv"))
    parser.add_argument("--save-trace", help="keep the trace at this path")
    parser.add_argument("--trace", help="tabulate a saved trace instead of running ftworker")
    parser.add_argument("--steps", type=int, help="with --trace: the steps it holds")
    parser.add_argument("--check", action="store_true",
                        help="CTest: exit 1 unless the trace holds the forward and backward "
                             "passes, the loss and the optimizer step and covers most of the "
                             "profiled steps' time; 77 (skipped) without the shared data")
    args = parser.parse_args()
    if args.check and not os.path.isfile(args.train_tsv):
        print("SKIP: %s is missing" % args.train_tsv)
        return 77

    if args.trace:
        if not args.steps:
            sys.exit("--trace needs --steps")
        totals, gemm, traced = tabulate(read_trace(args.trace), args.steps)
        print_table(totals, gemm, traced, 0.0, 0.0, "%s, %d steps" % (args.trace, args.steps))
        return 0

    micro, accumulation = bc.parse_batching(args.batching, "--batching")
    ftworker = bc.check_ftworker(args.ftworker)
    bc.print_header("profile_step: %s %s %s, steps %d..%d profiled, %d threads" % (
        args.model, args.precision, args.batching, args.interval + 1, 2 * args.interval,
        args.threads))
    steps = 3 * args.interval
    env = bc.job_env(args.threads)
    with tempfile.TemporaryDirectory(prefix="ftd-profile-") as folder:
        texts, labels = bc.read_glue_tsv(bc.check_data(args.train_tsv))
        count = steps * micro * accumulation
        data = bc.write_csv_examples(os.path.join(folder, "train.csv"), texts[:count],
                                     labels[:count])
        spec = bc.timed_spec(dict(model=args.model, train=data, validation=data,
                                  micro_batch_size=micro, accumulation_steps=accumulation,
                                  steps=steps, learning_rate=1e-4,
                                  max_seq_length=args.max_seq_length, seed=1), args.interval, 16)
        spec["precision"] = args.precision
        trace_path = args.save_trace or os.path.join(folder, "trace.json")
        run, _, out_dir = bc.run_ftworker(ftworker, spec, args.threads, folder, env,
                                          ["--profile-trace", os.path.abspath(trace_path)])
        progress = bc.progress_events(bc.read_events(out_dir))
        totals, gemm, traced = tabulate(read_trace(trace_path), args.interval)
    step_ms = [1e3 * float(p["step_seconds"]) for p in progress]
    print_table(totals, gemm, traced, step_ms[1], step_ms[2] if len(step_ms) > 2 else 0.0,
                "%s %s %s, ms per optimizer step (mean of steps %d..%d):" % (
                    args.model, args.precision, args.batching, args.interval + 1,
                    2 * args.interval))
    print("process: %.0f k minor page faults, %.1f s system CPU of %.1f s user + system, "
          "peak RSS %.0f MiB" % (run.minflt / 1e3, run.system, run.user + run.system,
                                 run.rss_mib))
    return check(totals, traced, step_ms[1]) if args.check else 0


def check(totals, traced, step_ms):
    """The trace holds every phase of a step and most of its time."""
    phases = phase_totals(totals)
    problems = ["no %s in the trace" % phase for phase in
                ("forward", "loss", "backward", "optimizer step") if phases[phase] <= 0]
    linear = sum(ms for (phase, kind), ms in totals.items()
                 if kind.startswith("linear layers") and phase in ("forward", "backward"))
    if linear <= 0:
        problems.append("no linear layers in the forward or backward pass")
    # The profiler's own cost is inside the step too, so the traced share can only be lower.
    if traced < 0.5 * step_ms:
        problems.append("traced %.1f ms of a %.1f ms step" % (traced, step_ms))
    for problem in problems:
        print("ERROR: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
