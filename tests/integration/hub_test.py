#!/usr/bin/python3
"""Hub models and named datasets through the real ftworker against a local fake Hub
(tests/support/fake_hub.py) over real HTTP on loopback.

usage: hub_test.py FTWORKER REPO_ROOT
Checks: a job finetunes `org/name` downloaded into the Hub cache layout (a download cut mid-file
resumes with Range); a second job downloads nothing; offline works from the cache; a gated model
needs HF_TOKEN; a corrupted file is refused and not kept; a repository with only
pytorch_model.bin (written by torch.save here) downloads it and trains; `dataset.name: imdb`
fetches the archive, verifies it, and builds the seed's split (compared with an independent Python
reference: sorted names, numpy's RandomState(1) permutation, 70/10/20); a tarball that is not the
published one is refused.
"""
import csv
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

import numpy as np

FTWORKER, REPO = sys.argv[1], sys.argv[2]
BLOOM_FIXTURE = os.path.join(REPO, "tests", "fixtures", "hf", "models", "bloom")
FAKE_HUB = os.path.join(REPO, "tests", "support", "fake_hub.py")
IMDB_PATH = "/~amaas/data/sentiment/aclImdb_v1.tar.gz"
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


class FakeHub:
    def __init__(self, work, *extra):
        self.port_file = os.path.join(work, "port-%d" % time.monotonic_ns())
        self.log = os.path.join(work, "hub-log-%d.jsonl" % time.monotonic_ns())
        self.process = subprocess.Popen(["/usr/bin/python3", FAKE_HUB, "--port-file",
                                         self.port_file, "--log", self.log, *extra])
        deadline = time.monotonic() + 20
        while not os.path.exists(self.port_file):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("fake hub did not start")
            time.sleep(0.05)
        self.url = "http://127.0.0.1:" + open(self.port_file).read()

    def requests(self):
        return [json.loads(line) for line in open(self.log)] if os.path.exists(self.log) else []

    def stop(self):
        self.process.terminate()
        self.process.wait()


def tiny_csv(path, rows=24):
    rng = random.Random(3)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for i in range(rows):
            label = i % 3
            words = ["good", "bad", "so-so"][label]
            writer.writerow(["%s movie number %d %s" % (words, i, rng.random()), label])
    return path


