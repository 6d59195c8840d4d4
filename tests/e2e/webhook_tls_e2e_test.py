#!/usr/bin/python3
"""Webhooks over https: ftd delivers to a local TLS receiver whose certificate (made here with
the openssl program, for 127.0.0.1) it trusts through --webhook-ca-file, and refuses to
deliver (retrying) to the same receiver when it does not trust it."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(os.environ.get("FT_SOURCE_DIR", "."), "client", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module, require_program  # noqa: E402

require_module("grpc", "python3-grpcio")
OPENSSL = require_program("openssl", "openssl")

import grpc  # noqa: E402
import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ft.v1 import job_pb2  # noqa: E402
from ftd_harness import free_port, kill_group, start_ftd, wait_until  # noqa: E402
from webhook_e2e_test import metric  # noqa: E402
from webhook_receiver import Receiver  # noqa: E402


class WebhookTlsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ft-webhook-tls-")
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", self.key, "-out", self.cert],
                       check=True, capture_output=True)
        self.csv = os.path.join(self.tmp, "toy.csv")
        with open(self.csv, "w") as f:
            f.write("text,label\n" + "".join("a{} b,{}\n".format(i, i % 2) for i in range(20)))
        self.receiver = Receiver(free_port(), tls=(self.cert, self.key))
        self.receiver.start()
        self.log = open(os.path.join(self.tmp, "ftd.log"), "a")
        self.ftd = None

    def tearDown(self):
        kill_group(self.ftd)
        self.receiver.stop()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def submit_one(self, *extra):
        port_file = os.path.join(self.tmp, "ports")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.ftd, port, metrics_port = start_ftd(
            self.tmp, self.log, ["--local-workers", "0", "--webhook-url",
                                 self.receiver.url("/ops"), "--webhook-retry-base-seconds",
                                 "0.1", *extra])
        with grpc.insecure_channel("127.0.0.1:{}".format(port)) as channel:
            ft_client.submit(service_grpc.FinetuneServiceStub(channel), job_pb2.JobSpec(
                model="scratch:bloom-tiny", dataset=job_pb2.DatasetSpec(train=self.csv),
                micro_batch_size=2, accumulation_steps=2, epochs=1, max_seq_length=32))
        return metrics_port

    def test_delivers_over_https_to_a_trusted_certificate_only(self):
        metrics_port = self.submit_one()  # the system's CAs do not know this certificate
        wait_until(lambda: metric(metrics_port, "ft_webhook_failed_attempts_total") >= 2, 20,
                   "failed attempts against an untrusted certificate")
        self.assertEqual(self.receiver.snapshot(), [])
        kill_group(self.ftd)
        metrics_port = self.submit_one("--webhook-ca-file", self.cert)
        # Both jobs' QUEUED events: the first run's row, kept, and the new one.
        wait_until(lambda: len(self.receiver.snapshot()) == 2, 20, "deliveries over https")
        wait_until(lambda: metric(metrics_port, "ft_webhook_outbox_deliveries") == 0, 10,
                   "an empty outbox")


if __name__ == "__main__":
    unittest.main(verbosity=2)
