"""BLOOM as plain PyTorch nn.Modules, for the benchmarks' baselines: the sequence classifier and
BloomForCausalLM.

It is what a user would write (or get from Hugging Face) to train the model ftworker trains:
Hugging Face's parameter names (so ftworker's model.safetensors loads with strict=True), the
ALiBi slopes of tests/unit/worker/bloom_reference.py, BLOOM's initialization in ftworker's
construction order (so torch.manual_seed(seed) gives ftworker's initial weights), right padding;
the classifier feeds the last real token's hidden state to the score head, the causal LM every
position's to the LM head tied to the word embeddings.

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
        # BLOOM's x * 0.5 * (1 + tanh(0.79788456 * x * (1 + 0.044715 * x^2))) is GeLU's tanh
        # approximation: one fused kernel, as ftworker runs it and a PyTorch user would write it
        # (eight element-wise operations cost several times more, forward and backward).
        return self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(x), approximate="tanh"))


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


def init_bloom_weights(model):
    """BLOOM's initialization, module by module in construction order (as ftworker's
    InitializeHfWeights)."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


class BloomForSequenceClassification(nn.Module):
    def __init__(self, num_labels, vocab_size, hidden_size, n_layer, n_head):
        super().__init__()
        self.transformer = Transformer(vocab_size, hidden_size, n_layer, n_head)
        self.score = nn.Linear(hidden_size, num_labels, bias=False)
        init_bloom_weights(self)

    def forward(self, ids, mask):
        x = self.transformer(ids, mask)
        last = mask.sum(-1) - 1  # right padding: the last real token
        return self.score(x[torch.arange(x.shape[0]), last])


class BloomForCausalLM(nn.Module):
    """Logits [batch, seq, vocab] at every position; lm_head.weight IS the word embeddings (tied,
    as Hugging Face ties it: one parameter, so the optimizer and the state_dict's storage hold it
    once)."""

    def __init__(self, vocab_size, hidden_size, n_layer, n_head):
        super().__init__()
        self.transformer = Transformer(vocab_size, hidden_size, n_layer, n_head)
        init_bloom_weights(self)
        # Made after the initialization, as Hugging Face ties after _init_weights: its own
        # random weight is dropped and draws nothing that the transformer's weights depend on.
        self.lm_head = nn.Linear(hidden_size, vocab_size, bias=False)
        self.lm_head.weight = self.transformer.word_embeddings.weight

    def forward(self, ids, mask):
        return self.lm_head(self.transformer(ids, mask))


def build_model(model_name, num_labels, seed):
    """ftworker's initial model for `model_name` ("scratch:bloom-small", ...): the generator
    seeded first, as ftworker does."""
    torch.manual_seed(seed)
    return BloomForSequenceClassification(num_labels, **bc.model_config(model_name))


def build_causal_lm(model_name, seed):
    """ftworker's initial causal LM for `model_name`, seeded as build_model."""
    torch.manual_seed(seed)
    return BloomForCausalLM(**bc.model_config(model_name))


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


def pad_lm_batch(examples):
    """A causal LM's micro-batch of (ids, targets) examples (bench_common.lm_example), padded on
    the right to its longest: (ids, attention mask, labels), labels = the id where it is a
    target, -100 on the prompt and the padding (the data collator a TRL user gets)."""
    longest = max(len(ids) for ids, _ in examples)
    ids = torch.full((len(examples), longest), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(examples), longest), dtype=torch.int64)
    labels = torch.full((len(examples), longest), bc.IGNORED_LABEL, dtype=torch.int64)
    for row, (sequence, targets) in enumerate(examples):
        sequence = torch.tensor(sequence)
        ids[row, :len(sequence)] = sequence
        mask[row, :len(sequence)] = 1
        labels[row, :len(sequence)] = sequence.masked_fill(
            torch.tensor(targets) == 0, bc.IGNORED_LABEL)
    return ids, mask, labels


def example_loss_sum(logits, labels):
    """A classifier's loss terms are its examples: the summed cross-entropy of the batch."""
    return F.cross_entropy(logits, labels, reduction="sum")


def token_loss_sum(logits, labels):
    """A causal LM's loss terms are its target tokens: logits at t predict labels at t + 1
    (Hugging Face's shift), summed over the labels that are not -100."""
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1),
                           ignore_index=bc.IGNORED_LABEL, reduction="sum")


def loss_terms(labels):
    """The target tokens of a causal LM micro-batch (the labels that are loss terms)."""
    return int((labels[:, 1:] != bc.IGNORED_LABEL).sum())


def window_loss_backward(model, batches, loss_divisor, summed_loss=example_loss_sum):
    """One optimizer step's forward and backward passes, with ftworker's loss scaling: each
    micro-batch's summed loss divided by the window's loss terms (its example count for a
    classifier, its target tokens for a causal LM), so that accumulation gives the mean over the
    window. Returns the summed loss (a tensor) and the real (unpadded) token count."""
    loss_sum, tokens = 0.0, 0
    for ids, mask, labels in batches:
        loss = summed_loss(model(ids, mask), labels)
        (loss / loss_divisor).backward()
        loss_sum += loss.detach()
        tokens += int(mask.sum())
    return loss_sum, tokens
