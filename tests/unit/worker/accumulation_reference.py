#!/usr/bin/env python3
"""Gradient accumulation through the real ftworker against plain PyTorch, and determinism.

Usage: accumulation_reference.py PATH/TO/ftworker

For each case this script
  1. builds a small random BLOOM (hidden 64, 2 layers, 4 heads, vocabulary 260) and writes it as
     a Hugging Face folder (config.json + model.safetensors, written here, not by our C++);
  2. writes train and validation CSVs of real rt-polarity sentences ($FT_SHARED_DATA, else
     ../shared/data beside the checkout); the train set is exactly one accumulation window, so
     each epoch is one optimizer step whatever order ftworker draws inside the window;
  3. runs `ftworker --spec job.json --out DIR --threads 1` with micro-batch m x accumulation k
     for N epochs, and reads its final model.safetensors and its per-step losses from
     DIR/events.jsonl (log_every_steps 1);
  4. trains the same start in plain PyTorch (torch.set_num_threads(1)) with ONE full batch per
     step: the byte tokenizer, truncation, padding and last-token pooling re-implemented here,
     the BLOOM forward of bloom_reference.py in float32, mean cross-entropy over the window;
  5. compares every parameter tensor and the per-step losses (relative difference).

Bars: SGD parameters max |ftworker - reference| / max |reference| <= 1e-6 per tensor; AdamW
parameters |ftworker - reference| / |reference| (2-norms) <= 1e-5 per tensor, leaving out the
~1 % of elements whose gradient RMS is rounding noise to AdamW (adam_noise_mask; those are
checked against AdamW's largest possible step instead); every per-step loss 1e-5; bf16 autocast
2e-2 (parameters as for SGD, and losses).
Each bar is also shown to catch a mis-scaled reference: the loss multiplied by k (a window
summed over micro-batch means), which any SGD comparison must reject, and, for the short window
2+2+2+1, the mean of the micro-batch means (the last example weighted double), which changes the
gradient's direction and so must fail AdamW too. A constant factor on the loss does not change
AdamW's steps (m / sqrt(v) cancels it, up to eps), so for AdamW that variant is only reported.

Determinism: the same spec and seed run twice give byte-identical model.safetensors and equal
result.json metrics; a run with another seed (another order inside the windows) must differ in
the bytes, which shows that the comparison can fail.
"""
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bloom_reference import bloom_logits, load_safetensors  # noqa: E402

HIDDEN, N_LAYER, N_HEAD, VOCAB = 64, 2, 4, 260
MAX_SEQ = 48  # some sentences are longer: truncation is part of the test
PAD_ID, UNK_ID, BYTE_OFFSET = 3, 0, 4
STEPS = 3

SGD_BAR = 1e-6
ADAM_NOISE_GRADIENT = 1e-6  # gradient RMS, 100 x Adam's eps; see adam_noise_mask
ADAMW_BAR = 1e-5
BF16_BAR = 2e-2

# name, optimizer, train examples (m x k = 2 x 4 = 8 per window), precision, learning rate,
# checkpoint dtype, whether the checkpoint's names keep "transformer."
CASES = [
    ("sgd, 8 = 2x4", "sgd", 8, "fp32", 0.02, "F32", True),
    ("sgd, 7 = 2+2+2+1", "sgd", 7, "fp32", 0.02, "BF16", False),
    ("adamw, 8 = 2x4", "adamw", 8, "fp32", 1e-3, "F16", False),
    ("adamw, 7 = 2+2+2+1", "adamw", 7, "fp32", 1e-3, "F32", True),
    ("bf16 sgd, 7 = 2+2+2+1", "sgd", 7, "bf16", 0.02, "F32", True),
]
MICRO, ACCUMULATION = 2, 4
WEIGHT_DECAY = 0.01
DETERMINISM_CASE = 3  # AdamW on the short window, run twice more


