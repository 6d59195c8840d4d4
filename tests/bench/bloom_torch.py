"""The BLOOM sequence classifier as a plain PyTorch nn.Module, for the benchmarks' baselines.

It is what a user would write (or get from Hugging Face) to train the model ftworker trains:
Hugging Face's parameter names (so ftworker's model.safetensors loads with strict=True), the
ALiBi slopes of tests/unit/worker/bloom_reference.py, BLOOM's initialization in ftworker's
construction order (so torch.manual_seed(seed) gives ftworker's initial weights), right padding
and the last real token's hidden state fed to the score head.

Imports torch: only the baseline processes import this module, never the benchmark drivers.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_common as bc  # noqa: E402

sys.path.insert(0, os.path.join(bc.REPO_ROOT, "tests", "unit", "worker"))
import bloom_reference  # noqa: E402  (ALiBi slopes; the float64 functional reference)

PAD_ID = 3  # ByteTokenizer::kPadId, BLOOM's <pad>


class Attention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query_key_value = nn.Linear(hidden, 3 * hidden)
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, x, alibi, masked):
        batch, seq, hidden = x.shape
        # Hugging Face's fused layout: [..., head, (q|k|v), head_dim].
        fused = self.query_key_value(x).view(batch, seq, self.heads, 3, self.head_dim)
        q, k, v = (fused[..., i, :].transpose(1, 2) for i in range(3))
        scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(self.head_dim)) + alibi
        scores = scores.masked_fill(masked, torch.finfo(scores.dtype).min)
        context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(batch, seq, hidden)
        return self.dense(context)


class Mlp(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(hidden, 4 * hidden)
        self.dense_4h_to_h = nn.Linear(4 * hidden, hidden)

    def forward(self, x):
        x = self.dense_h_to_4h(x)
        x = x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x)))
        return self.dense_4h_to_h(x)


class Block(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(hidden, eps=1e-5)
        self.self_attention = Attention(hidden, heads)
        self.post_attention_layernorm = nn.LayerNorm(hidden, eps=1e-5)
        self.mlp = Mlp(hidden)

    def forward(self, x, alibi, masked):
        x = self.self_attention(self.input_layernorm(x), alibi, masked) + x
        return self.mlp(self.post_attention_layernorm(x)) + x


class Transformer(nn.Module):
    def __init__(self, vocab_size, hidden_size, n_layer, n_head):
        super().__init__()
        self.n_head = n_head
        self.word_embeddings = nn.Embedding(vocab_size, hidden_size)
        self.word_embeddings_layernorm = nn.LayerNorm(hidden_size, eps=1e-5)
        self.h = nn.ModuleList(Block(hidden_size, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(hidden_size, eps=1e-5)
        self.register_buffer(
            "slopes", bloom_reference.alibi_slopes(n_head).float(), persistent=False)

    def forward(self, ids, mask):
        batch, seq = ids.shape
        x = self.word_embeddings_layernorm(self.word_embeddings(ids))
        positions = ((mask.cumsum(-1) - 1) * mask).float()
        alibi = self.slopes.view(1, -1, 1, 1) * positions.view(batch, 1, 1, seq)
        causal = torch.ones(seq, seq, dtype=torch.bool).triu(1)
        masked = causal.view(1, 1, seq, seq) | (mask == 0).view(batch, 1, 1, seq)
        for block in self.h:
            x = block(x, alibi, masked)
        return self.ln_f(x)


class BloomForSequenceClassification(nn.Module):
    def __init__(self, num_labels, vocab_size, hidden_size, n_layer, n_head):
        super().__init__()
        self.transformer = Transformer(vocab_size, hidden_size, n_layer, n_head)
        self.score = nn.Linear(hidden_size, num_labels, bias=False)
        for module in self.modules():  # BLOOM's initialization
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.LayerNorm):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, ids, mask):
        x = self.transformer(ids, mask)
        last = mask.sum(-1) - 1  # right padding: the last real token
        return self.score(x[torch.arange(x.shape[0]), last])


def build_model(model_name, num_labels, seed):
    """ftworker's initial model for `model_name` ("scratch:bloom-small", ...): the generator
    seeded first, as ftworker does."""
    torch.manual_seed(seed)
    return BloomForSequenceClassification(num_labels, **bc.model_config(model_name))


def make_adamw(model, learning_rate):
    """torch.optim.AdamW as ftworker configures it (weight decay 0: its default)."""
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.999), eps=1e-8,
                             weight_decay=0.0)


def pad_batch(sequences, labels):
    """Dynamic right padding with <pad> to the longest sequence of the batch, as a DataLoader
    collate_fn built on pad_sequence does: (ids, attention mask, labels)."""
    from torch.nn.utils.rnn import pad_sequence
    ids = pad_sequence(sequences, batch_first=True, padding_value=PAD_ID)
    lengths = torch.tensor([len(s) for s in sequences])
    mask = (torch.arange(ids.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).long()
    return ids, mask, torch.tensor(labels)


def window_loss_backward(model, batches, window_size):
    """One optimizer step's forward and backward passes, with ftworker's loss scaling: each
    micro-batch's summed cross-entropy divided by the window's example count, so that
    accumulation gives the mean over the window. Returns the summed loss (a tensor) and the real
    (unpadded) token count."""
    loss_sum, tokens = 0.0, 0
    for ids, mask, labels in batches:
        loss = F.cross_entropy(model(ids, mask), labels, reduction="sum")
        (loss / window_size).backward()
        loss_sum += loss.detach()
        tokens += int(mask.sum())
    return loss_sum, tokens
