#!/usr/bin/env python3
"""Training-mode dropout of the classifier families, written independently in plain PyTorch
(float64) from transformers' modelling code, for model_dropout_test.cc.

Usage: dropout_reference.py SEED OUT.json FOLDER...

Each FOLDER holds a Hugging Face config.json and model.safetensors (float32) of a gpt2, bert,
roberta or distilbert sequence classifier, and the expected.json of tests/fixtures/hf/models (the
batch: input_ids, attention_mask, labels). For each, the generator is seeded with SEED, the
batch runs forward in training mode with the config's dropout rates where transformers applies
them, and the mean cross-entropy backward; OUT.json gets, by folder name, the logits, the loss,
and the gradient norms (total and per tensor, transformers' names): the format of the fixtures'
"before" entries.

The masks are drawn by F.dropout, as LibTorch's dropout draws them, in the order transformers
applies the dropouts. Two things follow ftworker's computation rather than transformers': the
last layer computes only the query row that the classifier reads (the first token for the BERT
family, the last real token for GPT-2; transformers computes every row and then reads one), so
its masks have that shape; and blocked attention scores are filled with float32's lowest value
before the softmax. Both leave the function the same; they make the same draws possible.
"""
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
import torch.nn.functional as F  # noqa: E402

LOWEST_FLOAT32 = -3.4028234663852886e38


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_size])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", name
        begin, end = entry["data_offsets"]
        count = math.prod(entry["shape"])
        values = struct.unpack("<%df" % count, data[8 + header_size + begin:8 + header_size + end])
        tensor = torch.tensor(values, dtype=torch.float64).reshape(entry["shape"])
        tensors[name] = tensor.requires_grad_(True)
    return tensors


def dropout(x, rate):
    return F.dropout(x, rate, training=True)


def linear(x, w, prefix, bias=True):
    return F.linear(x, w[prefix + ".weight"], w[prefix + ".bias"] if bias else None)


def layer_norm(x, w, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], eps)


def activation(name, x):
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "gelu":
        return F.gelu(x)
    if name == "relu":
        return F.relu(x)
    raise ValueError(name)


def heads(x, count):
    batch, seq, width = x.shape
    return x.view(batch, seq, count, width // count).transpose(1, 2)


def attention(q, k, v, blocked, scale, rate):
    """q [batch, heads, queries, dim], k/v [batch, heads, keys, dim], blocked broadcastable to
    [batch, heads, queries, keys]: [batch, queries, heads * dim]."""
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    scores = scores.masked_fill(blocked, LOWEST_FLOAT32)
    probabilities = dropout(torch.softmax(scores, -1), rate)
    out = torch.matmul(probabilities, v)
    return out.transpose(1, 2).reshape(q.shape[0], q.shape[2], -1)


def bert_like(w, config, ids, mask, family):
    """BertForSequenceClassification / RobertaForSequenceClassification."""
    base = "roberta" if family == "roberta" else "bert"
    hidden_rate = config.get("hidden_dropout_prob", 0.1)
    attention_rate = config.get("attention_probs_dropout_prob", 0.1)
    classifier_rate = config.get("classifier_dropout")
    if classifier_rate is None:
        classifier_rate = hidden_rate
    eps = config.get("layer_norm_eps", 1e-12)
    count = config["num_attention_heads"]
    seq = ids.shape[1]
    if family == "roberta":
        pad = config.get("pad_token_id", 1)
        real = (ids != pad).long()
        positions = real.cumsum(1) * real + pad
    else:
        positions = torch.arange(seq)[None, :]
    e = base + ".embeddings."
    embedded = (w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][positions]
                + w[e + "token_type_embeddings.weight"][0])
    h = dropout(layer_norm(embedded, w, e + "LayerNorm", eps), hidden_rate)
    blocked = (mask == 0)[:, None, None, :]
    layers = config["num_hidden_layers"]
    for i in range(layers):
        p = "%s.encoder.layer.%d." % (base, i)
        residual = h[:, :1] if i == layers - 1 else h  # the classifier reads the first token
        q = heads(linear(residual, w, p + "attention.self.query"), count)
        k = heads(linear(h, w, p + "attention.self.key"), count)
        v = heads(linear(h, w, p + "attention.self.value"), count)
        att = attention(q, k, v, blocked, 1 / math.sqrt(q.shape[-1]), attention_rate)
        attended = layer_norm(dropout(linear(att, w, p + "attention.output.dense"), hidden_rate)
                              + residual, w, p + "attention.output.LayerNorm", eps)
        inner = activation(config.get("hidden_act", "gelu"),
                           linear(attended, w, p + "intermediate.dense"))
        h = layer_norm(dropout(linear(inner, w, p + "output.dense"), hidden_rate) + attended, w,
                       p + "output.LayerNorm", eps)
    first = h[:, 0]
    if family == "roberta":
        x = torch.tanh(linear(dropout(first, classifier_rate), w, "classifier.dense"))
        return linear(dropout(x, classifier_rate), w, "classifier.out_proj")
    pooled = torch.tanh(linear(first, w, "bert.pooler.dense"))
    return linear(dropout(pooled, classifier_rate), w, "classifier")