def run_job(work, name, spec, env):
    spec_path = os.path.join(work, name + ".json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    out = os.path.join(work, name)
    run = subprocess.run([FTWORKER, "--spec", spec_path, "--out", out, "--threads", "1",
                          "--cache-dir", ""], env=env, capture_output=True, text=True,
                         timeout=100)
    return run, out


def base_spec(model, train):
    return {"model": model, "dataset": {"train": train}, "micro_batch_size": 4, "accumulation_steps": 1, "epochs": 1,
            "max_steps": 2, "learning_rate": 1e-3, "max_seq_length": 32, "seed": 1,
            "max_eval_examples": 8}


def hub_env(hub_url, cache, **more):
    env = dict(os.environ, HF_ENDPOINT=hub_url, HF_HUB_CACHE=cache, HF_HOME=cache + "-home")
    env.pop("HF_TOKEN", None)
    env.pop("HF_HUB_OFFLINE", None)
    env.update(more)
    return env


def test_hub_models(work):
    repo = os.path.join(work, "repo")
    shutil.copytree(BLOOM_FIXTURE, repo)
    os.remove(os.path.join(repo, "expected.json"))
    train = tiny_csv(os.path.join(work, "train.csv"))
    cache = os.path.join(work, "hub-cache")
    hub = FakeHub(work, "--repo", "acme/tiny-bloom=" + repo, "--cut-after", "20000")
    try:
        run, out = run_job(work, "first", base_spec("acme/tiny-bloom", train),
                           hub_env(hub.url, cache))
        check(run.returncode == 0, "a job finetunes a Hub model id (rc %d: %s)" % (
            run.returncode, run.stderr[-800:]))
        result = json.load(open(os.path.join(out, "result.json"))) if run.returncode == 0 else {}
        check(result.get("steps") == 2, "the Hub job ran its 2 steps")
        commit = hashlib.sha1(b"acme/tiny-bloom").hexdigest()
        folder = os.path.join(cache, "models--acme--tiny-bloom")
        check(open(os.path.join(folder, "refs", "main")).read() == commit,
              "refs/main holds the commit")
        snapshot = os.path.join(folder, "snapshots", commit)
        weights = os.path.join(snapshot, "model.safetensors")
        check(os.path.islink(weights) and
              os.readlink(weights).startswith("../../blobs/"), "snapshot links into blobs/")
        check(open(weights, "rb").read() == open(os.path.join(repo, "model.safetensors"),
                                                  "rb").read(), "the weights arrived intact")
        ranged = [r for r in hub.requests() if r["method"] == "GET" and r["range"]]
        check(any(r["status"] == 206 for r in ranged),
              "a download cut mid-file resumed with a Range request")
        downloads_before = sum(1 for r in hub.requests() if r["method"] == "GET"
                               and ("/resolve/" in r["path"] or r["path"].startswith("/lfs/")))
        run, _ = run_job(work, "second", base_spec("acme/tiny-bloom", train),
                         hub_env(hub.url, cache))
        downloads_after = sum(1 for r in hub.requests() if r["method"] == "GET"
                              and ("/resolve/" in r["path"] or r["path"].startswith("/lfs/")))
        check(run.returncode == 0 and downloads_after == downloads_before,
              "a second job downloads nothing (%d file GETs before, %d after)" % (
                  downloads_before, downloads_after))
    finally:
        hub.stop()
    run, _ = run_job(work, "offline", base_spec("acme/tiny-bloom", train),
                     hub_env("http://127.0.0.1:9", cache, HF_HUB_OFFLINE="1"))
    check(run.returncode == 0, "HF_HUB_OFFLINE=1 trains from the cache (%s)" % run.stderr[-300:])
    run, _ = run_job(work, "unreachable", base_spec("acme/tiny-bloom", train),
                     hub_env("http://127.0.0.1:9", cache))
    check(run.returncode == 0 and "cannot be reached" in run.stdout + run.stderr,
          "an unreachable Hub falls back to the cached snapshot with a warning")
    run, _ = run_job(work, "missing", base_spec("acme/other", train),
                     hub_env("http://127.0.0.1:9", cache, HF_HUB_OFFLINE="1"))
    check(run.returncode != 0 and "HF_HUB_OFFLINE" in run.stderr,
          "offline without a cached snapshot fails clearly: " + run.stderr.strip()[-200:])

    gated_cache = os.path.join(work, "gated-cache")
    hub = FakeHub(work, "--repo", "acme/gated=" + repo, "--token", "s3cret")
    try:
        run, _ = run_job(work, "no-token", base_spec("acme/gated", train),
                         hub_env(hub.url, gated_cache))
        check(run.returncode != 0 and "HF_TOKEN" in run.stderr,
              "a gated model without HF_TOKEN fails naming HF_TOKEN: " + run.stderr.strip()[-200:])
        run, _ = run_job(work, "token", base_spec("acme/gated", train),
                         hub_env(hub.url, gated_cache, HF_TOKEN="s3cret"))
        check(run.returncode == 0, "HF_TOKEN opens the gated model")
        check("s3cret" not in run.stdout + run.stderr, "the token is not logged")
    finally:
        hub.stop()

    bad_cache = os.path.join(work, "bad-cache")
    hub = FakeHub(work, "--repo", "acme/broken=" + repo, "--corrupt", "model.safetensors")
    try:
        run, _ = run_job(work, "corrupt", base_spec("acme/broken", train),
                         hub_env(hub.url, bad_cache))
        check(run.returncode != 0 and "corrupt" in run.stderr,
              "a corrupted download is refused: " + run.stderr.strip()[-200:])
        blobs = os.path.join(bad_cache, "models--acme--broken", "blobs")
        kept = [n for n in os.listdir(blobs) if len(n) == 64] if os.path.isdir(blobs) else []
        check(not kept, "and not kept in the cache")
    finally:
        hub.stop()


def fake_aclimdb(path, per_group=12):
    """A small archive with aclImdb's layout; returns {group: {name: text}}."""
    rng = random.Random(7)
    groups = {}
    with tarfile.open(path, "w:gz") as archive:
        for split in ("train", "test"):
            for label in ("pos", "neg", "unsup"):
                group = "aclImdb/%s/%s" % (split, label)
                if split == "test" and label == "unsup":
                    continue
                texts = {}
                for _ in range(per_group):
                    name = "%d_%d.txt" % (rng.randrange(100000), rng.randrange(1, 11))
                    text = "%s review %s, with a comma\r\nand \"quotes\" <br /> %d" % (
                        label, name, rng.randrange(10 ** 6))
                    texts[name] = text
                    data = text.encode()
                    info = tarfile.TarInfo(group + "/" + name)
                    info.size = len(data)
                    archive.addfile(info, io.BytesIO(data))
                groups[group] = texts
        readme = b"not a review"
        info = tarfile.TarInfo("aclImdb/README")
        info.size = len(readme)
        archive.addfile(info, io.BytesIO(readme))
    return groups


def reference_split(groups):
    """The seed's loader, independently: groups in its order, sorted names, pandas'
    sample(frac=1, random_state=1) == numpy RandomState(1).permutation."""
    rows = []
    for group, label in (("aclImdb/test/pos", 1), ("aclImdb/test/neg", 0),
                         ("aclImdb/train/pos", 1), ("aclImdb/train/neg", 0)):
        for name in sorted(groups[group]):
            rows.append((groups[group][name].replace("\r\n", "\n"), label))
    order = np.random.RandomState(1).permutation(len(rows))
    shuffled = [rows[i] for i in order]
    n_train, n_val = len(rows) * 7 // 10, len(rows) // 10
    return (shuffled[:n_train], shuffled[n_train:n_train + n_val], shuffled[n_train + n_val:])


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [(row[0], int(row[1])) for row in list(csv.reader(f))[1:]]


def test_named_dataset(work):
    archive = os.path.join(work, "aclImdb_v1.tar.gz")
    groups = fake_aclimdb(archive)
    data = open(archive, "rb").read()
    catalog = os.path.join(work, "catalog.json")
    with open(catalog, "w") as f:
        json.dump({"imdb": {"md5": hashlib.md5(data).hexdigest(),
                            "sha1": hashlib.sha1(data).hexdigest()}}, f)
    hub = FakeHub(work, "--static", IMDB_PATH + "=" + archive, "--cut-after", "700")
    datasets = os.path.join(work, "datasets")
    try:
        spec = base_spec("scratch:bloom-tiny", "")
        spec["dataset"] = {"name": "imdb"}
        env = dict(os.environ, FT_DATASETS_ENDPOINT=hub.url, FT_DATASETS_CACHE=datasets,
                   FT_DATASETS_CATALOG=catalog)
        run, out = run_job(work, "imdb", spec, env)
        check(run.returncode == 0, "dataset.name imdb: fetched and trained (%s)" %
              run.stderr[-500:])
        expected = reference_split(groups)
        for name, rows in zip(("train.csv", "val.csv", "test.csv"), expected):
            got = read_rows(os.path.join(datasets, "imdb", name))
            check(got == rows, "%s equals the seed's split (%d rows)" % (name, len(rows)))
        check(any(r["status"] == 206 for r in hub.requests()), "the archive download resumed")
        before = len(hub.requests())
        run, _ = run_job(work, "imdb-again", spec, env)
        check(run.returncode == 0 and len(hub.requests()) == before,
              "a second job reuses the built splits without any request")
        # The built-in catalogue's checksums: this archive is not Stanford's.
        shutil.rmtree(datasets)
        env.pop("FT_DATASETS_CATALOG")
        run, _ = run_job(work, "imdb-wrong", spec, env)
        check(run.returncode != 0 and "not the published archive" in run.stderr,
              "an archive that is not the published one is refused: " +
              run.stderr.strip()[-240:])
        check(not os.path.exists(os.path.join(datasets, "imdb", "aclImdb_v1.tar.gz")),
              "and not kept")
    finally:
        hub.stop()
    shared = os.environ.get("FT_SHARED_DATA")
    if shared and os.path.isdir(os.path.join(shared, "imdb")):
        prefilled = os.path.join(work, "prefilled")
        os.makedirs(os.path.join(prefilled, "imdb"))
        for name in ("train.csv", "val.csv", "test.csv"):
            os.symlink(os.path.join(shared, "imdb", name), os.path.join(prefilled, "imdb", name))
        env = dict(os.environ, FT_DATASETS_CACHE=prefilled, FT_OFFLINE="1")
        run, out = run_job(work, "imdb-prefilled", spec, env)
        result = json.load(open(os.path.join(out, "result.json"))) if run.returncode == 0 else {}
        check(run.returncode == 0 and "imdb" in json.dumps(result),
              "a cache pre-filled with ../shared/data/imdb works offline")


def test_hub_bin_model(work):
    """A repository with pytorch_model.bin and no safetensors: the .bin is downloaded and trains."""
    try:
        import torch
    except ImportError:
        print("skip a pytorch_model.bin repository: /usr/bin/python3 has no torch")
        return
    repo = os.path.join(work, "bin-repo")
    os.makedirs(repo)
    shutil.copy(os.path.join(BLOOM_FIXTURE, "config.json"), repo)
    with open(os.path.join(BLOOM_FIXTURE, "model.safetensors"), "rb") as f:
        data = f.read()
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    state = {name: torch.frombuffer(bytearray(body[info["data_offsets"][0]:
                                                   info["data_offsets"][1]]),
                                    dtype=torch.float32).reshape(info["shape"])
             for name, info in header.items() if name != "__metadata__"}
    torch.save(state, os.path.join(repo, "pytorch_model.bin"))
    cache = os.path.join(work, "bin-cache")
    hub = FakeHub(work, "--repo", "acme/tiny-bloom-bin=" + repo)
    try:
        run, out = run_job(work, "bin", base_spec("acme/tiny-bloom-bin", tiny_csv(
            os.path.join(work, "bin-train.csv"))), hub_env(hub.url, cache))
        check(run.returncode == 0, "a Hub repository with only pytorch_model.bin trains (rc %d: %s)"
              % (run.returncode, run.stderr[-800:]))
        snapshot = os.path.join(cache, "models--acme--tiny-bloom-bin", "snapshots",
                                hashlib.sha1(b"acme/tiny-bloom-bin").hexdigest())
        check(os.path.exists(os.path.join(snapshot, "pytorch_model.bin")),
              "pytorch_model.bin is in the snapshot")
        check("pytorch_model.bin" in run.stdout + run.stderr,
              "the job says it loaded pytorch_model.bin")
    finally:
        hub.stop()


def main():
    with tempfile.TemporaryDirectory(prefix="ftd-hub-test-") as work:
        test_hub_models(work)
        test_hub_bin_model(work)
        test_named_dataset(work)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
