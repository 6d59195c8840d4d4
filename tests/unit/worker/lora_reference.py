#!/usr/bin/env python3
"""LoRA training through the real ftworker against an independent PyTorch implementation.

Usage: lora_reference.py PATH/TO/ftworker

The script
  1. builds a small random BLOOM classifier (accumulation_reference.py's) and writes it as a
     Hugging Face folder, and a PEFT adapter folder for it, written here: adapter_config.json
     and adapter_model.safetensors with PEFT's names, A and B both random (B not zero, so that
     every tensor has a gradient from the first step) on query_key_value and dense_4h_to_h, and
     the score head (modules_to_save);
  2. runs `ftworker --spec` with that adapter as the starting point (spec.lora.adapter), SGD for
     three optimizer steps of micro-batch 2 x accumulation 4, and again as 8 x 1;
  3. trains the same start in plain PyTorch, one full batch per step: the frozen base weight W
     of each target replaced by W + scale * B @ A (LoRA's definition, merged form; ftworker
     computes the unmerged W x + scale * B (A x)), SGD on A, B and the head only;
  4. compares every adapter tensor (max |ours - reference| / max |reference| <= 1e-6), and the
     per-step losses (1e-5);
  5. checks the merged folder (spec.lora.merge): every frozen tensor bit-identical to the base,
     and its logits equal to the unmerged reference model's within 1e-5.

The bars are shown to fail for a broken variant: the reference with rsLoRA's scale
alpha / sqrt(r) instead of alpha / r (and the other way round for the rsLoRA case) must miss the
1e-6 bar.
"""
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from accumulation_reference import (  # noqa: E402
    MAX_SEQ, N_HEAD, N_LAYER, Checks, collate, pick_examples, random_model, run_spec, write_csv,
    write_model_folder, write_safetensors)
from bloom_reference import bloom_logits, load_safetensors  # noqa: E402

RANK, ALPHA = 4, 16.0
TARGETS = ["query_key_value", "dense_4h_to_h"]
PEFT_PREFIX = "base_model.model."
STEPS, LR = 3, 0.05
SGD_BAR, LOSS_BAR, MERGE_BAR = 1e-6, 1e-5, 1e-5

# name, micro-batch, accumulation, use_rslora
CASES = [
    ("sgd 2x4, alpha/r", 2, 4, False),
    ("sgd 8x1, alpha/r", 8, 1, False),
    ("sgd 2x4, rsLoRA alpha/sqrt(r)", 2, 4, True),
]


def scale(use_rslora):
    return ALPHA / RANK ** 0.5 if use_rslora else ALPHA / RANK


def target_layers(base):
    """The base's weight names that carry an update, e.g. transformer.h.0.mlp.dense_4h_to_h."""
    return sorted(n[:-len(".weight")] for n in base
                  if n.endswith(".weight") and n.split(".")[-2] in TARGETS)


def random_adapter(base, seed):
    """A and B of every target and the score head, all random, under the model's names."""
    g = torch.Generator().manual_seed(seed)
    adapter = {}
    for layer in target_layers(base):
        out_features, in_features = base[layer + ".weight"].shape
        adapter[layer + ".lora_A.weight"] = 0.1 * torch.randn(RANK, in_features, generator=g)
        adapter[layer + ".lora_B.weight"] = 0.05 * torch.randn(out_features, RANK, generator=g)
    adapter["score.weight"] = 0.1 * torch.randn(2, base["score.weight"].shape[1], generator=g)
    return adapter


def write_adapter_folder(folder, adapter, use_rslora):
    os.makedirs(folder)
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"),
                      {PEFT_PREFIX + n: t for n, t in adapter.items()}, "F32")
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump({"peft_type": "LORA", "task_type": "SEQ_CLS", "r": RANK, "lora_alpha": ALPHA,
                   "lora_dropout": 0.0, "target_modules": TARGETS, "use_rslora": use_rslora,
                   "modules_to_save": ["score"], "bias": "none"}, f)


def with_updates(base, adapter, layer_scale):
    """The model's parameters with each target's weight W + scale * B @ A."""
    params = dict(base)
    params["score.weight"] = adapter["score.weight"]
    for layer in target_layers(base):
        delta = adapter[layer + ".lora_B.weight"] @ adapter[layer + ".lora_A.weight"]
        params[layer + ".weight"] = base[layer + ".weight"] + layer_scale * delta
    return params


def reference_train(base, adapter, examples, layer_scale):
    """Plain PyTorch SGD on the adapter and head, one full batch per step."""
    trained = {n: t.clone().requires_grad_(True) for n, t in adapter.items()}
    opt = torch.optim.SGD(list(trained.values()), lr=LR)
    ids, mask, labels = collate(examples)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        logits = bloom_logits(with_updates(base, trained, layer_scale), ids, mask, N_HEAD, N_LAYER)
        loss = F.cross_entropy(logits, labels)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    return {n: t.detach() for n, t in trained.items()}, losses