def distilbert(w, config, ids, mask):
    """DistilBertForSequenceClassification: no dropout on the attention's output projection."""
    rate = config.get("dropout", 0.1)
    attention_rate = config.get("attention_dropout", 0.1)
    classifier_rate = config.get("seq_classif_dropout", 0.2)
    eps = 1e-12
    count = config["n_heads"]
    seq = ids.shape[1]
    e = "distilbert.embeddings."
    embedded = w[e + "word_embeddings.weight"][ids] + w[e + "position_embeddings.weight"][:seq]
    h = dropout(layer_norm(embedded, w, e + "LayerNorm", eps), rate)
    blocked = (mask == 0)[:, None, None, :]
    layers = config["n_layers"]
    for i in range(layers):
        p = "distilbert.transformer.layer.%d." % i
        residual = h[:, :1] if i == layers - 1 else h
        q = heads(linear(residual, w, p + "attention.q_lin"), count)
        k = heads(linear(h, w, p + "attention.k_lin"), count)
        v = heads(linear(h, w, p + "attention.v_lin"), count)
        att = attention(q, k, v, blocked, 1 / math.sqrt(q.shape[-1]), attention_rate)
        attended = layer_norm(linear(att, w, p + "attention.out_lin") + residual, w,
                              p + "sa_layer_norm", eps)
        inner = activation(config.get("activation", "gelu"), linear(attended, w, p + "ffn.lin1"))
        h = layer_norm(dropout(linear(inner, w, p + "ffn.lin2"), rate) + attended, w,
                       p + "output_layer_norm", eps)
    x = F.relu(linear(h[:, 0], w, "pre_classifier"))
    return linear(dropout(x, classifier_rate), w, "classifier")


def conv1d(x, w, prefix):
    return x @ w[prefix + ".weight"] + w[prefix + ".bias"]


def gpt2(w, config, ids, mask):
    """GPT2ForSequenceClassification: the last real token's state, no dropout before `score`."""
    embedding_rate = config.get("embd_pdrop", 0.1)
    residual_rate = config.get("resid_pdrop", 0.1)
    attention_rate = config.get("attn_pdrop", 0.1)
    eps = config.get("layer_norm_epsilon", 1e-5)
    count = config["n_head"]
    batch, seq = ids.shape
    h = dropout(w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:seq], embedding_rate)
    later = torch.arange(seq)[None, :] > torch.arange(seq)[:, None]
    blocked = (mask == 0)[:, None, None, :] | later[None, None]
    last = torch.stack([row.nonzero().max() for row in mask])
    rows = torch.arange(batch)
    layers = config["n_layer"]
    for i in range(layers):
        p = "transformer.h.%d." % i
        q, k, v = conv1d(layer_norm(h, w, p + "ln_1", eps), w, p + "attn.c_attn").chunk(3, -1)
        residual, row_blocked = h, blocked
        if i == layers - 1:  # the classifier reads the last real token
            q, residual = q[rows, last][:, None], h[rows, last][:, None]
            row_blocked = blocked.expand(batch, 1, seq, seq)[rows, :, last][:, :, None]
        scale = 1 / math.sqrt(q.shape[-1] // count) if config.get("scale_attn_weights", True) else 1
        att = attention(heads(q, count), heads(k, count), heads(v, count), row_blocked, scale,
                        attention_rate)
        attended = dropout(conv1d(att, w, p + "attn.c_proj"), residual_rate) + residual
        inner = activation(config.get("activation_function", "gelu_new"),
                           conv1d(layer_norm(attended, w, p + "ln_2", eps), w, p + "mlp.c_fc"))
        h = attended + dropout(conv1d(inner, w, p + "mlp.c_proj"), residual_rate)
    h = layer_norm(h, w, "transformer.ln_f", eps)
    return F.linear(h[:, 0], w["score.weight"])


def run(folder, seed):
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(folder, "expected.json")) as f:
        expected = json.load(f)
    w = load_safetensors(os.path.join(folder, "model.safetensors"))
    ids = torch.tensor(expected["input_ids"])
    mask = torch.tensor(expected["attention_mask"])
    labels = torch.tensor(expected["labels"])
    family = config["model_type"]
    torch.manual_seed(seed)
    if family in ("bert", "roberta"):
        logits = bert_like(w, config, ids, mask, family)
    elif family == "distilbert":
        logits = distilbert(w, config, ids, mask)
    elif family == "gpt2":
        logits = gpt2(w, config, ids, mask)
    else:
        raise ValueError("no reference for model_type " + family)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    norms = {name: t.grad.norm().item() for name, t in w.items() if t.grad is not None}
    total = math.sqrt(sum(t.grad.pow(2).sum().item() for t in w.values() if t.grad is not None))
    return {"logits": logits.detach().tolist(), "loss": loss.item(), "grad_norm": total,
            "grad_norms": norms}


def main():
    seed, out, folders = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    torch.set_num_threads(1)
    results = {os.path.basename(folder.rstrip("/")): run(folder, seed) for folder in folders}
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
