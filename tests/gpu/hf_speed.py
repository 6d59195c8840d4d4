#!/usr/bin/env python3
"""The baseline of gpu_check's `speed` section: the same training job written the usual way with
Hugging Face's own BloomForSequenceClassification in PyTorch, on the same GPU and data.

BLOOM-560m's configuration (random weights, as ftworker's scratch:bloom-560m), the tokenizer.json
that the ftworker job wrote (the same token ids), IMDB reviews truncated to --max-seq-length
tokens, shuffled, micro-batches of 8 padded to their longest row, 2 accumulated per AdamW step (lr
1e-5, constant), --steps optimizer steps, fp32 or bf16 autocast. Prints samples/s and tokens/s of
the training loop (from the first micro-batch to the last optimizer step, synchronized), timed as
ftworker's timing.train_seconds.

  python3 tests/gpu/hf_speed.py CSV TOKENIZER_JSON --precision bf16
"""
import argparse
import csv
import random
import sys
import time

import torch
from tokenizers import Tokenizer
from transformers import BloomConfig, BloomForSequenceClassification


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("tokenizer_json")
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--accumulation", type=int, default=2)
    parser.add_argument("--max-seq-length", type=int, default=512)
    args = parser.parse_args()

    csv.field_size_limit(sys.maxsize)
    with open(args.csv, newline="") as f:
        rows = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    tokenizer = Tokenizer.from_file(args.tokenizer_json)
    pad_id = tokenizer.token_to_id("<pad>")
    random.Random(1).shuffle(rows)
    needed = args.steps * args.micro_batch * args.accumulation
    examples = [(tokenizer.encode(text).ids[:args.max_seq_length], label)
                for text, label in rows[:needed]]

    torch.manual_seed(1)
    config = BloomConfig(vocab_size=250880, hidden_size=1024, n_layer=24, n_head=16,
                         layer_norm_epsilon=1e-5, initializer_range=0.02, num_labels=2,
                         pad_token_id=pad_id)
    device = torch.device("cuda")
    model = BloomForSequenceClassification(config).to(device)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    effective = args.micro_batch * args.accumulation
    print("torch", torch.__version__, "attention", getattr(config, "_attn_implementation", "?"),
          "parameters", sum(p.numel() for p in model.parameters()), flush=True)

    torch.cuda.synchronize()
    start = time.perf_counter()
    tokens = 0
    for step in range(args.steps):
        window = examples[step * effective:(step + 1) * effective]
        for begin in range(0, effective, args.micro_batch):
            batch = window[begin:begin + args.micro_batch]
            longest = max(len(ids) for ids, _ in batch)
            ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), longest), dtype=torch.long)
            for row, (tokens_of_row, _) in enumerate(batch):
                ids[row, :len(tokens_of_row)] = torch.tensor(tokens_of_row)
                mask[row, :len(tokens_of_row)] = 1
                tokens += len(tokens_of_row)
            labels = torch.tensor([label for _, label in batch])
            ids, mask, labels = ids.to(device), mask.to(device), labels.to(device)
            with torch.autocast("cuda", dtype=torch.bfloat16,
                                enabled=args.precision == "bf16"):
                logits = model(input_ids=ids, attention_mask=mask).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
            (loss / len(window)).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    samples = args.steps * effective
    print("#### speed hf %s: %d samples, %d tokens in %.2f s: %.1f samples/s, %.0f tokens/s, "
          "peak allocated %.0f MiB" % (args.precision, samples, tokens, seconds, samples / seconds,
                                       tokens / seconds,
                                       torch.cuda.max_memory_allocated() / 2**20), flush=True)


if __name__ == "__main__":
    main()