def shared_data():
    env = os.environ.get("FT_SHARED_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "..", "shared", "data"))


def pick_examples():
    """Eight train and four validation sentences, labels alternating, lengths mixed."""
    path = os.path.join(shared_data(), "rt-polarity", "rt-polarity.csv")
    if os.path.exists(path):
        with open(path, newline="", encoding="utf-8") as f:
            rows = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    else:
        print("note: %s is missing; using generated sentences" % path)
        words = ["film", "plot", "actors", "score", "ending", "pacing", "script", "camera"]
        rows = [("the %s is %s%s" % (words[i % 8], "good" if i % 2 else "bad",
                                      ", and the rest of it too" * (i % 3)), i % 2)
                for i in range(1200)]
    by_label = {0: [r for r in rows if r[1] == 0], 1: [r for r in rows if r[1] == 1]}
    # Every 97th sentence of each class: short and long ones, some over MAX_SEQ bytes.
    picked = []
    for i in range(6):
        for label in (0, 1):
            picked.append(by_label[label][97 * i + 3])
    lengths = [len(t.encode("utf-8")) for t, _ in picked]
    assert min(lengths) < MAX_SEQ < max(lengths), lengths
    return picked[:8], picked[8:]


def write_csv(path, examples):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label"])
        writer.writerows(examples)


def random_model(seed, num_labels):
    """Every parameter random, biases and LayerNorms included, under Hugging Face's names."""
    g = torch.Generator().manual_seed(seed)

    def normal(*shape, std=0.02, mean=0.0):
        return mean + std * torch.randn(*shape, generator=g, dtype=torch.float32)

    p = {"transformer.word_embeddings.weight": normal(VOCAB, HIDDEN)}

    def layer_norm(name):
        p[name + ".weight"] = normal(HIDDEN, std=0.1, mean=1.0)
        p[name + ".bias"] = normal(HIDDEN, std=0.1)

    def linear(name, n_in, n_out):
        p[name + ".weight"] = normal(n_out, n_in)
        p[name + ".bias"] = normal(n_out)

    layer_norm("transformer.word_embeddings_layernorm")
    for layer in range(N_LAYER):
        prefix = "transformer.h.%d." % layer
        layer_norm(prefix + "input_layernorm")
        linear(prefix + "self_attention.query_key_value", HIDDEN, 3 * HIDDEN)
        linear(prefix + "self_attention.dense", HIDDEN, HIDDEN)
        layer_norm(prefix + "post_attention_layernorm")
        linear(prefix + "mlp.dense_h_to_4h", HIDDEN, 4 * HIDDEN)
        linear(prefix + "mlp.dense_4h_to_h", 4 * HIDDEN, HIDDEN)
    layer_norm("transformer.ln_f")
    p["score.weight"] = normal(num_labels, HIDDEN, std=0.1)
    return p


def write_safetensors(path, tensors, dtype):
    """The safetensors layout, written independently of worker/io."""
    torch_dtype = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].to(torch_dtype).contiguous()
        raw = t.view(torch.int16) if t.element_size() == 2 else t
        blob = raw.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + b"".join(blobs))
    # What the checkpoint holds, as float32: the common start of both sides.
    return {n: t.to(torch_dtype).to(torch.float32) for n, t in tensors.items()}


def write_model_folder(folder, params, dtype, keep_prefix):
    os.makedirs(folder)
    stored = {(n if keep_prefix or not n.startswith("transformer.") else n[len("transformer."):]): t
              for n, t in params.items()}
    loaded = write_safetensors(os.path.join(folder, "model.safetensors"), stored, dtype)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["BloomForSequenceClassification"], "model_type": "bloom",
                   "vocab_size": VOCAB, "n_embed": HIDDEN, "n_layer": N_LAYER, "n_head": N_HEAD,
                   "layer_norm_epsilon": 1e-5, "num_labels": 2}, f)
    return {("transformer." + n if "transformer." + n in params else n): t
            for n, t in loaded.items()}


def encode(text):
    ids = [BYTE_OFFSET + b for b in text.encode("utf-8")[:MAX_SEQ]]
    return ids or [UNK_ID]


