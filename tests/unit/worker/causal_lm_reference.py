#!/usr/bin/env python3
"""Causal-LM finetuning through the real ftworker against plain PyTorch: exact token-level
gradient accumulation.

Usage: causal_lm_reference.py PATH/TO/ftworker

A window's loss is the mean over ALL target tokens of the window, so each micro-batch must add
(sum of its token losses) / (target tokens of the whole window). Dividing each micro-batch by its
own token count (the bug Hugging Face shipped until late 2024) weights the tokens of a micro-batch
with few targets more than those of one with many. This script

  1. builds a small random BloomForCausalLM (hidden 64, 2 layers, vocabulary 260, the LM head tied
     to the word embeddings) and writes it as a Hugging Face folder (written here, not by our C++);
  2. writes prompt/completion JSONL from real TREC questions ($FT_SHARED_DATA, else ../shared/data
     beside the checkout): "Question: ...\\nType:" -> " location" etc., with prompts of mixed
     lengths and some rows cut by max_seq_length inside the completion, so the micro-batches of a
     window hold very different numbers of target tokens; and the same questions as chat rows
     (system turn or not, one or two question/answer pairs) for a model folder whose
     tokenizer_config.json holds Zephyr's chat template, rendered here by Debian's python3-jinja2
     configured as transformers configures it (tests/chat/chat_reference.py), the assistant spans
     found by rendering each prefix of the conversation;
  3. runs `ftworker --spec job.json --out DIR --threads 1` (task causal_lm) with micro-batch 2 x
     accumulation 4, and with 8 x 1, for 3 steps of SGD, on 8 rows (one window per epoch) and on
     7 rows (the short window 2+2+2+1), and on the 8 chat rows (one of which is cut before its
     answer: ftworker skips it, so its windows are 2+2+2+1 too), and reads model.safetensors and
     the per-step losses;
  4. trains the same start in plain PyTorch (torch.set_num_threads(1)) with ONE full batch per
     step: the byte tokenizer (+EOS, head kept), prompt tokens masked, labels shifted by one,
     cross-entropy summed over the target tokens and divided by their count;
  5. compares every parameter tensor and the per-step losses;
  6. runs the 8 rows again at 2 x 4 with rows of 256 tokens, unpacked and with packing: true
     (up to three questions laid end to end per row), against the reference of step 4.

Bars: SGD parameters max |ftworker - reference| / max |reference| <= 1e-6 per tensor (both 2x4
and 8x1 against the reference, and 2x4 against 8x1); per-step losses 1e-5. The bar is shown to
catch the per-micro-batch normalisation: a reference that averages each pair of rows over its own
target tokens and then averages those means must fail it.
"""
import csv
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
require_module("jinja2", "python3-jinja2")
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bloom_reference import bloom_hidden, load_safetensors  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "chat"))
from chat_reference import make_environment  # noqa: E402
from accumulation_reference import (Checks, parameter_difference, random_model,  # noqa: E402
                                    run_spec, shared_data, write_safetensors)

HIDDEN, N_LAYER, N_HEAD, VOCAB = 64, 2, 4, 260
MAX_SEQ = 64
CHAT_MAX_SEQ = 100
PACKED_SEQ = 256  # the packing case: up to three questions per row
# The chat case's template (Zephyr's, as TinyLlama-Chat ships it) and special tokens.
CHAT = {}
PAD_ID, EOS_ID, BYTE_OFFSET = 3, 2, 4
IGNORED = -100
STEPS = 3
LR = 0.5
SGD_BAR = 1e-6
LOSS_BAR = 1e-5
TYPES = ["description", "entity", "abbreviation", "human", "location", "number"]


