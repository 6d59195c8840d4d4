#!/usr/bin/env python3
"""Tokenization throughput: ours (common/tokenize, build/bin/tokenize_texts) against Hugging
Face's JavaScript tokenizers (@huggingface/tokenizers under build-deps/node_modules, run by node),
on the same texts and tokenizer.json in the same run.

Texts: tests/fixtures/hf/tokenizers/texts.jsonl.gz (9,390 real texts of ../shared/data: IMDB,
SST-2, AG News, SMS, rt-polarity, TREC). Each side encodes them all --repeats times in one
process (tokenizer loaded once, special tokens added, no truncation) and reports the best
encoding loop; the ids of both sides are compared too. Prints texts/s, MB/s and the ratio.
"""
import argparse
import gzip
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_common  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokenize-texts", default=os.path.join(ROOT, "build/bin/tokenize_texts"))
    parser.add_argument("--node", default="node")
    parser.add_argument("--node-modules", default=os.path.join(ROOT, "build-deps/node_modules"))
    parser.add_argument("--shared-data", default=os.path.join(ROOT, "../shared/data"))
    parser.add_argument("--tokenizers", default="gpt2,all-MiniLM-L6-v2")
    parser.add_argument("--repeats", type=int, default=3)
    bench_common.add_quiet_arguments(parser)
    args = parser.parse_args()

    bench_common.print_header("tokenizer throughput: common/tokenize vs @huggingface/tokenizers")
    bench_common.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    env = dict(os.environ)
    rows = []
    with tempfile.TemporaryDirectory(prefix="ft_tok_bench_") as workdir:
        texts_path = os.path.join(workdir, "texts.jsonl")
        with gzip.open(os.path.join(ROOT, "tests/fixtures/hf/tokenizers/texts.jsonl.gz")) as f:
            data = f.read()
        with open(texts_path, "wb") as f:
            f.write(data)
        for name in args.tokenizers.split(","):
            tokenizer = os.path.join(args.shared_data, "tokenizers", name, "tokenizer.json")
            sides = {
                "ours": [args.tokenize_texts, tokenizer, texts_path,
                         os.path.join(workdir, "ours.jsonl"), "--repeat", str(args.repeats)],
                "js": [args.node, os.path.join(ROOT, "tests/tokenize/hf_js_encode.mjs"),
                       args.node_modules, tokenizer, texts_path,
                       os.path.join(workdir, "js.jsonl"), "--repeat", str(args.repeats)],
            }
            result = {}
            for side, command in sides.items():
                bench_common.wait_for_idle_cpus(args.max_busy, deadline)
                run = bench_common.check_child(bench_common.run_child(command, env, workdir),
                                               side)
                figures = json.loads(run.stdout.strip().splitlines()[-1])
                figures["process_cpu"] = run.user + run.system
                result[side] = figures
            with open(os.path.join(workdir, "ours.jsonl")) as a, \
                    open(os.path.join(workdir, "js.jsonl")) as b:
                same = sum(1 for x, y in zip(a, b) if json.loads(x) == json.loads(y))
            rows.append((name, result, same))

    print("\n| tokenizer | side | texts | MB | best encode loop (s) | its CPU (s) | texts/s | MB/s | "
          "whole process CPU (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, result, same in rows:
        for side in ("ours", "js"):
            r = result[side]
            mb = r["bytes"] / 1e6
            print("| %s | %s | %d | %.2f | %.3f | %.3f | %.0f | %.2f | %.2f |" %
                  (name, side, r["texts"], mb, r["seconds"], r["cpu_seconds"],
                   r["texts"] / r["seconds"], mb / r["seconds"], r["process_cpu"]))
    print("\n| tokenizer | ours / js (throughput, wall) | same, CPU time | identical ids |")
    print("|---|---|---|---|")
    for name, result, same in rows:
        print("| %s | **%.1fx** | %.1fx | %d of %d |" % (
            name, result["js"]["seconds"] / result["ours"]["seconds"],
            result["js"]["cpu_seconds"] / result["ours"]["cpu_seconds"], same,
            result["ours"]["texts"]))


if __name__ == "__main__":
    main()
