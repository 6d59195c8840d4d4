#!/usr/bin/env python3
"""Runs on the lent GPU host (PyTorch 2.x + Hugging Face transformers/tokenizers) and writes the
references that ftd's parity tests compare against, computed by Hugging Face's own code:

  models/FAMILY/   tiny random *ForSequenceClassification checkpoints (save_pretrained,
                   safetensors) and expected.json: a padded batch of ids, the logits, the loss,
                   the gradient norms, and the same after one plain SGD step;
  tokenizers/      ids from the Rust `tokenizers` library for texts.jsonl (collect_texts.py);
  export/          logits transformers computes for a model folder that ftworker wrote.

With --causal-lm, the causal-LM references instead (issue 14):

  models_lm/FAMILY/   tiny random *ForCausalLM checkpoints of the decoder families and
                      expected.json: a padded batch with prompt positions masked from the labels,
                      logits at sampled positions, transformers' loss (the mean over the shifted
                      targets), gradient norms, the same after one SGD step, the logits of a row
                      without padding, and greedy generate() with the KV cache from that row;
  exports_lm/FAMILY/  for each folder ftworker exported from a causal_lm job (IN_DIR/exports_lm,
                      made by prepare_lm_exports.sh): AutoModelForCausalLM's logits on a batch,
                      the folder's generation_config.json as GenerationConfig reads it, and
                      AutoTokenizer's ids and greedy completion of a few prompts.

Everything is computed on the CPU in float32 (no TF32), eager attention, dropout off.
usage: hf_reference.py IN_DIR OUT_DIR [--exports-only | --causal-lm]
"""
import json
import os
import sys
import traceback

import torch
import transformers
from transformers import AutoModelForSequenceClassification

NUM_LABELS = 3
VOCAB = 1000
SGD_LR = 0.5


def family_configs():
    common_decoder = dict(vocab_size=VOCAB, num_labels=NUM_LABELS)
    return {
        "bloom": transformers.BloomConfig(hidden_size=32, n_layer=2, n_head=4, pad_token_id=3,
                                          **common_decoder),
        "gpt2": transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                        pad_token_id=3, **common_decoder),
        "llama": transformers.LlamaConfig(hidden_size=32, intermediate_size=64,
                                          num_hidden_layers=2, num_attention_heads=4,
                                          num_key_value_heads=2, max_position_embeddings=64,
                                          pad_token_id=0, tie_word_embeddings=False,
                                          **common_decoder),
        "mistral": transformers.MistralConfig(hidden_size=32, intermediate_size=64,
                                              num_hidden_layers=2, num_attention_heads=4,
                                              num_key_value_heads=2, max_position_embeddings=64,
                                              pad_token_id=0, sliding_window=None,
                                              **common_decoder),
        "qwen2": transformers.Qwen2Config(hidden_size=32, intermediate_size=64,
                                          num_hidden_layers=2, num_attention_heads=4,
                                          num_key_value_heads=2, max_position_embeddings=64,
                                          pad_token_id=0, tie_word_embeddings=False,
                                          **common_decoder),
        "bert": transformers.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=64, max_position_embeddings=64,
                                        pad_token_id=0, **common_decoder),
        "distilbert": transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                                                    max_position_embeddings=64, pad_token_id=0,
                                                    **common_decoder),
        "roberta": transformers.RobertaConfig(hidden_size=32, num_hidden_layers=2,
                                              num_attention_heads=4, intermediate_size=64,
                                              max_position_embeddings=70, pad_token_id=1,
                                              bos_token_id=0, eos_token_id=2, **common_decoder),
    }


def padded_ids(lengths, pad_id, vocab, generator):
    """Random rows of these lengths, right-padded, and their attention mask."""
    longest = max(lengths)
    ids = torch.full((len(lengths), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(lengths), longest), dtype=torch.long)
    for row, length in enumerate(lengths):
        # Real tokens never equal the pad id: decoder heads find the last token by it.
        ids[row, :length] = torch.randint(4, vocab, (length,), generator=generator)
        mask[row, :length] = 1
    return ids, mask


def batch(pad_id, generator):
    ids, mask = padded_ids([12, 7, 9, 1], pad_id, VOCAB, generator)
    labels = torch.tensor([0, 2, 1, 2])
    return ids, mask, labels


def grad_norms(model):
    norms = {name: p.grad.norm().item() for name, p in model.named_parameters()
             if p.grad is not None}
    total = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()
                           if p.grad is not None)).item()
    return total, norms