def pick_rows():
    """Eight train and four validation prompt/completion rows from TREC, lengths mixed."""
    path = os.path.join(shared_data(), "trec", "train.csv")
    if os.path.exists(path):
        with open(path, newline="", encoding="utf-8") as f:
            rows = [(r["text"], int(r["label"])) for r in csv.DictReader(f)]
    else:
        print("note: %s is missing; using generated questions" % path)
        rows = [("What is the %s of thing %d%s ?" % (w, i, " and more" * (i % 5)), i % 6)
                for i, w in enumerate(["name", "size", "place", "time"] * 300)]
    out = [{"prompt": "Question: %s\nType:" % q, "completion": " " + TYPES[label]}
           for q, label in rows]
    # Prompts that fit (a row cut inside its prompt would be skipped), spread over the file.
    fitting = [r for r in out if len(r["prompt"].encode()) < MAX_SEQ - 2]
    out = [fitting[i * 97 + 5] for i in range(12)]
    whole = [len((r["prompt"] + r["completion"]).encode()) + 1 for r in out]
    prompts = [len(r["prompt"].encode()) for r in out]
    # Some rows are cut inside the completion, none inside the prompt (those would be skipped).
    assert any(p < MAX_SEQ < w for p, w in zip(prompts, whole)), (prompts, whole)
    return out[:8], out[8:]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def write_model_folder(folder, params):
    os.makedirs(folder)
    loaded = write_safetensors(os.path.join(folder, "model.safetensors"), params, "F32")
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump({"architectures": ["BloomForCausalLM"], "model_type": "bloom",
                   "vocab_size": VOCAB, "n_embed": HIDDEN, "n_layer": N_LAYER, "n_head": N_HEAD,
                   "layer_norm_epsilon": 1e-5, "bos_token_id": 1, "eos_token_id": EOS_ID,
                   "pad_token_id": PAD_ID}, f)
    return loaded


def render(messages, add_generation_prompt):
    """transformers' apply_chat_template(tokenize=False) with the case's template."""
    return CHAT["template"].render(messages=messages, tools=None, documents=None,
                                   add_generation_prompt=add_generation_prompt,
                                   **CHAT["special_tokens"])


def encode(row, max_seq):
    """TRL's preparation of a prompt/completion or chat row, with ft's byte tokenizer (one id per
    byte, so a byte offset is a token count)."""
    if "messages" in row:
        messages = row["messages"]
        ids = [BYTE_OFFSET + b for b in render(messages, False).encode("utf-8")]
        labels = [IGNORED] * len(ids)
        for k, message in enumerate(messages):
            if message["role"] == "assistant":
                begin = len(render(messages[:k], True).encode("utf-8"))
                end = len(render(messages[:k + 1], False).encode("utf-8"))
                labels[begin:end] = ids[begin:end]
    else:
        prompt = [BYTE_OFFSET + b for b in row["prompt"].encode("utf-8")]
        ids = [BYTE_OFFSET + b for b in (row["prompt"] + row["completion"]).encode("utf-8")]
        ids.append(EOS_ID)
        labels = [IGNORED] * len(prompt) + ids[len(prompt):]
    ids, labels = ids[:max_seq], labels[:max_seq]
    labels[0] = IGNORED
    return ids, labels


def collate(rows, max_seq):
    encoded = [encode(r, max_seq) for r in rows]
    longest = max(len(ids) for ids, _ in encoded)
    ids = torch.full((len(rows), longest), PAD_ID, dtype=torch.int64)
    mask = torch.zeros((len(rows), longest), dtype=torch.int64)
    labels = torch.full((len(rows), longest), IGNORED, dtype=torch.int64)
    for row, (seq, lab) in enumerate(encoded):
        ids[row, :len(seq)] = torch.tensor(seq)
        mask[row, :len(seq)] = 1
        labels[row, :len(lab)] = torch.tensor(lab)
    return ids, mask, labels


def token_losses(params, rows, max_seq):
    """Per-target-token cross-entropies of `rows` (one batch), in one flat tensor."""
    ids, mask, labels = collate(rows, max_seq)
    hidden = bloom_hidden(params, ids, mask, N_HEAD, N_LAYER)
    logits = hidden @ params["transformer.word_embeddings.weight"].T  # the tied LM head
    per_token = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB).float(),
                                labels[:, 1:].reshape(-1), ignore_index=IGNORED,
                                reduction="none")
    return per_token[labels[:, 1:].reshape(-1) != IGNORED]


