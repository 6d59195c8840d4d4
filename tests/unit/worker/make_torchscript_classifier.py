"""Writes a tiny scripted sequence classifier for the TorchScript tests of hf_models_test:
forward(input_ids, attention_mask) -> logits, mean of the unmasked token embeddings through a
linear layer. Usage: make_torchscript_classifier.py OUT.pt NUM_LABELS"""
import sys

import torch


class Classifier(torch.nn.Module):
    def __init__(self, vocab: int, width: int, labels: int):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, width)
        self.head = torch.nn.Linear(width, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        pooled = (self.embed(input_ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)


torch.manual_seed(0)
torch.jit.script(Classifier(260, 16, int(sys.argv[2]))).save(sys.argv[1])