def worst_difference(ours, reference):
    worst = (0.0, "")
    for name, ref in reference.items():
        diff = (ours[name].double() - ref.double()).abs().max().item()
        worst = max(worst, (diff / ref.abs().max().item(), name))
    return worst


def run_case(binary, workdir, index, case, base_folder, adapter_folder, train_csv, val_csv):
    name, micro, accumulation, _ = case
    spec = {"model": base_folder,
            "dataset": {"train": train_csv, "validation": val_csv},
            "micro_batch_size": micro, "accumulation_steps": accumulation, "epochs": STEPS,
            "learning_rate": LR, "optimizer": "sgd", "max_seq_length": MAX_SEQ, "seed": 1,
            "log_every_steps": 1, "lr_scheduler": "constant",
            "lora": {"adapter": adapter_folder, "merge": True}}
    out, events = run_spec(binary, workdir, "case%d" % index, spec)
    losses = {int(e["progress"]["step"]): e["progress"]["loss"] for e in events if "progress" in e}
    trained = load_safetensors(os.path.join(out, "adapter_model.safetensors"))
    unprefixed = {n[len(PEFT_PREFIX):]: t for n, t in trained.items() if n.startswith(PEFT_PREFIX)}
    if len(unprefixed) != len(trained):
        sys.exit("%s: adapter tensors without the %s prefix: %s" % (name, PEFT_PREFIX, trained))
    return out, unprefixed, [losses[s] for s in range(1, STEPS + 1)]


def check_merged(checks, out, base, trained, layer_scale, examples):
    merged = load_safetensors(os.path.join(out, "merged", "model.safetensors"))
    targets = {layer + ".weight" for layer in target_layers(base)}
    frozen_equal = all(torch.equal(merged[n], base[n]) for n in base
                       if n not in targets and n != "score.weight")
    checks.check("merged: frozen tensors bit-identical to the base (0 = yes)",
                 0.0 if frozen_equal else 1.0, 0.0, True)
    ids, mask, _ = collate(examples)
    # In float64, so that the comparison sees only the merge's float32 rounding.
    unmerged = bloom_logits(with_updates({n: t.double() for n, t in base.items()},
                                         {n: t.double() for n, t in trained.items()},
                                         layer_scale), ids, mask, N_HEAD, N_LAYER)
    from_merged = bloom_logits({n: t.double() for n, t in merged.items()}, ids, mask, N_HEAD,
                               N_LAYER)
    diff = (from_merged - unmerged).abs().max().item() / unmerged.abs().max().item()
    checks.check("merged vs unmerged logits", diff, MERGE_BAR, True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    torch.set_num_threads(1)
    began = time.time()
    train_examples, val_examples = pick_examples()
    checks = Checks()
    with tempfile.TemporaryDirectory(prefix="ft_lora_reference_") as workdir:
        train_csv = os.path.join(workdir, "train.csv")
        val_csv = os.path.join(workdir, "validation.csv")
        write_csv(train_csv, train_examples)
        write_csv(val_csv, val_examples)
        base_folder = os.path.join(workdir, "base")
        base = write_model_folder(base_folder, random_model(300, 2), "F32", True)
        adapter = random_adapter(base, 301)
        results = []
        for index, case in enumerate(CASES):
            name, _, _, use_rslora = case
            print("%s (r %d, alpha %g, %s, lr %g, %d steps):"
                  % (name, RANK, ALPHA, "+".join(TARGETS), LR, STEPS))
            adapter_folder = os.path.join(workdir, "adapter%d" % index)
            write_adapter_folder(adapter_folder, adapter, use_rslora)
            out, ours, losses = run_case(binary, workdir, index, case, base_folder,
                                         adapter_folder, train_csv, val_csv)
            if sorted(ours) != sorted(adapter):
                checks.fail("%s: adapter tensors %s, expected %s" % (name, sorted(ours),
                                                                     sorted(adapter)))
                continue
            reference, ref_losses = reference_train(base, adapter, train_examples,
                                                    scale(use_rslora))
            worst, tensor = worst_difference(ours, reference)
            checks.check("adapter tensors vs reference (%s)" % tensor, worst, SGD_BAR, True)
            loss_diff = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
            checks.check("per-step losses", loss_diff, LOSS_BAR, True)
            wrong, _ = reference_train(base, adapter, train_examples, scale(not use_rslora))
            checks.check("broken variant: reference with the other scale",
                         worst_difference(ours, wrong)[0], SGD_BAR, False)
            check_merged(checks, out, base, ours, scale(use_rslora), val_examples)
            results.append(ours)
        if len(results) >= 2:
            worst, tensor = worst_difference(results[0], results[1])
            checks.check("2x4 vs 8x1 adapters (%s)" % tensor, worst, SGD_BAR, True)
    print("%.1f s" % (time.time() - began))
    if checks.failures:
        sys.exit("FAILED: " + "; ".join(checks.failures))
    print("OK")


if __name__ == "__main__":
    main()