def reference_train(start, rows, max_seq, variant):
    """Plain PyTorch SGD, one full batch of the window per step."""
    params = {n: t.clone().requires_grad_(True) for n, t in start.items()}
    opt = torch.optim.SGD(list(params.values()), lr=LR)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        if variant == "correct":
            objective = token_losses(params, rows, max_seq).mean()
            losses.append(objective.item())
        elif variant == "per-micro-batch token means":
            chunks = [rows[i:i + 2] for i in range(0, len(rows), 2)]
            objective = sum(token_losses(params, c, max_seq).mean() for c in chunks) / len(chunks)
            losses.append(token_losses(params, rows, max_seq).mean().item())
        else:
            raise ValueError(variant)
        objective.backward()
        opt.step()
    return {n: t.detach() for n, t in params.items()}, losses


def run_ftworker(binary, workdir, name, model, train, validation, micro, accumulation, max_seq,
                 packing=False, pipeline=None):
    spec = {"model": model, "task": "causal_lm",
            "dataset": {"train": train, "validation": validation},
            "micro_batch_size": micro, "accumulation_steps": accumulation, "epochs": STEPS,
            "learning_rate": LR, "optimizer": "sgd", "max_seq_length": max_seq, "seed": 1,
            "log_every_steps": 1, "lr_scheduler": "constant", "packing": packing}
    out, events = run_spec(binary, workdir, name, spec)
    if pipeline is not None:
        with open(os.path.join(out, "result.json")) as f:
            pipeline.update(json.load(f)["pipeline"])
    losses = {int(e["progress"]["step"]): e["progress"]["loss"] for e in events if "progress" in e}
    assert sorted(losses) == list(range(1, STEPS + 1)), losses
    params = {n: t.double() for n, t in
              load_safetensors(os.path.join(out, "model.safetensors")).items()}
    evaluations = [e["evaluation"] for e in events if "evaluation" in e]
    return params, [losses[s] for s in range(1, STEPS + 1)], evaluations


def chat_rows(rows):
    """The same questions as conversations: one or two question/answer pairs, some with a
    system turn, so that the targets are spread over several assistant turns."""
    out = []
    for i, row in enumerate(rows):
        messages = []
        if i % 3 == 0:
            messages.append({"role": "system", "content": "Name the answer's type."})
        question = row["prompt"][len("Question: "):-len("\nType:")]
        messages += [{"role": "user", "content": question},
                     {"role": "assistant", "content": row["completion"].strip()}]
        if i % 4 == 1:
            messages += [{"role": "user", "content": "And in one word?"},
                         {"role": "assistant", "content": row["completion"].split()[0][:4]}]
        out.append({"messages": messages})
    return out


def run_case(checks, binary, workdir, start, case, rows, validation, max_seq, model):
    """ftworker at 2x4 and 8x1 against the reference and against each other, and the reference
    that averages per micro-batch, which the bar must reject."""
    train = os.path.join(workdir, case + ".jsonl")
    write_jsonl(train, rows)
    targets = [sum(1 for x in encode(r, max_seq)[1] if x != IGNORED) for r in rows]
    # A row without a target (cut before its first assistant token) is skipped by ftworker and
    # adds nothing to the reference's full batch.
    kept = sum(1 for t in targets if t > 0)
    print("%s: %d rows with targets (windows of %s), SGD lr %g, %d steps:"
          % (case, kept, "2x4" if kept == 8 else "2+2+2+1", LR, STEPS))
    print("  target tokens per row: %s" % targets)
    reference, ref_losses = reference_train(start, rows, max_seq, "correct")
    ours = {}
    for micro, accumulation in ((2, 4), (8, 1)):
        name = "%s_%dx%d" % (case, micro, accumulation)
        ours[(micro, accumulation)], losses, evaluations = run_ftworker(
            binary, workdir, name, model, train, validation, micro, accumulation, max_seq)
        (diff, where), _ = parameter_difference(ours[(micro, accumulation)], reference, start)
        checks.check("%dx%d: parameters vs reference, max |d| / max |ref| (%s)"
                     % (micro, accumulation, where), diff, SGD_BAR, True)
        loss_diff = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
        checks.check("%dx%d: per-step token-mean losses %s" % (
            micro, accumulation, ", ".join("%.5f" % v for v in losses)), loss_diff, LOSS_BAR,
            True)
        if not evaluations or evaluations[-1].get("perplexity", 0) <= 1:
            checks.fail("%s: no validation evaluation with a perplexity" % name)
    (diff, where), _ = parameter_difference(
        ours[(2, 4)], {n: t.float() for n, t in ours[(8, 1)].items()}, start)
    checks.check("2x4 vs 8x1 ftworker, max |d| / max |8x1| (%s)" % where, diff, SGD_BAR, True)
    wrong, _ = reference_train(start, rows, max_seq, "per-micro-batch token means")
    (diff, where), _ = parameter_difference(ours[(2, 4)], wrong, start)
    checks.check("2x4 vs per-micro-batch-mean reference (%s)" % where, diff, SGD_BAR, False)


