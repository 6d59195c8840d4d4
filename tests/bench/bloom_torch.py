"""BLOOM as plain PyTorch nn.Modules, for the benchmarks' baselines: the sequence classifier and
BloomForCausalLM.

It is BLOOM as transformers writes it, at its strongest on a CPU: the fused QKV projection,
the ALiBi bias and the causal/padding mask added into one bias built once per forward and
applied through one baddbmm per block (BloomAttention), softmax, bmm, and the tanh GeLU as one
ATen kernel (F.gelu(approximate="tanh")). The classifier can take ftworker's shortcut
(last_block_only: the last block computes only the pooled token) or not (transformers' way).
Hugging Face's parameter names (so ftworker's model.safetensors loads with strict=True), the
ALiBi slopes of tests/unit/worker/bloom_reference.py, BLOOM's initialization in ftworker's
construction order (so torch.manual_seed(seed) gives ftworker's initial weights), right padding;
the classifier feeds the last real token's hidden state to the score head, the causal LM every
position's to the LM head tied to the word embeddings.

Imports torch: only the baseline processes import this module, never the benchmark drivers.
`/usr/bin/python3 bloom_torch.py` checks the modules against the float64 reference (1e-5).
"""
import contextlib
import math
import os
import sys
import time

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
    """transformers' BloomAttention: one fused QKV projection, the scores as
    baddbmm(bias, q, k^T, alpha=1/sqrt(head_dim)) over [batch x heads] matrices with the ALiBi
    bias and the causal/padding mask already added into `bias`, softmax (in float32), bmm."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.inv_norm_factor = 1.0 / math.sqrt(self.head_dim)
        self.query_key_value = nn.Linear(hidden, 3 * hidden)
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, x, bias, query_rows=None):
        """x [batch, seq, hidden], bias [batch * heads, seq, seq]. With query_rows ([batch]
        positions) only those rows are queried: returns [batch, 1, hidden]."""
        batch, seq, hidden = x.shape
        # Hugging Face's fused layout: [..., head, (q|k|v), head_dim].
        fused = self.query_key_value(x).view(batch, seq, self.heads, 3, self.head_dim)
        query, key, value = fused[..., 0, :], fused[..., 1, :], fused[..., 2, :]
        if query_rows is not None:
            rows = torch.arange(batch)
            query = query[rows, query_rows].unsqueeze(1)  # [batch, 1, heads, head_dim]
            bias = bias.view(batch, self.heads, seq, seq)[rows, :, query_rows].unsqueeze(2)
            bias = bias.reshape(batch * self.heads, 1, seq)
        queries = query.shape[1]
        query = query.transpose(1, 2).reshape(batch * self.heads, queries, self.head_dim)
        key = key.permute(0, 2, 3, 1).reshape(batch * self.heads, self.head_dim, seq)
        value = value.transpose(1, 2).reshape(batch * self.heads, seq, self.head_dim)
        scores = torch.baddbmm(bias, query, key, beta=1.0, alpha=self.inv_norm_factor)
        # float32 softmax under bf16 autocast, as transformers' BloomAttention upcasts it
        context = torch.bmm(scores.softmax(-1, dtype=torch.float32).to(value.dtype), value)
        context = context.view(batch, self.heads, queries, self.head_dim).transpose(1, 2)
        return self.dense(context.reshape(batch, queries, hidden))


class Mlp(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense_h_to_4h = nn.Linear(hidden, 4 * hidden)
        self.dense_4h_to_h = nn.Linear(4 * hidden, hidden)

    def forward(self, x):
        # BLOOM's tanh GeLU as one ATen kernel (forward and backward).
        return self.dense_4h_to_h(F.gelu(self.dense_h_to_4h(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.input_layernorm = nn.LayerNorm(hidden, eps=1e-5)
        self.self_attention = Attention(hidden, heads)
        self.post_attention_layernorm = nn.LayerNorm(hidden, eps=1e-5)
        self.mlp = Mlp(hidden)

    def forward(self, x, bias, query_rows=None):
        residual = x if query_rows is None else x[torch.arange(x.shape[0]), query_rows][:, None]
        x = self.self_attention(self.input_layernorm(x), bias, query_rows) + residual
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

    def attention_bias(self, mask):
        """[batch * heads, seq, seq]: ALiBi (slope x key position, positions counted over the
        real tokens) plus the causal and padding mask as the dtype's minimum, built once per
        forward and shared by every block, as transformers builds its alibi and 4-d mask."""
        batch, seq = mask.shape
        positions = ((mask.cumsum(-1) - 1) * mask).float()
        alibi = self.slopes.view(1, -1, 1, 1) * positions.view(batch, 1, 1, seq)
        causal = torch.ones(seq, seq, dtype=torch.bool).triu(1)
        masked = causal.view(1, 1, seq, seq) | (mask == 0).view(batch, 1, 1, seq)
        blocked = torch.zeros(masked.shape).masked_fill_(masked, torch.finfo(torch.float).min)
        return (alibi + blocked).reshape(batch * self.n_head, seq, seq)

    def forward(self, ids, mask, output_rows=None):
        """Final hidden states [batch, seq, hidden]; with output_rows ([batch] positions) only
        those, [batch, 1, hidden], and the last block computes only them past its key/value
        projection (the shortcut ftworker's classifier takes)."""
        x = self.word_embeddings_layernorm(self.word_embeddings(ids))
        bias = self.attention_bias(mask)
        for index, block in enumerate(self.h):
            last = index == len(self.h) - 1
            x = block(x, bias, output_rows if last else None)
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
    """Logits [batch, labels] at each row's last real token. last_block_only: the last block
    computes only that token (keys and values still at every position), as ftworker's classifier
    does; off, every position, as transformers' BloomForSequenceClassification does."""

    def __init__(self, num_labels, vocab_size, hidden_size, n_layer, n_head,
                 last_block_only=False):
        super().__init__()
        self.last_block_only = last_block_only
        self.transformer = Transformer(vocab_size, hidden_size, n_layer, n_head)
        self.score = nn.Linear(hidden_size, num_labels, bias=False)
        init_bloom_weights(self)

    def forward(self, ids, mask):
        last = mask.sum(-1) - 1  # right padding: the last real token
        if self.last_block_only:
            return self.score(self.transformer(ids, mask, output_rows=last)[:, 0])
        x = self.transformer(ids, mask)
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


def build_model(model_name, num_labels, seed, last_block_only=False):
    """ftworker's initial model for `model_name` ("scratch:bloom-small", ...): the generator
    seeded first, as ftworker does."""
    torch.manual_seed(seed)
    return BloomForSequenceClassification(num_labels, last_block_only=last_block_only,
                                          **bc.model_config(model_name))


def build_causal_lm(model_name, seed):
    """ftworker's initial causal LM for `model_name`, seeded as build_model."""
    torch.manual_seed(seed)
    return BloomForCausalLM(**bc.model_config(model_name))


def training_setup(config, model_name, last_block_only):
    """What a throughput baseline needs from its config (train, max_seq_length, seed,
    micro_batch_size, accumulation_steps, steps, learning_rate): the byte-tokenized examples,
    their label ids, ftworker's windows, the initial model in train mode and its AdamW."""
    texts, labels = bc.read_csv_examples(config["train"])
    label_list, _, num_labels = bc.label_ids(labels)
    ids = [torch.tensor(bc.byte_tokenize(t, config["max_seq_length"])) for t in texts]
    windows = bc.training_windows([len(i) for i in ids], config["seed"],
                                  config["micro_batch_size"], config["accumulation_steps"],
                                  config["steps"])
    model = build_model(model_name, num_labels, config["seed"], last_block_only=last_block_only)
    model.train()
    return ids, label_list, windows, model, make_adamw(model, config["learning_rate"])


def make_adamw(model, learning_rate):
    """torch.optim.AdamW as ftworker configures it (weight decay 0: its default)."""
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(0.9, 0.999), eps=1e-8,
                             weight_decay=0.0)


