#!/usr/bin/env python3
"""Checks the C++ BLOOM forward pass against an independent PyTorch implementation.

Usage: bloom_reference.py PATH/TO/bloom_training_test

Runs the C++ test binary's DISABLED_BloomReferenceDump test, which writes, for a 4-head and a 6-head
model, model.safetensors, a batch with left and right padding and the C++ logits. This script
parses the safetensors file itself, recomputes the logits in float64 from Hugging Face's BLOOM
formulas and compares. It also checks that the comparison is sensitive: dropping ALiBi or
reading the fused QKV in the wrong layout must change the logits.
"""
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")

TOLERANCE = 1e-6  # float32 C++ against float64 reference; observed ~1e-7


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    assert header_size % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(data[8:8 + header_size])
    base = 8 + header_size
    tensors = {}
    expected_begin = 0
    for name, entry in sorted(header.items(), key=lambda item: item[1].get("data_offsets", [0])):
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        assert begin == expected_begin, "hole before " + name
        expected_begin = end
        count = math.prod(entry["shape"])
        assert end - begin == 4 * count, name
        values = struct.unpack("<%df" % count, data[base + begin:base + end])
        tensors[name] = torch.tensor(values, dtype=torch.float64).reshape(entry["shape"])
    assert base + expected_begin == len(data), "trailing bytes"
    return tensors


def alibi_slopes(num_heads):
    # Hugging Face's build_alibi_tensor, in plain Python.
    closest = 2 ** math.floor(math.log2(num_heads))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** power for power in range(1, closest + 1)]
    if closest != num_heads:
        extra_base = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        remaining = min(closest, num_heads - closest)
        slopes += [extra_base ** power for power in range(1, 1 + 2 * remaining, 2)]
    return torch.tensor(slopes, dtype=torch.float64)


def bloom_logits(p, ids, mask, n_head, n_layer, use_alibi=True, qkv_layout="hf"):
    """BloomForSequenceClassification: the score head at each row's last real token."""
    x = bloom_hidden(p, ids, mask, n_head, n_layer, use_alibi, qkv_layout)
    seq = ids.shape[1]
    last = [max(i for i in range(seq) if mask[row, i] == 1) for row in range(ids.shape[0])]
    pooled = torch.stack([x[row, last[row]] for row in range(ids.shape[0])])
    return pooled @ p["score.weight"].T


def bloom_hidden(p, ids, mask, n_head, n_layer, use_alibi=True, qkv_layout="hf"):
    """BloomModel: the hidden states after ln_f, [batch, seq, hidden]."""
    def layer_norm(x, name):
        return torch.nn.functional.layer_norm(
            x, (x.shape[-1],), p[name + ".weight"], p[name + ".bias"], 1e-5)

    def linear(x, name):
        out = x @ p[name + ".weight"].T
        return out + p[name + ".bias"] if name + ".bias" in p else out

    def gelu(x):
        return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))

    batch, seq = ids.shape
    x = layer_norm(p["transformer.word_embeddings.weight"][ids],
                   "transformer.word_embeddings_layernorm")
    hidden = x.shape[-1]
    head_dim = hidden // n_head
    # In the hidden states' dtype: float64 here, float32 for accumulation_reference.py.
    positions = ((mask.cumsum(-1) - 1) * mask).to(x.dtype)
    slopes = alibi_slopes(n_head).to(x.dtype)
    alibi = slopes[None, :, None, None] * positions[:, None, None, :]
    if not use_alibi:
        alibi = torch.zeros_like(alibi)
    blocked = (torch.ones(seq, seq).triu(1).bool()[None, None]
               | (mask == 0)[:, None, None, :])
    for layer in range(n_layer):
        prefix = "transformer.h.%d." % layer
        fused = linear(layer_norm(x, prefix + "input_layernorm"),
                       prefix + "self_attention.query_key_value")
        if qkv_layout == "hf":  # per head: q, k, v
            fused = fused.view(batch, seq, n_head, 3, head_dim)
            q, k, v = (fused[..., i, :].transpose(1, 2) for i in range(3))
        else:  # the wrong, non-interleaved layout: all q, then all k, then all v
            fused = fused.view(batch, seq, 3, n_head, head_dim)
            q, k, v = (fused[:, :, i].transpose(1, 2) for i in range(3))
        scores = q @ k.transpose(-1, -2) / math.sqrt(head_dim) + alibi
        scores = scores.masked_fill(blocked, torch.finfo(scores.dtype).min)
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, seq, hidden)
        x = linear(context, prefix + "self_attention.dense") + x
        inner = gelu(linear(layer_norm(x, prefix + "post_attention_layernorm"),
                            prefix + "mlp.dense_h_to_4h"))
        x = linear(inner, prefix + "mlp.dense_4h_to_h") + x
    return layer_norm(x, "transformer.ln_f")


def read_case(path):
    with open(path) as f:
        lines = f.read().split("\n")
    n_head, hidden, n_layer = (int(v) for v in lines[0].split())
    ids = torch.tensor([int(v) for v in lines[1].split()]).view(4, -1)
    mask = torch.tensor([int(v) for v in lines[2].split()]).view(4, -1)
    logits = torch.tensor([float(v) for v in lines[3].split()], dtype=torch.float64).view(4, -1)
    return n_head, n_layer, ids, mask, logits


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    failures = []
    with tempfile.TemporaryDirectory() as directory:
        env = dict(os.environ, FT_BLOOM_DUMP_DIR=directory)
        subprocess.run([sys.argv[1], "--gtest_also_run_disabled_tests",
                        "--gtest_filter=DISABLED_BloomReferenceDump.*"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        for heads in (4, 6):
            name = os.path.join(directory, "heads%d" % heads)
            params = load_safetensors(name + ".safetensors")
            n_head, n_layer, ids, mask, cpp_logits = read_case(name + ".txt")
            assert n_head == heads
            reference = bloom_logits(params, ids, mask, n_head, n_layer)
            difference = (reference - cpp_logits).abs().max().item()
            print("heads=%d max |C++ - reference| = %.3g" % (heads, difference))
            if not difference <= TOLERANCE:
                failures.append("heads=%d: logits differ by %g" % (heads, difference))
            # The comparison must be able to fail.
            for label, kwargs in (("no ALiBi", {"use_alibi": False}),
                                  ("wrong QKV layout", {"qkv_layout": "blocked"})):
                changed = (bloom_logits(params, ids, mask, n_head, n_layer, **kwargs)
                           - cpp_logits).abs().max().item()
                print("  with %s the difference would be %.3g" % (label, changed))
                if changed < 10 * TOLERANCE:
                    failures.append("heads=%d: %s is not detected" % (heads, label))
    if failures:
        sys.exit("FAILED: " + "; ".join(failures))
    print("OK")


if __name__ == "__main__":
    main()