def run_packed_case(checks, binary, workdir, start, rows, validation, model):
    """packing: true at 2x4: the window's 8 questions laid end to end in rows of PACKED_SEQ
    tokens (up to three each, so 3 rows: micro-batches of 2 rows and 1), attention and ALiBi kept
    inside each question, must give the reference's parameters and losses as the unpacked run
    does. The token slots are printed, not checked: with micro-batches already sorted by length
    inside the window, rows of 256 save no padding on these questions."""
    train = os.path.join(workdir, "packed.jsonl")
    write_jsonl(train, rows)
    print("packing: rows of %d tokens, SGD lr %g, %d steps:" % (PACKED_SEQ, LR, STEPS))
    reference, ref_losses = reference_train(start, rows, PACKED_SEQ, "correct")
    for packing in (False, True):
        name = "packed" if packing else "unpacked"
        pipeline = {}
        params, losses, _ = run_ftworker(binary, workdir, name, model, train, validation, 2, 4,
                                         PACKED_SEQ, packing, pipeline)
        padding = pipeline["padding"]
        print("  %s: %d token slots for %d tokens (padding %.1f %%; without packing %d)"
              % (name, padding["slots"], padding["tokens"], 100 * padding["fraction"],
                 padding["unpacked_slots"]))
        (diff, where), _ = parameter_difference(params, reference, start)
        checks.check("%s 2x4: parameters vs reference (%s)" % (name, where), diff, SGD_BAR, True)
        loss_diff = max(abs(a - b) / abs(b) for a, b in zip(losses, ref_losses))
        checks.check("%s 2x4: per-step losses" % name, loss_diff, LOSS_BAR, True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    torch.set_num_threads(1)
    train_rows, validation_rows = pick_rows()
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures",
                           "chat_templates", "tinyllama_zephyr.jinja")) as f:
        template_source = f.read()
    special_tokens = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    CHAT["template"] = make_environment().from_string(template_source)
    CHAT["special_tokens"] = special_tokens
    checks = Checks()
    with tempfile.TemporaryDirectory() as workdir:
        params = random_model(11, 1)
        del params["score.weight"]
        model = os.path.join(workdir, "model")
        start = write_model_folder(model, params)
        with open(os.path.join(model, "tokenizer_config.json"), "w") as f:
            json.dump(dict(special_tokens, chat_template=template_source), f)
        validation = os.path.join(workdir, "validation.jsonl")
        write_jsonl(validation, validation_rows)
        run_case(checks, binary, workdir, start, "prompt_completion",
                 train_rows[:8], validation, MAX_SEQ, model)
        run_case(checks, binary, workdir, start, "prompt_completion_short_window",
                 train_rows[:7], validation, MAX_SEQ, model)
        # The chat rows run to ~110 bytes: CHAT_MAX_SEQ cuts some inside an assistant turn.
        run_case(checks, binary, workdir, start, "chat", chat_rows(train_rows[:8]), validation,
                 CHAT_MAX_SEQ, model)
        run_packed_case(checks, binary, workdir, start, train_rows[:8], validation, model)
    if checks.failures:
        print("FAILED: %s" % "; ".join(checks.failures))
        sys.exit(1)
    print("all causal-LM accumulation checks passed")


if __name__ == "__main__":
    main()
