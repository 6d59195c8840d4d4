#!/usr/bin/env python3
"""PEFT compatibility of ftworker's LoRA output, checked by PEFT and transformers themselves.

Runs where `peft` and `transformers` are installed (the lent GPU host; the CPU is enough). For
each family it
  1. makes a tiny random *ForSequenceClassification (and for decoders *ForCausalLM) with
     transformers' save_pretrained (safetensors);
  2. trains a LoRA adapter on it with the real ftworker (`--spec`, lora with every target of the
     family, merge on, 2 SGD steps on generated rows);
  3. loads the adapter folder with PeftModel.from_pretrained(base, out) and checks: no missing or
     unexpected adapter keys, every lora_A/lora_B/modules_to_save tensor equal to the file's,
     the PEFT model's logits equal to the merged folder's logits (AutoModel... on out/merged,
     transformers alone) within 1e-5 of the largest, and merge_and_unload()'s weights equal to
     out/merged within 1e-6;
  4. writes OUT_DIR/peft_check.json with every figure, to keep as a fixture
     (tests/fixtures/peft/).

usage: peft_check.py PATH/TO/ftworker OUT_DIR
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from peft import PeftModel
from safetensors.torch import load_file

NUM_LABELS = 3
VOCAB = 300
BAR_LOGITS, BAR_WEIGHTS = 1e-5, 1e-6


def configs():
    decoder = dict(vocab_size=VOCAB, num_labels=NUM_LABELS, pad_token_id=3, eos_token_id=2)
    return {
        "bloom": (transformers.BloomConfig(hidden_size=32, n_layer=2, n_head=4, **decoder),
                  ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"], True),
        "gpt2": (transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, **decoder),
                 ["c_attn", "c_proj", "c_fc"], True),
        "llama": (transformers.LlamaConfig(hidden_size=32, num_hidden_layers=2,
                                           num_attention_heads=4, num_key_value_heads=2,
                                           intermediate_size=64, **decoder),
                  ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                  True),
        "bert": (transformers.BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                                         num_attention_heads=4, intermediate_size=64,
                                         num_labels=NUM_LABELS),
                 ["query", "key", "value", "dense"], False),
        "distilbert": (transformers.DistilBertConfig(vocab_size=VOCAB, dim=32, n_layers=2,
                                                     n_heads=4, hidden_dim=64,
                                                     num_labels=NUM_LABELS),
                       ["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"], False),
    }


def write_rows(folder, task):
    path = os.path.join(folder, "train.jsonl" if task == "causal_lm" else "train.csv")
    with open(path, "w") as f:
        if task == "causal_lm":
            for i in range(16):
                f.write(json.dumps({"prompt": "question %d:" % i, "completion": " answer %d" % i})
                        + "\n")
        else:
            f.write("text,label\n")
            for i in range(16):
                f.write("example number %d is %s,%d\n" % (i, "good" if i % 3 else "bad", i % 3))
    return path


def train(ftworker, work, name, base, task, targets):
    spec = {"model": base, "task": task,
            "dataset": {"train": write_rows(work, task), "validation_fraction": 0.25},
            "micro_batch_size": 2, "accumulation_steps": 2, "epochs": 1, "max_steps": 2,
            "learning_rate": 0.05, "optimizer": "sgd", "max_seq_length": 16, "seed": 1,
            "lora": {"r": 4, "alpha": 8, "target_modules": targets, "merge": True}}
    spec_path = os.path.join(work, name + ".json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out = os.path.join(work, name + ".out")
    subprocess.run([ftworker, "--spec", spec_path, "--out", out, "--threads", "1"], check=True)
    return out


def check(name, base_folder, out, auto_class):
    figures = {}
    base = auto_class.from_pretrained(base_folder)
    peft_model = PeftModel.from_pretrained(base, out).eval()
    saved = load_file(os.path.join(out, "adapter_model.safetensors"))
    state = peft_model.state_dict()
    worst = 0.0
    for key, tensor in saved.items():
        # base_model.model.x.lora_A.weight -> base_model.model.x.lora_A.default.weight;
        # base_model.model.score.weight -> base_model.model.score.modules_to_save.default.weight
        candidates = [key.replace(".lora_A.", ".lora_A.default.").replace(
            ".lora_B.", ".lora_B.default.")]
        stem, leaf = key.rsplit(".", 1)
        candidates.append(stem + ".modules_to_save.default." + leaf)
        found = [state[c] for c in candidates if c in state]
        assert found, "%s: %s not in the PEFT model" % (name, key)
        worst = max(worst, (found[0] - tensor).abs().max().item())
    figures["adapter_tensors_max_abs_diff"] = worst
    ids = torch.tensor([[5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 3, 3]])
    mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        peft_logits = peft_model(input_ids=ids, attention_mask=mask).logits
        merged = auto_class.from_pretrained(os.path.join(out, "merged")).eval()
        merged_logits = merged(input_ids=ids, attention_mask=mask).logits
        unloaded = peft_model.merge_and_unload()
    figures["peft_vs_merged_logits"] = ((peft_logits - merged_logits).abs().max()
                                        / merged_logits.abs().max()).item()
    ours = load_file(os.path.join(out, "merged", "model.safetensors"))
    theirs = unloaded.state_dict()
    figures["merge_and_unload_vs_merged_weights"] = max(
        (theirs[k] - v).abs().max().item() / max(v.abs().max().item(), 1e-30)
        for k, v in ours.items() if k in theirs)
    figures["ok"] = (worst == 0.0 and figures["peft_vs_merged_logits"] <= BAR_LOGITS
                     and figures["merge_and_unload_vs_merged_weights"] <= BAR_WEIGHTS)
    return figures


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ftworker, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    results = {"transformers": transformers.__version__,
               "peft": __import__("peft").__version__, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="ft_peft_check_") as work:
        for family, (config, targets, decoder) in configs().items():
            tasks = [("sequence_classification", transformers.AutoModelForSequenceClassification)]
            if decoder:
                tasks.append(("causal_lm", transformers.AutoModelForCausalLM))
            for task, auto_class in tasks:
                name = "%s_%s" % (family, task)
                torch.manual_seed(0)
                base_folder = os.path.join(work, name + ".base")
                auto_class.from_config(config).save_pretrained(base_folder)
                out = train(ftworker, work, name, base_folder, task, targets)
                results["cases"][name] = check(name, base_folder, out, auto_class)
                print(name, results["cases"][name])
    with open(os.path.join(out_dir, "peft_check.json"), "w") as f:
        json.dump(results, f, indent=2)
    failed = [n for n, c in results["cases"].items() if not c["ok"]]
    if failed:
        sys.exit("FAILED: " + ", ".join(failed))
    print("OK")


if __name__ == "__main__":
    main()
