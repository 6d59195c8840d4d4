#!/usr/bin/env python3
"""Checks our label-smoothed training loss against PyTorch's own.

Usage: label_smoothing_reference.py PATH/TO/bloom_training_test

Runs the C++ test binary's DISABLED_LabelSmoothingDump test, which writes logits, labels, and for
several smoothing values our summed loss (train::SummedCrossEntropy, what the trainer
back-propagates) and its gradient with respect to the logits. This script recomputes both with
torch.nn.CrossEntropyLoss(label_smoothing=s, reduction="sum") in Python and compares. It also
checks that the comparison is sensitive: smoothing spread over the other classes only (a common
variant) must give a different loss.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")

TOLERANCE = 1e-5  # relative; both sides compute in float32


def read_dump(path):
    with open(path) as f:
        lines = [line for line in f.read().split("\n") if line]
    rows, classes = (int(v) for v in lines[0].split())
    logits = torch.tensor([float(v) for v in lines[1].split()], dtype=torch.float32)
    labels = torch.tensor([int(v) for v in lines[2].split()], dtype=torch.int64)
    cases = []
    for line in lines[3:]:
        values = [float(v) for v in line.split()]
        cases.append((values[0], values[1], torch.tensor(values[2:]).view(rows, classes)))
    return logits.view(rows, classes), labels, cases


def torch_loss(logits, labels, smoothing):
    leaf = logits.clone().requires_grad_(True)
    loss = torch.nn.CrossEntropyLoss(label_smoothing=smoothing, reduction="sum")(leaf, labels)
    loss.backward()
    return loss.item(), leaf.grad


def other_classes_variant(logits, labels, smoothing):
    """Smoothing mass s spread over the K - 1 wrong classes only: not PyTorch's definition."""
    log_p = torch.log_softmax(logits.double(), -1)
    classes = logits.shape[1]
    target = torch.full_like(log_p, smoothing / (classes - 1))
    target[torch.arange(len(labels)), labels] = 1 - smoothing
    return -(target * log_p).sum().item()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, FT_LOSS_DUMP_DIR=directory)
        subprocess.run([sys.argv[1], "--gtest_also_run_disabled_tests",
                        "--gtest_filter=DISABLED_LabelSmoothingDump.*"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        logits, labels, cases = read_dump(os.path.join(directory, "label_smoothing.txt"))
    for smoothing, ours, our_grad in cases:
        reference, reference_grad = torch_loss(logits, labels, smoothing)
        loss_error = abs(ours - reference) / abs(reference)
        grad_error = ((our_grad - reference_grad).abs().max()
                      / reference_grad.abs().max()).item()
        print("label_smoothing=%.2f: ours %.7f, torch %.7f (relative %.2g), gradient relative %.2g"
              % (smoothing, ours, reference, loss_error, grad_error))
        if not loss_error <= TOLERANCE:
            failures.append("s=%g: loss differs by %g" % (smoothing, loss_error))
        if not grad_error <= TOLERANCE:
            failures.append("s=%g: gradient differs by %g" % (smoothing, grad_error))
        if smoothing > 0:
            variant = other_classes_variant(logits, labels, smoothing)
            changed = abs(variant - ours) / abs(reference)
            print("  smoothing over the other classes only would differ by %.2g" % changed)
            if changed < 10 * TOLERANCE:
                failures.append("s=%g: the other-classes variant is not detected" % smoothing)
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