def forward_backward(model, ids, mask, labels):
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    total, per_tensor = grad_norms(model)
    return {"logits": out.logits.detach().tolist(), "loss": out.loss.item(),
            "grad_norm": total, "grad_norms": per_tensor}


def model_reference(name, config, out_dir, seed):
    torch.manual_seed(seed)
    config._attn_implementation = "eager"
    model = AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")
    model.eval()  # dropout off; gradients still flow
    folder = os.path.join(out_dir, "models", name)
    model.save_pretrained(folder)  # safetensors by default
    ids, mask, labels = batch(config.pad_token_id, torch.Generator().manual_seed(seed))
    before = forward_backward(model, ids, mask, labels)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= SGD_LR * p.grad
    after = forward_backward(model, ids, mask, labels)
    with torch.no_grad():
        single = model(input_ids=ids[1:2, :7], attention_mask=mask[1:2, :7]).logits.tolist()
    expected = {"family": name, "class": type(model).__name__,
                "transformers": transformers.__version__, "torch": torch.__version__,
                "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                "labels": labels.tolist(), "sgd_lr": SGD_LR, "before": before,
                "after_one_sgd_step": after, "unpadded_row1_logits": single}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print("%-10s %-36s loss %.6f grad_norm %.6f -> loss %.6f" % (
        name, type(model).__name__, before["loss"], before["grad_norm"], after["loss"]))


def tokenizer_reference(in_dir, out_dir):
    from tokenizers import Tokenizer
    import tokenizers
    texts = [json.loads(line)["text"] for line in open(os.path.join(in_dir, "texts.jsonl"))]
    os.makedirs(os.path.join(out_dir, "tokenizers"), exist_ok=True)
    for name in ("gpt2", "all-MiniLM-L6-v2"):
        tokenizer = Tokenizer.from_file(os.path.join(in_dir, "tokenizers", name, "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        encodings = tokenizer.encode_batch(texts)
        with open(os.path.join(out_dir, "tokenizers", name + ".ids.jsonl"), "w") as f:
            for text, encoding in zip(texts, encodings):
                f.write(json.dumps(encoding.ids) + "\n")
        print("tokenizers %s %s: %d texts, %d ids" % (
            tokenizers.__version__, name, len(texts), sum(len(e.ids) for e in encodings)))


def export_logits(folder, seed=5):
    """transformers' logits on a model folder ftworker wrote, for a padded batch of ids."""
    model = AutoModelForSequenceClassification.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    generator = torch.Generator().manual_seed(seed)
    ids, mask, _ = batch(model.config.pad_token_id, generator)
    ids = ids.clamp(max=model.config.vocab_size - 1)
    ids[mask == 0] = model.config.pad_token_id
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    return {"class": type(model).__name__, "transformers": transformers.__version__,
            "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
            "logits": logits.tolist()}


def export_reference(in_dir, out_dir):
    """export/ (one folder) and exports/NAME/ (one per family), when present in IN_DIR."""
    folders = []
    if os.path.isdir(os.path.join(in_dir, "export")):
        folders.append(("export", os.path.join(in_dir, "export")))
    exports = os.path.join(in_dir, "exports")
    if os.path.isdir(exports):
        folders += [(os.path.join("exports", n), os.path.join(exports, n))
                    for n in sorted(os.listdir(exports))]
    for name, folder in folders:
        try:
            expected = export_logits(folder)
        except Exception:
            print("FAILED export", name)
            traceback.print_exc()
            continue
        os.makedirs(os.path.join(out_dir, name), exist_ok=True)
        with open(os.path.join(out_dir, name, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
        print("export %s: %s loaded by transformers %s, logits %s" % (
            name, expected["class"], transformers.__version__,
            tuple(torch.tensor(expected["logits"]).shape)))


def main():
    in_dir, out_dir = sys.argv[1], sys.argv[2]
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_num_threads(4)
    print("transformers", transformers.__version__, "torch", torch.__version__)
    failures = 0
    if "--exports-only" in sys.argv:
        export_reference(in_dir, out_dir)
        return 0
    if "--causal-lm" in sys.argv:
        import hf_causal_lm_reference
        return hf_causal_lm_reference.main(in_dir, out_dir)
    for seed, (name, config) in enumerate(family_configs().items()):
        try:
            model_reference(name, config, out_dir, 100 + seed)
        except Exception:
            failures += 1
            print("FAILED", name)
            traceback.print_exc()
    for step in (tokenizer_reference, export_reference):
        try:
            step(in_dir, out_dir)
        except Exception:
            failures += 1
            print("FAILED", step.__name__)
            traceback.print_exc()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
