#!/usr/bin/env python3
"""What training with the model's dropout costs ftworker on this CPU.

Usage: dropout_cost.py [--ftworker build/bin/ftworker] [--repeats 3] [--steps 40]

A DistilBERT-shaped classifier (MiniLM's width: dim 384, 6 layers, 6 heads, feed-forward 1536,
vocabulary 4,000; random weights written here, config.json at DistilBERT's dropout 0.1 /
attention 0.1 / classifier 0.2) trains on SST-2 sentences at 64 tokens, 16 x 1, AdamW, twice per
repeat: with `"model_dropout": "config"` (transformers' dropout, which also takes the attention
off the fused CPU kernel) and with `"off"`, sides alternated, the same threads and environment.
Reports the step time (result.json's train_seconds) of each side, best and median, and their
ratio. Not a comparison with a baseline: the cost of one setting.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "unit", "worker"))
import bench_common  # noqa: E402

DIM, LAYERS, HEADS, FEED_FORWARD, VOCAB, POSITIONS = 384, 6, 6, 1536, 4000, 512


def write_model(folder):
    import torch
    from accumulation_reference import write_safetensors

    os.makedirs(folder)
    torch.manual_seed(0)
    tensors = {}

    def linear(name, out, inp):
        tensors[name + ".weight"] = torch.randn(out, inp) * 0.02
        tensors[name + ".bias"] = torch.zeros(out)

    def norm(name):
        tensors[name + ".weight"] = torch.ones(DIM)
        tensors[name + ".bias"] = torch.zeros(DIM)

    e = "distilbert.embeddings."
    tensors[e + "word_embeddings.weight"] = torch.randn(VOCAB, DIM) * 0.02
    tensors[e + "position_embeddings.weight"] = torch.randn(POSITIONS, DIM) * 0.02
    norm(e + "LayerNorm")
    for layer in range(LAYERS):
        p = "distilbert.transformer.layer.%d." % layer
        for name in ("q_lin", "k_lin", "v_lin", "out_lin"):
            linear(p + "attention." + name, DIM, DIM)
        linear(p + "ffn.lin1", FEED_FORWARD, DIM)
        linear(p + "ffn.lin2", DIM, FEED_FORWARD)
        norm(p + "sa_layer_norm")
        norm(p + "output_layer_norm")
    linear("pre_classifier", DIM, DIM)
    linear("classifier", 2, DIM)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors, "F32")
    config = {"model_type": "distilbert", "architectures": ["DistilBertForSequenceClassification"],
              "dim": DIM, "n_layers": LAYERS, "n_heads": HEADS, "hidden_dim": FEED_FORWARD,
              "vocab_size": VOCAB, "max_position_embeddings": POSITIONS, "activation": "gelu",
              "dropout": 0.1, "attention_dropout": 0.1, "seq_classif_dropout": 0.2,
              "pad_token_id": 0, "id2label": {"0": "negative", "1": "positive"},
              "label2id": {"negative": 0, "positive": 1}}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench_common.add_job_arguments(parser)
    bench_common.add_quiet_arguments(parser)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--examples", type=int, default=2000)
    args = parser.parse_args()
    bench_common.check_ftworker(args.ftworker)
    sst2 = os.path.join(bench_common.SHARED_DATA, "sst2", "train.tsv")
    bench_common.check_data(sst2)
    bench_common.print_header("dropout_cost: model_dropout config vs off, DistilBERT-shaped")
    bench_common.wait_until_quiet(args.max_load, args.max_wait)

    work = tempfile.mkdtemp(prefix="dropout_cost_")
    model = os.path.join(work, "model")
    write_model(model)
    train = os.path.join(work, "train.tsv")
    with open(sst2) as source, open(train, "w") as target:
        for index, line in enumerate(source):
            if index > args.examples:
                break
            target.write(line)
    env = bench_common.ftworker_env()
    seconds = {"config": [], "off": []}
    for repeat in range(args.repeats):
        for side in ("config", "off") if repeat % 2 == 0 else ("off", "config"):
            bench_common.wait_for_idle_cpus(args.max_busy, args.max_wait)
            spec = {"model": model,
                    "dataset": {"train": train, "format": "tsv", "text_column": "sentence",
                                "label_column": "label", "validation_fraction": 0.05},
                    "micro_batch_size": 16, "accumulation_steps": 1, "epochs": 1,
                    "max_steps": args.steps, "max_seq_length": 64, "learning_rate": 1e-4,
                    "lr_scheduler": "constant", "max_eval_examples": 64, "seed": 1,
                    "model_dropout": side}
            spec = bench_common.merge_spec(spec, bench_common.parse_extra_spec(args.extra_spec))
            workdir = os.path.join(work, "%s_%d" % (side, repeat))
            os.makedirs(workdir)
            _, result, _ = bench_common.run_ftworker(args.ftworker, spec, args.threads, workdir,
                                                     env)
            seconds[side].append(result["timing"]["train_seconds"])
            print("repeat %d %-6s step time %.2f s" % (repeat, side, seconds[side][-1]),
                  flush=True)
    best = {side: min(values) for side, values in seconds.items()}
    median = {side: statistics.median(values) for side, values in seconds.items()}
    print("\n| model_dropout | step s best | step s median | all runs |")
    print("|---|---|---|---|")
    for side in ("config", "off"):
        print("| %s | %.2f | %.2f | %s |" % (side, best[side], median[side],
                                             " / ".join("%.2f" % v for v in seconds[side])))
    print("\ndropout's cost (config / off): %.2fx best, %.2fx median" %
          (best["config"] / best["off"], median["config"] / median["off"]))


if __name__ == "__main__":
    main()
