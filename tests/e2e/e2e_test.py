#!/usr/bin/python3
"""End to end: the real ftd with a real ftworker, driven by ftctl and by a Python grpcio client,
scraped over HTTP."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request

BIN = os.environ.get("FT_BIN_DIR", "build/bin")
SRC = os.environ.get("FT_SOURCE_DIR", ".")
DATA = os.environ.get("FT_SHARED_DATA", "../shared/data")
sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(SRC, "client", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module  # noqa: E402

require_module("grpc", "python3-grpcio")

import grpc  # noqa: E402
import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ft.v1 import job_pb2  # noqa: E402
from ftd_harness import kill_group, start_ftd  # noqa: E402


def training_csv(tmp):
    """Real data when ../shared/data is here (SMS spam), else a generated toy set."""
    real = os.path.join(DATA, "sms_spam", "sms_spam.csv")
    if os.path.exists(real):
        return real, True
    path = os.path.join(tmp, "toy.csv")
    with open(path, "w") as f:
        f.write("text,label\n")
        for i in range(200):
            f.write("{} movie number {},{}\n".format("great" if i % 2 else "awful", i, i % 2))
    return path, False


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ft-e2e-")
        cls.home = os.path.join(cls.tmp, "home")
        cls.log = open(os.path.join(cls.tmp, "ftd.log"), "w")
        cls.ftd, cls.port, cls.metrics_port = start_ftd(
            cls.tmp, cls.log, ["--metrics-grace-seconds", "300"]
            + (["--data-root", DATA] if os.path.isdir(DATA) else []))
        cls.server = "127.0.0.1:{}".format(cls.port)
        cls.csv, cls.real_data = training_csv(cls.tmp)
        cls.prometheus = None

    @classmethod
    def tearDownClass(cls):
        for proc in (cls.prometheus, cls.ftd):
            kill_group(proc)
        cls.log.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def ftctl(self, *args, check=True):
        result = subprocess.run([os.path.join(BIN, "ftctl"), "--server", self.server, *args],
                                capture_output=True, text=True, timeout=100)
        if check:
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def test_1_ftctl_submit_watch_get_list(self):
        if not self.real_data:
            print("note: ../shared/data absent; ftctl runs on a generated toy CSV")
        result = self.ftctl("submit", "--model", "scratch:bloom-tiny", "--train", self.csv,
                            "--micro-batch-size", "8", "--accumulation-steps", "2",
                            "--epochs", "1", "--max-steps", "12", "--max-seq-length", "96",
                            "--log-every-steps", "3", "--eval-every-steps", "6",
                            "--max-eval-examples", "200", "--lr-scheduler", "cosine",
                            "--label-smoothing", "0.05", "--early-stopping-patience", "5",
                            "--keep-best-model", "--watch")
        job_id = result.stdout.splitlines()[0].strip()
        self.assertTrue(job_id.startswith("job-"), result.stdout)
        self.assertIn("SUCCEEDED", result.stdout)
        self.assertIn("step 12/12", result.stdout)
        job = json.loads(self.ftctl("get", job_id, "-o", "json").stdout)
        self.assertEqual(job["state"], "SUCCEEDED")
        self.assertEqual(job["spec"]["micro_batch_size"], 8)
        self.assertEqual(job["spec"]["lr_scheduler"], "cosine")
        self.assertEqual(job["spec"]["early_stopping_metric"], "accuracy")
        self.assertTrue(job["spec"]["keep_best_model"])
        # Per-class metrics reach the stored job, the watch lines and `ftctl get`.
        self.assertIn("macro-F1", result.stdout)
        validation = [e for e in job["evaluations"] if e["split"] == "validation"][0]
        self.assertEqual(len(validation["classes"]), 2)
        self.assertEqual(len(validation["confusion"]), 4)
        self.assertEqual(sum(int(c) for c in validation["confusion"]),
                         int(validation["examples"]))
        shown = self.ftctl("get", job_id).stdout
        self.assertIn("Per class", shown)
        self.assertIn("Confusion", shown)
        listed = self.ftctl("list").stdout
        self.assertIn(job_id, listed)
        # An invalid submit exits non-zero with the field named, and costs nothing else.
        bad = self.ftctl("submit", "--model", "scratch:bloom-tiny", "--train", self.csv,
                         "--micro-batch-size", "0", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("micro_batch_size", bad.stderr)

    def test_2_python_grpc_client_submits_and_watches(self):
        with grpc.insecure_channel(self.server) as channel:
            stub = service_grpc.FinetuneServiceStub(channel)
            spec = job_pb2.JobSpec(
                model="scratch:bloom-tiny", dataset=job_pb2.DatasetSpec(train=self.csv),
                micro_batch_size=4, accumulation_steps=2, epochs=1, max_steps=5,
                max_seq_length=64, log_every_steps=1, max_eval_examples=100)
            job = ft_client.submit(stub, spec, request_id="py-e2e-1")
            again = ft_client.submit(stub, spec, request_id="py-e2e-1")
            self.assertEqual(job.id, again.id)
            events = list(ft_client.watch(stub, job.id))
            self.assertEqual([e.seq for e in events], list(range(1, len(events) + 1)))
            self.assertEqual(events[-1].state_change.to, job_pb2.SUCCEEDED)
            self.assertEqual(sum(1 for e in events if e.WhichOneof("kind") == "progress"), 5)
            # The example client script runs too.
            env = dict(os.environ, PYTHONPATH=os.environ.get("FT_PY_STUBS", ""))
            run = subprocess.run(
                ["/usr/bin/python3", os.path.join(SRC, "client", "python", "ft_client.py"),
                 "--server", self.server, "--train", self.csv, "--max-steps", "3"],
                capture_output=True, text=True, timeout=100, env=env)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("final state SUCCEEDED", run.stdout)
            self.assertIn("[####################] 100% step 3/3", run.stdout)

    def test_4_python_client_cancels_and_checks_health(self):
        env = dict(os.environ, PYTHONPATH=os.environ.get("FT_PY_STUBS", ""))
        script = os.path.join(SRC, "client", "python", "ft_client.py")

        def client(*args):
            return subprocess.run(["/usr/bin/python3", script, "--server", self.server, *args],
                                  capture_output=True, text=True, timeout=100, env=env)

        health = client("--health")
        self.assertEqual(health.returncode, 0, health.stdout + health.stderr)
        self.assertEqual(health.stdout.strip(), "SERVING")
        # Submit a long job, follow it, cancel it once 2 steps are done: exit 4, CANCELLED.
        run = client("--train", self.csv, "--max-steps", "500", "--log-every-steps", "1",
                     "--micro-batch-size", "4", "--cancel-after-steps", "2")
        self.assertEqual(run.returncode, 4, run.stdout + run.stderr)
        self.assertIn("cancel requested", run.stdout)
        self.assertIn("final state CANCELLED", run.stdout)
        self.assertRegex(run.stdout, r"\[#*\.+\] +\d+% step [2-9]/500 loss")
        job_id = run.stdout.split()[1]
        # Cancelling an ended job is refused with FAILED_PRECONDITION (exit 2).
        again = client("--cancel", job_id)
        self.assertEqual(again.returncode, 2, again.stdout + again.stderr)
        self.assertIn("FAILED_PRECONDITION", again.stderr)
        # The library calls too: cancel a queued job at once.
        with ft_client.connect(self.server) as channel:
            stub = service_grpc.FinetuneServiceStub(channel)
            self.assertEqual(ft_client.health(channel), "SERVING")
            unknown = None
            try:
                ft_client.cancel(stub, "job-999")
            except grpc.RpcError as error:
                unknown = error.code()
            self.assertEqual(unknown, grpc.StatusCode.NOT_FOUND)

    def test_3_metrics_over_http(self):
        url = "http://127.0.0.1:{}/metrics".format(self.metrics_port)
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        for needle in ['ft_jobs_submitted_total', 'ft_jobs{state="succeeded"}',
                       'ft_rpc_requests_total{code="OK",method="SubmitJob"}',
                       'ft_job_training_loss{job_id="job-1"}',
                       'ft_job_accuracy_ratio{job_id="job-1",split="validation"}',
                       'ft_job_macro_f1{job_id="job-1",split="validation"}',
                       'ft_optimizer_step_duration_seconds_bucket', 'ft_queue_depth']:
            self.assertIn(needle, text)

        # A real Prometheus scraping ftd, with every dashboard and alert expression, is
        # prometheus_e2e_test.py.


if __name__ == "__main__":
    unittest.main(verbosity=2)