def collate(examples):
    encoded = [encode(t) for t, _ in examples]
    longest = max(len(ids) for ids in encoded)
    ids = torch.full((len(encoded), longest), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(encoded), longest), dtype=torch.int64)
    for row, seq in enumerate(encoded):
        ids[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = 1
    labels = torch.tensor([label for _, label in examples])
    return ids, mask, labels


def exempt_from_weight_decay(name):
    # trainer.cc's rule: biases and LayerNorm parameters get no weight decay.
    return "layernorm" in name or "ln_f" in name or name.endswith(".bias")


def reference_train(start, examples, optimizer, lr, precision, variant):
    """Plain PyTorch: one full batch of the whole window per step."""
    params = {n: t.clone().requires_grad_(True) for n, t in start.items()}
    if optimizer == "sgd":
        opt = torch.optim.SGD(list(params.values()), lr=lr)
    else:
        decayed = [t for n, t in params.items() if not exempt_from_weight_decay(n)]
        exempt = [t for n, t in params.items() if exempt_from_weight_decay(n)]
        opt = torch.optim.AdamW([{"params": decayed, "weight_decay": WEIGHT_DECAY},
                                 {"params": exempt, "weight_decay": 0.0}],
                                lr=lr, betas=(0.9, 0.999), eps=1e-8)
    ids, mask, labels = collate(examples)
    losses, gradients = [], []
    for _ in range(STEPS):
        opt.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            logits = bloom_logits(params, ids, mask, N_HEAD, N_LAYER)
        per_example = F.cross_entropy(logits.float(), labels, reduction="none")
        loss = per_example.mean()
        losses.append(loss.item())
        if variant == "correct":
            objective = loss
        elif variant == "loss x k":
            objective = loss * ACCUMULATION
        elif variant == "mean of micro-batch means":
            chunks = per_example.split(MICRO)
            objective = sum(c.mean() for c in chunks) / len(chunks)
        else:
            raise ValueError(variant)
        objective.backward()
        gradients.append({n: t.grad.detach().clone() for n, t in params.items()})
        opt.step()
    return {n: t.detach() for n, t in params.items()}, losses, gradients


def run_ftworker(binary, workdir, name, model, train_csv, val_csv, optimizer, lr, precision,
                 seed=1):
    spec = {"model": model,
            "dataset": {"train": train_csv, "validation": val_csv,
                        "text_column": "text", "label_column": "label"},
            "micro_batch_size": MICRO, "accumulation_steps": ACCUMULATION, "epochs": STEPS,
            "learning_rate": lr, "optimizer": optimizer, "weight_decay": WEIGHT_DECAY,
            "max_seq_length": MAX_SEQ, "seed": seed, "log_every_steps": 1,
            "precision": precision,
            # The reference loop keeps the learning rate constant.
            "lr_scheduler": "constant"}
    out, events = run_spec(binary, workdir, name, spec)
    losses = {int(e["progress"]["step"]): e["progress"]["loss"] for e in events if "progress" in e}
    logs = [e["log"]["message"] for e in events if "log" in e]
    assert sorted(losses) == list(range(1, STEPS + 1)), losses
    return out, [losses[s] for s in range(1, STEPS + 1)], logs


def run_spec(binary, workdir, name, spec):
    """`ftworker --spec` on one thread; returns its output folder and its events."""
    spec_path = os.path.join(workdir, name + ".json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out = os.path.join(workdir, name + ".out")
    run = subprocess.run([binary, "--spec", spec_path, "--out", out, "--threads", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if run.returncode != 0:
        sys.exit("ftworker failed (%d):\n%s" % (run.returncode, run.stdout))
    with open(os.path.join(out, "events.jsonl")) as f:
        return out, [json.loads(line) for line in f]


def adam_noise_mask(gradients):
    """True for the elements whose AdamW steps are float rounding noise.

    An AdamW step is lr * m / (sqrt(v) + eps) with sqrt(v) the running RMS of the element's
    gradients: where that RMS is far above eps = 1e-8 the step barely depends on the gradient's
    last bits, but near eps a rounding difference of ~1e-7 of the tensor's largest gradient
    becomes a visible step. BLOOM has such elements for certain: the key biases' gradient is zero
    in exact arithmetic (softmax ignores a constant added to all of a query's scores), so both
    sides step them by up to +-lr at random. Elements whose gradient is exactly zero at every
    step (unused embedding rows) stay compared: both sides must leave them to weight decay.
    """
    beta2 = 0.999
    mask = {}
    for name in gradients[0]:
        v = torch.zeros_like(gradients[0][name])
        smallest = torch.full_like(v, math.inf)
        for step, step_gradients in enumerate(gradients, start=1):
            v = beta2 * v + (1 - beta2) * step_gradients[name] ** 2
            smallest = torch.minimum(smallest, (v / (1 - beta2 ** step)).sqrt())
        ever_nonzero = torch.stack([g[name] != 0 for g in gradients]).any(0)
        mask[name] = (smallest < ADAM_NOISE_GRADIENT) & ever_nonzero
    return mask


def parameter_difference(ours, reference, start, excluded=None, norm=False):
    """The worst tensor's max |ours - reference| / max |reference| (or with norm, the 2-norms of
    the difference and of the tensor), and the same relative to the tensor's update; elements
    in `excluded` (see adam_noise_mask) are left out."""
    worst, worst_update = (0.0, ""), (0.0, "")
    size = (lambda t: t.norm().item()) if norm else (lambda t: t.abs().max().item())
    for name, ref in reference.items():
        ref = ref.double()
        diff = ours[name] - ref
        if excluded is not None:
            diff = diff.masked_fill(excluded[name], 0.0)
        diff, scale, update = size(diff), size(ref), size(ref - start[name].double())
        worst = max(worst, (diff / scale if scale > 0 else diff, name))
        if update > 0:
            worst_update = max(worst_update, (diff / update, name))
    return worst, worst_update


def loss_difference(ours, reference):
    return max(abs(a - b) / abs(b) for a, b in zip(ours, reference))


class Checks:
    """Prints each comparison and collects those whose outcome is not the required one."""

    def __init__(self):
        self.failures = []

    def check(self, label, value, bar, must_pass):
        verdict = "ok" if (value <= bar) == must_pass else "WRONG"
        print("    %-58s %.3g (bar %.0e, must %s) %s"
              % (label, value, bar, "pass" if must_pass else "fail", verdict))
        if verdict != "ok":
            self.failures.append(label)

    def fail(self, message):
        print("    " + message)
        self.failures.append(message)


def report_adam_noise(checks, ours, reference, start, excluded, lr):
    (whole, whole_name), _ = parameter_difference(ours, reference, start)
    (kept, kept_name), _ = parameter_difference(ours, reference, start, excluded)
    count = sum(int(m.sum()) for m in excluded.values())
    total = sum(m.numel() for m in excluded.values())
    worst_excluded = max((ours[n] - reference[n].double()).abs()[excluded[n]].max().item()
                         if excluded[n].any() else 0.0 for n in reference)
    print("    %d of %d elements have a gradient RMS below %g at some step (AdamW steps of"
          " rounding noise);" % (count, total, ADAM_NOISE_GRADIENT))
    print("    max |difference| / max |value| over all elements %.3g (%s), over the others"
          " %.3g (%s)" % (whole, whole_name, kept, kept_name))
    # Even the left-out elements cannot differ by more than Adam's largest steps.
    checks.check("left-out elements, max |difference| / (2 lr steps)",
                 worst_excluded / (2 * lr * STEPS), 1.0, True)


def compare_case(checks, case, examples, ours, losses, start):
    """ftworker's result against the reference and against each mis-scaled reference."""
    name, optimizer, n_train, precision, lr, _, _ = case
    adamw = optimizer == "adamw"
    bar = BF16_BAR if precision == "bf16" else ADAMW_BAR if adamw else SGD_BAR
    loss_bar = BF16_BAR if precision == "bf16" else ADAMW_BAR
    what = "|difference| / |value|" if adamw else "max |difference| / max |value|"
    variants = ["correct", "loss x k"]
    if n_train % (MICRO * ACCUMULATION) != 0:
        variants.append("mean of micro-batch means")
    excluded = None
    for variant in variants:  # "correct" first: its gradients define `excluded`
        reference, ref_losses, gradients = reference_train(start, examples, optimizer, lr,
                                                           precision, variant)
        correct = variant == "correct"
        print("  reference: %s" % variant)
        if correct and adamw:
            excluded = adam_noise_mask(gradients)
            report_adam_noise(checks, ours, reference, start, excluded, lr)
        (param_diff, param_name), (update_diff, update_name) = parameter_difference(
            ours, reference, start, excluded, norm=adamw)
        loss_diff = loss_difference(losses, ref_losses)
        if adamw and variant == "loss x k":
            print("    parameters %.3g, losses %.3g: AdamW normalises a constant factor away (all"
                  " but eps), so this variant is not required to fail" % (param_diff, loss_diff))
            continue
        checks.check("parameters, %s (%s)" % (what, param_name), param_diff, bar, correct)
        if correct:
            print("    (the same difference relative to each tensor's update: %.3g, %s)"
                  % (update_diff, update_name))
            checks.check("per-step losses %s" % ", ".join("%.6f" % v for v in losses),
                         loss_diff, loss_bar, True)
        else:
            checks.check("per-step losses", loss_diff, loss_bar, False)


def check_determinism(checks, binary, workdir, spec_args, first, first_losses):
    """The same spec and seed again: the same bytes and metrics; another seed: other bytes."""
    again, again_losses, _ = run_ftworker(binary, workdir, "again", *spec_args)
    other, _, _ = run_ftworker(binary, workdir, "other_seed", *spec_args, seed=2)

    def read(folder, name):
        with open(os.path.join(folder, name), "rb") as f:
            return f.read()

    model = read(first, "model.safetensors")
    metrics = [json.loads(read(p, "result.json"))["metrics"] for p in (first, again)]
    print("    same seed: model.safetensors %s, result.json metrics %s, per-step losses %s"
          % ("byte-identical" if model == read(again, "model.safetensors") else "DIFFERENT",
             "equal" if metrics[0] == metrics[1] else "DIFFERENT",
             "equal" if again_losses == first_losses else "DIFFERENT"))
    if (model != read(again, "model.safetensors") or metrics[0] != metrics[1]
            or again_losses != first_losses):
        checks.fail("determinism: two runs with the same seed differ")
    if read(other, "model.safetensors") == model:
        checks.fail("determinism: another seed gave the same bytes; the check proves nothing")
    else:
        print("    another seed: model.safetensors differs (the comparison can fail)")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    torch.set_num_threads(1)
    began = time.time()
    train_examples, val_examples = pick_examples()
    checks = Checks()

    with tempfile.TemporaryDirectory(prefix="ft_accumulation_reference_") as workdir:
        val_csv = os.path.join(workdir, "validation.csv")
        write_csv(val_csv, val_examples)
        runs = []
        for index, case in enumerate(CASES):
            name, optimizer, n_train, precision, lr, dtype, keep_prefix = case
            print("%s (lr %g, %d steps, checkpoint %s%s):"
                  % (name, lr, STEPS, dtype, "" if keep_prefix else ", names without transformer."))
            examples = train_examples[:n_train]
            train_csv = os.path.join(workdir, "train%d.csv" % index)
            write_csv(train_csv, examples)
            folder = os.path.join(workdir, "model%d" % index)
            start = write_model_folder(folder, random_model(100 + index, 2), dtype, keep_prefix)
            spec_args = (folder, train_csv, val_csv, optimizer, lr, precision)
            out, losses, logs = run_ftworker(binary, workdir, "case%d" % index, *spec_args)
            runs.append((spec_args, out, losses))
            if not any(m.startswith("loaded 30 tensors") for m in logs):
                checks.fail("%s: ftworker did not load the checkpoint: %s" % (name, logs))
            ours = load_safetensors(os.path.join(out, "model.safetensors"))
            compare_case(checks, case, examples, ours, losses, start)

        print("determinism (%s):" % CASES[DETERMINISM_CASE][0])
        check_determinism(checks, binary, workdir, *runs[DETERMINISM_CASE])

    print("%.1f s" % (time.time() - began))
    if checks.failures:
        sys.exit("FAILED: " + "; ".join(checks.failures))
    print("OK")


if __name__ == "__main__":
    main()
