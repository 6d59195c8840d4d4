#!/usr/bin/env python3
"""Tokenization throughput: ours (common/tokenize, build/bin/tokenize_texts) against Hugging
Face's Rust library, the reference (npm `tokenizers` under build-deps/node_modules, its native
bindings run by node, on one thread: RAYON_NUM_THREADS=1 for its encodeBatch), and against Hugging
Face's JavaScript tokenizers (@huggingface/tokenizers, same folder), on the same texts and
tokenizer.json in the same run.

Texts: tests/fixtures/hf/tokenizers/texts.jsonl.gz (9,390 real texts of ../shared/data: IMDB,
SST-2, AG News, SMS, rt-polarity, TREC). Each side encodes them all --repeats times in one
process (tokenizer loaded once, special tokens added, no truncation) and reports its best
encoding loop; --rounds such processes per side, the sides alternated (their order rotates each
round), give the best and the median. The ids of the three sides are compared too. Prints texts/s,
MB/s and the ratios to the Rust library.
"""
import argparse
import gzip
import json
import os
import statistics
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
    parser.add_argument("--rounds", type=int, default=5)
    bench_common.add_quiet_arguments(parser)
    args = parser.parse_args()

    bench_common.print_header("tokenizer throughput: common/tokenize vs the Rust tokenizers "
                              "(1 thread) and @huggingface/tokenizers")
    bench_common.wait_until_quiet(args.max_load, args.max_wait)
    deadline = time.monotonic() + args.max_wait
    env = dict(os.environ, RAYON_NUM_THREADS="1")
    sides = ("ours", "rust", "js")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ft_tok_bench_") as workdir:
        texts_path = os.path.join(workdir, "texts.jsonl")
        with gzip.open(os.path.join(ROOT, "tests/fixtures/hf/tokenizers/texts.jsonl.gz")) as f:
            data = f.read()
        with open(texts_path, "wb") as f:
            f.write(data)
        encode_script = os.path.join(ROOT, "tests/tokenize/hf_js_encode.mjs")
        for name in args.tokenizers.split(","):
            tokenizer = os.path.join(args.shared_data, "tokenizers", name, "tokenizer.json")
            out = {side: os.path.join(workdir, side + ".jsonl") for side in sides}
            repeat = ["--repeat", str(args.repeats)]
            commands = {
                "ours": [args.tokenize_texts, tokenizer, texts_path, out["ours"]] + repeat,
                "rust": [args.node, encode_script, args.node_modules, tokenizer, texts_path,
                         out["rust"], "--rust"] + repeat,
                "js": [args.node, encode_script, args.node_modules, tokenizer, texts_path,
                       out["js"]] + repeat,
            }
            runs = {side: [] for side in sides}
            for round_index in range(args.rounds):
                order = sides[round_index % 3:] + sides[:round_index % 3]
                for side in order:
                    bench_common.wait_for_idle_cpus(args.max_busy, deadline)
                    run = bench_common.check_child(
                        bench_common.run_child(commands[side], env, workdir), side)
                    figures = json.loads(run.stdout.strip().splitlines()[-1])
                    figures["process_cpu"] = run.user + run.system
                    runs[side].append(figures)
            ids = {}
            for side in sides:
                with open(out[side]) as f:
                    ids[side] = [json.loads(line) for line in f]
            same = {side: sum(1 for x, y in zip(ids[side], ids["rust"]) if x == y)
                    for side in ("ours", "js")}
            rows.append((name, runs, same))

    print("\n| tokenizer | side | texts | MB | encode loop best / median (s) | its CPU, best (s) | "
          "texts/s (best) | MB/s (best) | whole process CPU, median (s) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, runs, same in rows:
        for side in sides:
            seconds = sorted(r["seconds"] for r in runs[side])
            r = runs[side][0]
            mb = r["bytes"] / 1e6
            print("| %s | %s | %d | %.2f | %.3f / %.3f | %.3f | %.0f | %.2f | %.2f |" % (
                name, side, r["texts"], mb, seconds[0], statistics.median(seconds),
                min(x["cpu_seconds"] for x in runs[side]), r["texts"] / seconds[0],
                mb / seconds[0], statistics.median(x["process_cpu"] for x in runs[side])))
    print("\n| tokenizer | ours / rust (throughput, best) | median | js / rust (best) | "
          "ids identical to rust: ours, js |")
    print("|---|---|---|---|---|")
    for name, runs, same in rows:
        best = {side: min(r["seconds"] for r in runs[side]) for side in sides}
        median = {side: statistics.median(r["seconds"] for r in runs[side]) for side in sides}
        texts = runs["ours"][0]["texts"]
        print("| %s | **%.2fx** | %.2fx | %.2fx | %d, %d of %d |" % (
            name, best["rust"] / best["ours"], median["rust"] / median["ours"],
            best["rust"] / best["js"], same["ours"], same["js"], texts))


if __name__ == "__main__":
    main()
