#!/usr/bin/python3
"""Webhooks end to end: the real ftd (no workers: jobs are submitted and cancelled) against a
real local HTTP receiver that is down, comes back answering 500s, then accepts; ftd is killed
with -9 while it retries and started again. Every state change arrives, duplicates carry the
same delivery id, every signature verifies, a hanging receiver does not hold up the API, and
expired or rejected deliveries are given up with a metric."""
import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(os.environ.get("FT_SOURCE_DIR", "."), "client", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module  # noqa: E402

require_module("grpc", "python3-grpcio")

import grpc  # noqa: E402
import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ft.v1 import job_pb2  # noqa: E402
from ftd_harness import free_port, kill_group, start_ftd, wait_until  # noqa: E402
from webhook_receiver import Receiver, event_key, verify_signature  # noqa: E402

SECRET = b"whsec_e2e_0123456789abcdef"


def metric(metrics_port, name, labels=""):
    text = urllib.request.urlopen(
        "http://127.0.0.1:{}/metrics".format(metrics_port), timeout=5).read().decode()
    pattern = r"^{}{}\s+(\S+)$".format(re.escape(name), re.escape(labels))
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


class WebhookEndToEndTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ft-webhook-")
        self.csv = os.path.join(self.tmp, "toy.csv")
        with open(self.csv, "w") as f:
            f.write("text,label\n" + "".join("a{} b,{}\n".format(i, i % 2) for i in range(20)))
        self.secret_file = os.path.join(self.tmp, "secret")
        with open(self.secret_file, "wb") as f:
            f.write(SECRET + b"\n")
        self.receiver = Receiver(free_port())
        self.log = open(os.path.join(self.tmp, "ftd.log"), "a")
        self.ftd = None

    def tearDown(self):
        self.receiver.release.set()
        kill_group(self.ftd)
        self.receiver.stop()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *extra, workers=0):
        kill_group(self.ftd)
        if os.path.exists(os.path.join(self.tmp, "ports")):  # the last run's, read by start_ftd
            os.remove(os.path.join(self.tmp, "ports"))
        self.ftd, port, self.metrics_port = start_ftd(
            self.tmp, self.log,
            ["--local-workers", str(workers), "--webhook-url", self.receiver.url("/ops"),
             "--webhook-secret-file", self.secret_file, "--webhook-retry-base-seconds", "0.1",
             *extra])
        self.channel = grpc.insecure_channel("127.0.0.1:{}".format(port))
        self.stub = service_grpc.FinetuneServiceStub(self.channel)

    def spec(self, *notify):
        return job_pb2.JobSpec(
            model="scratch:bloom-tiny", dataset=job_pb2.DatasetSpec(train=self.csv),
            micro_batch_size=2, accumulation_steps=2, epochs=1, max_steps=2, max_seq_length=32,
            notify=list(notify))

    def metric(self, name, labels=""):
        return metric(self.metrics_port, name, labels)

    def test_at_least_once_through_outage_errors_and_kill_9(self):
        # Down: nothing listens on the receiver's port.
        self.start("--webhook-allow-private", "--webhook-concurrency", "2")
        a = ft_client.submit(self.stub, self.spec(self.receiver.url("/job-a")))
        b = ft_client.submit(self.stub, self.spec())
        ft_client.cancel(self.stub, a.id)
        wait_until(lambda: self.metric("ft_webhook_failed_attempts_total") >= 6, 30,
                   "failed attempts while the receiver is down")
        self.assertEqual(self.metric("ft_webhook_delivered_total"), 0)
        kill_group(self.ftd)  # kill -9 in the middle of retrying
        self.ftd = None

        # Back, but answering 500: ftd restarts and keeps the rows, and adds new ones.
        self.receiver.mode = "error"
        self.receiver.start()
        self.start("--webhook-allow-private", "--webhook-concurrency", "2")
        c = ft_client.submit(self.stub, self.spec())
        ft_client.cancel(self.stub, c.id)
        wait_until(lambda: self.metric("ft_webhook_failed_attempts_total") >= 7, 30,
                   "failed attempts against 500s after the restart")

        # Healthy: everything arrives.
        self.receiver.mode = "ok"
        expected = {(a.id, 1, "/ops"), (a.id, 1, "/job-a"), (a.id, 2, "/ops"),
                    (a.id, 2, "/job-a"), (b.id, 1, "/ops"), (c.id, 1, "/ops"), (c.id, 2, "/ops")}

        def delivered():
            return {event_key(r) for r in self.receiver.snapshot() if r["status"] == 204}

        wait_until(lambda: delivered() == expected, 30, "every event delivered")
        wait_until(lambda: self.metric("ft_webhook_outbox_deliveries") == 0, 10, "empty outbox")

        requests = self.receiver.snapshot()
        self.assertGreater(sum(1 for r in requests if r["status"] == 500), 0)
        by_delivery = {}
        by_event = {}
        for r in requests:
            self.assertIsNotNone(verify_signature(SECRET, r["signature"], r["body"]), r)
            self.assertIsNone(verify_signature(b"another secret!!", r["signature"], r["body"]))
            body = json.loads(r["body"])
            self.assertEqual(body["id"], r["delivery"])
            self.assertEqual(r["event"], body["type"])
            # A delivery id always means the same bytes; an event and URL always one id.
            by_delivery.setdefault(r["delivery"], set()).add(r["body"])
            by_event.setdefault(event_key(r), set()).add(r["delivery"])
        self.assertTrue(all(len(bodies) == 1 for bodies in by_delivery.values()), by_delivery)
        self.assertEqual(set(by_event), expected)
        self.assertTrue(all(len(ids) == 1 for ids in by_event.values()), by_event)
        types = {event_key(r)[:2]: json.loads(r["body"])["type"] for r in requests}
        self.assertEqual(types[(a.id, 1)], "job.queued")
        self.assertEqual(types[(a.id, 2)], "job.cancelled")

    def test_a_trained_job_sends_running_evaluations_and_succeeded(self):
        self.receiver.start()
        self.start("--webhook-evaluations", workers=1)
        spec = self.spec()
        spec.eval_every_steps = 1
        job = ft_client.submit(self.stub, spec)
        events = list(ft_client.watch(self.stub, job.id))
        self.assertEqual(events[-1].state_change.to, job_pb2.SUCCEEDED, events[-1])
        sent = [e for e in events
                if e.WhichOneof("kind") in ("state_change", "evaluation")]
        wait_until(lambda: len(self.receiver.snapshot()) >= len(sent), 30, "every delivery")
        received = sorted((json.loads(r["body"]) for r in self.receiver.snapshot()),
                          key=lambda body: int(body["event"]["seq"]))
        self.assertEqual([int(b["event"]["seq"]) for b in received], [e.seq for e in sent])
        types = [b["type"] for b in received]
        self.assertEqual(types[:2], ["job.queued", "job.running"])
        self.assertEqual(types[-1], "job.succeeded")
        self.assertIn("job.evaluation", types)
        self.assertEqual(received[-1]["job"]["state"], "SUCCEEDED")

    def test_a_hanging_receiver_does_not_hold_up_the_api(self):
        self.receiver.mode = "hang"
        self.receiver.start()
        self.start("--webhook-timeout-seconds", "60", "--webhook-concurrency", "1")
        ft_client.submit(self.stub, self.spec())
        wait_until(lambda: self.receiver.holding == 1, 10, "the receiver to hold a request")
        # While the only delivery thread waits on the receiver, the API answers.
        job = ft_client.submit(self.stub, self.spec(), timeout=5)
        self.assertEqual(ft_client.cancel(self.stub, job.id, timeout=5).state, job_pb2.CANCELLED)
        self.assertEqual(self.receiver.holding, 1)
        self.receiver.release.set()
        self.receiver.mode = "ok"
        wait_until(lambda: len(self.receiver.snapshot()) >= 3, 20, "the held events")

    def test_job_urls_to_internal_hosts_are_refused_and_deliveries_given_up(self):
        self.receiver.mode = "error"
        self.receiver.start()
        self.start("--webhook-give-up-seconds", "1")
        with self.assertRaises(grpc.RpcError) as refused:
            ft_client.submit(self.stub, self.spec(self.receiver.url("/x")))
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("spec.notify[0]", refused.exception.details())
        self.assertIn("--webhook-allow-private", refused.exception.details())
        with self.assertRaises(grpc.RpcError) as bad_scheme:
            ft_client.submit(self.stub, self.spec("ftp://example.com/x"))
        self.assertIn("spec.notify[0]", bad_scheme.exception.details())

        # 500s for longer than --webhook-give-up-seconds: given up, with the metric.
        ft_client.submit(self.stub, self.spec())
        wait_until(lambda: self.metric("ft_webhook_given_up_total", '{reason="expired"}') == 1,
                   20, "the expired delivery given up")
        self.assertGreater(self.metric("ft_webhook_failed_attempts_total"), 0)
        # A 400 is final: given up after one attempt.
        self.receiver.mode = "reject"
        before = len(self.receiver.snapshot())
        ft_client.submit(self.stub, self.spec())
        wait_until(lambda: self.metric("ft_webhook_given_up_total", '{reason="rejected"}') == 1,
                   20, "the rejected delivery given up")
        self.assertEqual(len(self.receiver.snapshot()), before + 1)
        self.assertEqual(self.metric("ft_webhook_outbox_deliveries"), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
