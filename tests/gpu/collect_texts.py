#!/usr/bin/python3
"""Collects a deterministic sample of real texts from ../shared/data (plus hand-written edge
cases) as JSON lines, for tokenizer references computed elsewhere (tests/gpu/hf_reference.py).

usage: collect_texts.py DATA_DIR OUT.jsonl [PER_DATASET]
"""
import csv
import json
import random
import sys


def rows(path, delimiter=",", text_columns=(1,), skip_header=False):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.reader(f, delimiter=delimiter, quotechar=None if delimiter == "\t" else '"')
        for index, row in enumerate(reader):
            if skip_header and index == 0:
                continue
            yield " ".join(row[c] for c in text_columns if c < len(row))


EDGE_CASES = [
    "", " ", "   leading and trailing   ", "tab\there\tand\nnewline\r\nend",
    "I loved it!!! <br /><br />Best film   ever.", "naïve café résumé Ångström",
    "日本語のテキストと中文字符", "emoji 😀👍🏽 family 👨‍👩‍👧", "control \x01\x02\x7f chars",
    "zero\u200bwidth and nbsp\u00a0here", "combining e\u0301 vs \u00e9", "ﬁ ligature ＦＵＬＬ width",
    "don't can't I'm we'll they've", "   \n\n  ", "a" * 500, "x " * 300,
    "&amp; &lt;b&gt; #36;10 &quot;quoted&quot;", "UPPER lower MiXeD 123 4567 3.14",
]


def main():
    data, out = sys.argv[1], sys.argv[2]
    per_dataset = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    sources = {
        "imdb": list(rows(data + "/imdb/test.csv", skip_header=True, text_columns=(0,))),
        "sst2": list(rows(data + "/sst2/dev.tsv", "\t", (0,), True)),
        "ag_news": list(rows(data + "/ag_news/test.csv", text_columns=(1, 2))),
        "sms_spam": list(rows(data + "/sms_spam/sms_spam.csv", skip_header=True, text_columns=(0,))),
        "rt_polarity": list(rows(data + "/rt-polarity/rt-polarity.csv", skip_header=True,
                                 text_columns=(0,))),
        "trec": list(rows(data + "/trec/test.csv", skip_header=True, text_columns=(0,))),
    }
    rng = random.Random(20261126)
    with open(out, "w", encoding="utf-8") as f:
        for name, texts in sources.items():
            for text in rng.sample(texts, min(per_dataset, len(texts))):
                f.write(json.dumps({"source": name, "text": text}) + "\n")
        for text in EDGE_CASES:
            f.write(json.dumps({"source": "edge", "text": text}) + "\n")


if __name__ == "__main__":
    main()
