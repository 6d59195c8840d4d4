#!/usr/bin/python3
"""End to end (issue 18, artifacts): a real job on the real ftd with a real ftworker, then
`ftctl artifacts`, `ftctl checkpoints` and `ftctl download`. The downloaded folder must equal
ftd's model folder byte for byte, read as safetensors + config.json by PyTorch, and train again
when a new job names it as its model (the worker's own loader); a cut-off download resumes and a
corrupted one is refused."""
import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = os.environ.get("FT_BIN_DIR", "build/bin")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module  # noqa: E402

torch = require_module("torch", "python3-torch")
require_module("grpc", "python3-grpcio")
sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(os.environ.get("FT_SOURCE_DIR", "."), "client", "python"))

import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ftd_harness import kill_group, start_ftd  # noqa: E402
import safetensors_file  # noqa: E402



def read_safetensors(path):
    return safetensors_file.read_safetensors(path, torch)


def toy_csv(path):
    with open(path, "w") as f:
        f.write("text,label\n")
        for i in range(160):
            f.write("{} movie number {},{}\n".format("great" if i % 2 else "awful", i, i % 2))


class ArtifactsEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ft-artifacts-e2e-")
        cls.log = open(os.path.join(cls.tmp, "ftd.log"), "w")
        cls.ftd, port, _ = start_ftd(cls.tmp, cls.log, ["--keep-checkpoints"])
        cls.server = "127.0.0.1:{}".format(port)
        cls.csv = os.path.join(cls.tmp, "toy.csv")
        toy_csv(cls.csv)

    @classmethod
    def tearDownClass(cls):
        kill_group(cls.ftd)
        cls.log.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def ftctl(self, *args, expect=0):
        result = subprocess.run([os.path.join(BIN, "ftctl"), "--server", self.server, *args],
                                capture_output=True, text=True, timeout=100)
        if expect is not None:
            self.assertEqual(result.returncode, expect, result.stdout + result.stderr)
        return result

    def run_job(self, model, *extra):
        job_id = self.ftctl("submit", "--model", model, "--train", self.csv,
                            "--micro-batch-size", "8", "--accumulation-steps", "2",
                            "--max-seq-length", "32", *extra).stdout.strip()
        self.ftctl("wait", job_id)  # exit 0: SUCCEEDED
        return job_id

    def test_download_the_model_and_a_checkpoint(self):
        job_id = self.run_job("scratch:bloom-tiny", "--max-steps", "6",
                              "--checkpoint-every-steps", "3")
        folder = os.path.join(self.tmp, "home", "jobs", job_id)

        listed = json.loads(self.ftctl("artifacts", job_id, "-o", "json").stdout)["artifacts"]
        names = {a["name"]: a for a in listed}
        for name in ("config.json", "model.safetensors", "result.json"):
            self.assertIn(name, names)
            self.assertEqual(int(names[name]["size_bytes"]),
                             os.path.getsize(os.path.join(folder, name)))
        checkpoints = self.ftctl("checkpoints", job_id).stdout
        self.assertIn("step-00000006", checkpoints)

        out = os.path.join(self.tmp, "downloaded")
        shown = self.ftctl("download", job_id, "--out", out).stdout.strip()
        self.assertEqual(shown, out)
        model_files = sorted(a["name"] for a in listed if a["kind"] == "ARTIFACT_MODEL")
        self.assertIn("tokenizer.json", model_files)
        self.assertEqual(sorted(os.listdir(out)), model_files)
        for name in model_files:
            self.assertTrue(filecmp.cmp(os.path.join(folder, name),
                                        os.path.join(out, name), shallow=False), name)

        # Loads as Hugging Face's layout: config.json and safetensors whose shapes match it.
        with open(os.path.join(out, "config.json")) as f:
            config = json.load(f)
        tensors = read_safetensors(os.path.join(out, "model.safetensors"))
        embeddings = [t for n, t in tensors.items() if n.endswith("word_embeddings.weight")]
        self.assertEqual(len(embeddings), 1, sorted(tensors))
        self.assertEqual(list(embeddings[0].shape), [config["vocab_size"], config["hidden_size"]])
        self.assertTrue(all(torch.isfinite(t.float()).all() for t in tensors.values()))

        # The worker's own loader: a new job starts from the downloaded folder.
        self.run_job(out, "--max-steps", "1")

        # A cut-off download resumes from its .part; a .part with wrong bytes is refused.
        weights = os.path.join(out, "model.safetensors")
        with open(weights, "rb") as f:
            original = f.read()
        os.remove(weights)
        with open(weights + ".part", "wb") as f:
            f.write(original[:len(original) // 2])
        self.ftctl("download", job_id, "--out", out)
        with open(weights, "rb") as f:
            self.assertEqual(f.read(), original)
        os.remove(weights)
        with open(weights + ".part", "wb") as f:
            f.write(bytes(len(original) // 2))
        refused = self.ftctl("download", job_id, "--out", out, expect=1)
        self.assertIn("SHA-256", refused.stderr)
        self.assertFalse(os.path.exists(weights + ".part"))

        checkpoint_out = os.path.join(self.tmp, "checkpoint")
        self.ftctl("download", job_id, "--checkpoint", "latest", "--out", checkpoint_out)
        source = os.path.join(folder, "checkpoints", "step-00000006")
        for name in os.listdir(source):
            self.assertTrue(filecmp.cmp(os.path.join(source, name),
                                        os.path.join(checkpoint_out, name), shallow=False), name)

        missing = self.ftctl("download", job_id, "--checkpoint", "step-99", expect=3)
        self.assertIn("step-99", missing.stderr)

        # The Python client: the same bytes, resumed from a .part.
        stub = service_grpc.FinetuneServiceStub(ft_client.connect(self.server))
        listed = {a.name: a for a in ft_client.list_artifacts(stub, job_id)}
        target = os.path.join(self.tmp, "python-model.safetensors")
        with open(target + ".part", "wb") as f:
            f.write(original[:1000])
        ft_client.download_artifact(stub, job_id, listed["model.safetensors"], target)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), original)


if __name__ == "__main__":
    unittest.main(verbosity=2)
