"""The causal-LM half of hf_reference.py (--causal-lm): references computed by transformers'
own *ForCausalLM classes, for tests/unit/worker/models/hf_causal_lm_parity_test.cc.

Logits are kept at a few positions per row (the first, the middle and the last real one) and
rounded to 8 significant digits (float32 carries about 7): the whole [batch, seq, vocab] tensor
would make megabytes of fixtures for nothing the test needs.
"""
import json
import os
import traceback

import torch
import transformers
from transformers import (AutoModelForCausalLM, AutoTokenizer, GenerationConfig)

from hf_reference import grad_norms, padded_ids  # grad_norms: a tied head is listed once

VOCAB = 256
PAD = {"bloom": 3, "gpt2": 3}  # the others pad with 0
EOS = 2
SGD_LR = 0.5
PROMPT_POSITIONS = 3  # rows 0 and 2 train on what follows their first 3 tokens only
NEW_TOKENS = 12
# ftworker's byte-level tokenizer.json and the TREC-style prompts the exports were trained on.
EXPORT_PROMPTS = ["Question: Where is Paris ?\nType:", "Question: Who wrote Hamlet ?\nType:",
                  "Question: How many feet are in a mile ?\nType:"]


def configs():
    common = dict(vocab_size=VOCAB, bos_token_id=1, eos_token_id=EOS)
    rotary = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                  pad_token_id=0, **common)
    return {
        # BLOOM and GPT-2 tie the head to the input embeddings by default.
        "bloom": transformers.BloomConfig(hidden_size=32, n_layer=2, n_head=4,
                                          pad_token_id=PAD["bloom"], **common),
        "gpt2": transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=64,
                                        pad_token_id=PAD["gpt2"], **common),
        "llama": transformers.LlamaConfig(tie_word_embeddings=False, **rotary),
        "mistral": transformers.MistralConfig(sliding_window=None, tie_word_embeddings=False,
                                              **rotary),
        # A tied rotary model, as Qwen2.5-0.5B ships.
        "qwen2": transformers.Qwen2Config(tie_word_embeddings=True, **rotary),
    }


def rounded(values):
    if isinstance(values, list):
        return [rounded(v) for v in values]
    return float("%.8g" % values)


def batch(pad_id, generator):
    ids, mask = padded_ids([12, 7, 9, 2], pad_id, VOCAB, generator)
    labels = ids.clone()
    labels[mask == 0] = -100
    labels[0, :PROMPT_POSITIONS] = -100
    labels[2, :PROMPT_POSITIONS] = -100
    return ids, mask, labels


def sampled_positions(mask):
    positions = []
    for row, length in enumerate(mask.sum(dim=1).tolist()):
        for position in sorted({0, length // 2, length - 1}):
            positions.append([row, position])
    return positions


def logits_at(logits, positions):
    return rounded([logits[row, position].tolist() for row, position in positions])


def forward_backward(model, ids, mask, labels, positions):
    model.zero_grad(set_to_none=True)
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    out.loss.backward()
    total, per_tensor = grad_norms(model)
    return {"logits": logits_at(out.logits.detach(), positions), "loss": out.loss.item(),
            "grad_norm": total, "grad_norms": per_tensor}


def greedy(model, prompt_ids, pad_id, eos_id):
    config = GenerationConfig(max_new_tokens=NEW_TOKENS, do_sample=False, num_beams=1,
                              eos_token_id=eos_id, pad_token_id=pad_id, use_cache=True)
    prompt = torch.tensor([prompt_ids])
    with torch.no_grad():
        out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt),
                             generation_config=config)
    return out[0, len(prompt_ids):].tolist()


def model_reference(name, config, out_dir, seed):
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    model.eval()  # dropout off; gradients still flow
    folder = os.path.join(out_dir, "models_lm", name)
    model.save_pretrained(folder)
    ids, mask, labels = batch(config.pad_token_id, torch.Generator().manual_seed(seed))
    positions = sampled_positions(mask)
    before = forward_backward(model, ids, mask, labels, positions)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p -= SGD_LR * p.grad
    after = forward_backward(model, ids, mask, labels, positions)
    row1 = ids[1, :int(mask[1].sum())].tolist()
    with torch.no_grad():
        single = model(input_ids=torch.tensor([row1])).logits[0].tolist()
    expected = {"family": name, "class": type(model).__name__,
                "tied": bool(config.tie_word_embeddings),
                "transformers": transformers.__version__, "torch": torch.__version__,
                "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                "labels": labels.tolist(), "logit_positions": positions, "sgd_lr": SGD_LR,
                "before": before, "after_one_sgd_step": after,
                "unpadded_row1_logits": rounded(single),
                "greedy": {"prompt_ids": row1, "eos_token_id": EOS,
                           "max_new_tokens": NEW_TOKENS,
                           "new_ids": greedy(model, row1, config.pad_token_id, EOS)}}
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("%-8s %-22s tied %-5s loss %.6f grad_norm %.6f -> loss %.6f greedy %s" % (
        name, type(model).__name__, expected["tied"], before["loss"], before["grad_norm"],
        after["loss"], expected["greedy"]["new_ids"]))


def export_reference(folder, out_folder, seed=5):
    """What transformers makes of a folder ftworker exported from a causal_lm job."""
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager")
    model.eval()
    generation = GenerationConfig.from_pretrained(folder)
    pad_id = model.config.pad_token_id if model.config.pad_token_id is not None else 0
    ids, mask, _ = batch(pad_id, torch.Generator().manual_seed(seed))
    ids = ids.clamp(max=model.config.vocab_size - 1)
    ids[mask == 0] = pad_id
    positions = sampled_positions(mask)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask).logits
    tokenizer = AutoTokenizer.from_pretrained(folder)
    completions = []
    for prompt in EXPORT_PROMPTS:
        prompt_ids = tokenizer(prompt)["input_ids"]
        new_ids = greedy(model, prompt_ids, generation.pad_token_id, generation.eos_token_id)
        completions.append({"prompt": prompt, "prompt_ids": prompt_ids, "new_ids": new_ids,
                            "text": tokenizer.decode(new_ids, skip_special_tokens=True)})
    expected = {"class": type(model).__name__, "transformers": transformers.__version__,
                "tied": bool(model.config.tie_word_embeddings),
                "generation_config": generation.to_diff_dict(),
                "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                "logit_positions": positions, "logits": logits_at(logits, positions),
                "max_new_tokens": NEW_TOKENS, "completions": completions}
    os.makedirs(out_folder, exist_ok=True)
    with open(os.path.join(out_folder, "expected.json"), "w") as f:
        json.dump(expected, f)
    print("export %-8s %-22s tied %-5s %r" % (
        os.path.basename(folder), expected["class"], expected["tied"],
        [c["text"] for c in completions]))


def main(in_dir, out_dir):
    failures = 0
    for seed, (name, config) in enumerate(configs().items()):
        try:
            model_reference(name, config, out_dir, 200 + seed)
        except Exception:
            failures += 1
            print("FAILED", name)
            traceback.print_exc()
    exports = os.path.join(in_dir, "exports_lm")
    for name in sorted(os.listdir(exports)) if os.path.isdir(exports) else []:
        try:
            export_reference(os.path.join(exports, name),
                             os.path.join(out_dir, "exports_lm", name))
        except Exception:
            failures += 1
            print("FAILED export", name)
            traceback.print_exc()
    return 1 if failures else 0