def length_grouped_order(lengths, batch_size, seed):
    """The order of transformers' LengthGroupedSampler (Trainer with group_by_length=True): a
    seeded random permutation cut into megabatches of 50 batches (fewer when the data set holds
    under 200 batches), each sorted longest first, the longest example's megabatch swapped to
    the front so that an out-of-memory error comes at once. Consecutive batch_size slices of it
    are the micro-batches."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    indices = torch.randperm(len(lengths), generator=generator).tolist()
    megabatch_size = max(1, min(len(lengths) // (batch_size * 4), 50)) * batch_size
    megabatches = [sorted(indices[i:i + megabatch_size], key=lambda j: -lengths[j])
                   for i in range(0, len(indices), megabatch_size)]
    longest = max(range(len(megabatches)), key=lambda m: lengths[megabatches[m][0]])
    megabatches[0][0], megabatches[longest][0] = megabatches[longest][0], megabatches[0][0]
    return [i for megabatch in megabatches for i in megabatch]


def pad_batch(sequences, labels, length=None):
    """Dynamic right padding with <pad> to the longest sequence of the batch, as a DataLoader
    collate_fn built on pad_sequence does, or to `length` (a tokenizer's padding to the longest
    of the whole split): (ids, attention mask, labels)."""
    from torch.nn.utils.rnn import pad_sequence
    ids = pad_sequence(sequences, batch_first=True, padding_value=PAD_ID)
    if length is not None and length > ids.shape[1]:
        ids = F.pad(ids, (0, length - ids.shape[1]), value=PAD_ID)
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


def window_loss_backward(model, batches, loss_divisor, summed_loss=example_loss_sum,
                         autocast=contextlib.nullcontext):
    """One optimizer step's forward and backward passes, with ftworker's loss scaling: each
    micro-batch's summed loss divided by the window's loss terms (its example count for a
    classifier, its target tokens for a causal LM), so that accumulation gives the mean over the
    window. The forward runs under `autocast()` (bf16 runs pass torch.autocast's); the loss is
    taken in float32. Returns the summed loss (a tensor) and the real (unpadded) token count."""
    loss_sum, tokens = 0.0, 0
    for ids, mask, labels in batches:
        with autocast():
            logits = model(ids, mask)
        loss = summed_loss(logits.float(), labels)
        (loss / loss_divisor).backward()
        loss_sum += loss.detach()
        tokens += int(mask.sum())
    return loss_sum, tokens


def timed_classifier_steps(model, optimizer, ids, label_list, windows,
                           autocast=contextlib.nullcontext):
    """The throughput baselines' training loop over ftworker's windows: each window collated
    before the clock starts (as ftworker's prefetch thread collates outside its own), then zero
    the gradients, window_loss_backward and the optimizer step, timed. Returns the seconds of each
    step, each window's mean loss and the real tokens trained on."""
    step_seconds, losses, tokens = [], [], 0
    for window in windows:
        batches = [pad_batch([ids[i] for i in micro], [label_list[i] for i in micro])
                   for micro in window]
        start = time.perf_counter()
        optimizer.zero_grad()
        window_size = sum(len(micro) for micro in window)
        loss_sum, window_tokens = window_loss_backward(model, batches, window_size,
                                                       autocast=autocast)
        optimizer.step()
        step_seconds.append(time.perf_counter() - start)
        losses.append(float(loss_sum) / window_size)
        tokens += window_tokens
    return step_seconds, losses, tokens


def _self_test(tolerance=1e-5):
    """The modules against the float64 functional reference of the unit tests, on a real batch
    (the first 16 SST-2 validation sentences, dynamic padding): the classifier with and without
    the last-block shortcut, and the causal LM. Prints the largest differences; exit 1 if one
    exceeds `tolerance`."""
    texts, labels = bc.read_glue_tsv(os.path.join(bc.SHARED_DATA, "sst2", "dev.tsv"))
    ids, mask, _ = pad_batch([torch.tensor(bc.byte_tokenize(t, 128)) for t in texts[:16]],
                             [int(label) for label in labels[:16]])
    config = bc.model_config("scratch:bloom-small")
    worst = 0.0
    for last_block_only in (False, True):
        model = build_model("scratch:bloom-small", 2, 1, last_block_only=last_block_only)
        params = {k: v.double() for k, v in model.state_dict().items()}
        with torch.no_grad():
            reference = bloom_reference.bloom_logits(params, ids, mask, config["n_head"],
                                                     config["n_layer"])
            difference = (model(ids, mask).double() - reference).abs().max().item()
        print("classifier, last_block_only=%s: max |logit - float64 reference| %.2e" %
              (last_block_only, difference))
        worst = max(worst, difference)
    model = build_causal_lm("scratch:bloom-small", 1)
    params = {k: v.double() for k, v in model.state_dict().items()}
    with torch.no_grad():
        hidden = bloom_reference.bloom_hidden(params, ids, mask, config["n_head"],
                                              config["n_layer"])
        reference = hidden @ params["transformer.word_embeddings.weight"].T
        real = mask.bool()
        difference = (model(ids, mask).double() - reference)[real].abs().max().item()
    print("causal LM: max |logit - float64 reference| at real tokens %.2e" % difference)
    worst = max(worst, difference)
    print("OK" if worst <= tolerance else "MISMATCH (tolerance %.0e)" % tolerance)
    return 0 if worst <= tolerance else 1


if __name__ == "__main__":
    sys.exit(_self_test())
