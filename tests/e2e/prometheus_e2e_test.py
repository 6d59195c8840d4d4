#!/usr/bin/python3
"""A real Prometheus (Debian's package) scraping a real ftd that runs real jobs: every PromQL
expression of the shipped Grafana dashboard and alert rules, read from deploy/ (none typed in
here), is answered with the expected series through Prometheus' HTTP API, and Prometheus loads
and evaluates the shipped alert rules without errors (a failed job fires FtdJobFailed).

Prometheus runs deploy/prometheus/prometheus.yml with only the target, the intervals (1 s) and the
rule file's path changed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

SRC = os.environ.get("FT_SOURCE_DIR", ".")
sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(SRC, "client", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module, require_program  # noqa: E402

require_module("grpc", "python3-grpcio")
yaml = require_module("yaml", "python3-yaml")
require_program("prometheus", "prometheus")

import grpc  # noqa: E402
import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ft.v1 import job_pb2  # noqa: E402
from ftd_harness import free_port, kill_group, start_ftd, wait_until  # noqa: E402

DASHBOARD = os.path.join(SRC, "deploy", "grafana", "dashboards", "ftd.json")
ALERTS = os.path.join(SRC, "deploy", "prometheus", "alerts.yml")
SCRAPE_CONFIG = os.path.join(SRC, "deploy", "prometheus", "prometheus.yml")
RATE_INTERVAL = "10s"  # what $__rate_interval stands for at a 1 s scrape interval


def metric_names(expr):
    """The metric names an expression selects: ours start with ft_, plus Prometheus' `up`."""
    return {m for m in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b", expr)
            if m.startswith("ft_") or m == "up"}


class PrometheusEndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ft-prom-")
        cls.procs = []
        cls.ftd_log = open(os.path.join(cls.tmp, "ftd.log"), "w")
        # No tokens on loopback; the job's data lie in the temp folder.
        ftd, api_port, metrics_port = start_ftd(cls.tmp, cls.ftd_log,
                                                ["--metrics-grace-seconds", "600"])
        cls.procs.append(ftd)
        cls.server = "127.0.0.1:{}".format(api_port)

        # The shipped config; only the target, the intervals and the rule path change.
        with open(SCRAPE_CONFIG) as f:
            config = yaml.safe_load(f)
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        config["rule_files"] = [os.path.join(os.path.dirname(SCRAPE_CONFIG), r)
                                for r in config["rule_files"]]
        (scrape,) = [s for s in config["scrape_configs"] if s["job_name"] == "ftd"]
        scrape["scrape_interval"] = "1s"
        scrape["static_configs"] = [{"targets": ["127.0.0.1:{}".format(metrics_port)]}]
        config_path = os.path.join(cls.tmp, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        cls.prom_port = free_port()
        cls.prom_log = open(os.path.join(cls.tmp, "prometheus.log"), "w")
        cls.procs.append(subprocess.Popen(
            ["prometheus", "--config.file", config_path, "--storage.tsdb.path",
             os.path.join(cls.tmp, "tsdb"), "--web.listen-address",
             "127.0.0.1:{}".format(cls.prom_port)],
            stdout=cls.prom_log, stderr=subprocess.STDOUT, start_new_session=True))
        cls.start = time.time()
        wait_until(lambda: cls.query('up{job="ftd"} == 1'), 60, "Prometheus to scrape ftd")

        # A real job (evaluations, checkpoints), a job that fails on a broken row, and a call
        # that fails (NOT_FOUND), while Prometheus scrapes every second.
        train = os.path.join(cls.tmp, "toy.csv")
        with open(train, "w") as f:
            f.write("text,label\n")
            # Long enough rows (~200 bytes) that the job runs for seconds and the 1 s scrapes
            # see it running (a job of short rows can end between two scrapes).
            for i in range(160):
                words = ("great" if i % 2 else "awful") + " film number {} ".format(i)
                f.write("{},{}\n".format((words * 10).strip(), i % 2))
        broken = os.path.join(cls.tmp, "broken.csv")
        with open(broken, "w") as f:
            f.write('text,label\n"good one",1\n"broken,0\n')
        with ft_client.connect(cls.server) as channel:
            stub = service_grpc.FinetuneServiceStub(channel)
            spec = job_pb2.JobSpec(
                model="scratch:bloom-small", dataset=job_pb2.DatasetSpec(train=train),
                micro_batch_size=8, accumulation_steps=1, epochs=1, max_steps=16,
                max_seq_length=256, log_every_steps=1, eval_every_steps=4,
                checkpoint_every_steps=4, max_eval_examples=32)
            cls.job_id = ft_client.submit(stub, spec).id
            bad_spec = job_pb2.JobSpec()
            bad_spec.CopyFrom(spec)
            bad_spec.dataset.train = broken
            cls.failed_id = ft_client.submit(stub, bad_spec).id
            try:
                ft_client.get(stub, "job-404")
                raise AssertionError("GetJob of an unknown job succeeded")
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.NOT_FOUND, error
            for job_id in (cls.job_id, cls.failed_id):
                wait_until(lambda: ft_client.get(stub, job_id).state in ft_client.FINAL_STATES,
                           90, "job " + job_id + " to end")
            cls.states = {j: ft_client.get(stub, j).state for j in (cls.job_id, cls.failed_id)}
        # Scraped after both ended, and a few seconds more for the rate windows.
        wait_until(lambda: cls.query('ft_jobs{state="succeeded"} == 1 and '
                                     'on() ft_jobs{state="failed"} == 1'), 30, "final scrape")
        time.sleep(3)
        cls.end = time.time()

    @classmethod
    def tearDownClass(cls):
        for proc in cls.procs:
            kill_group(proc)
        cls.ftd_log.close()
        cls.prom_log.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def api(cls, path, **params):
        url = "http://127.0.0.1:{}/api/v1/{}?{}".format(cls.prom_port, path,
                                                        urllib.parse.urlencode(params, doseq=True))
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:  # 400 for a bad expression: keep the message
            return json.loads(error.read())
        except OSError:
            return None

    @classmethod
    def query(cls, expr):
        answer = cls.api("query", query=expr)
        return answer["data"]["result"] if answer and answer["status"] == "success" else None

    def query_range(self, expr):
        answer = self.api("query_range", query=expr, start=self.start, end=self.end, step=1)
        self.assertIsNotNone(answer, expr)
        self.assertEqual(answer["status"], "success", "{}: {}".format(expr, answer.get("error")))
        return answer["data"]["result"]

    def test_jobs_ended_as_planned(self):
        self.assertEqual(self.states[self.job_id], job_pb2.SUCCEEDED, self.job_id)
        self.assertEqual(self.states[self.failed_id], job_pb2.FAILED, self.failed_id)

    def test_every_dashboard_expression_answers(self):
        with open(DASHBOARD) as f:
            dashboard = json.load(f)
        targets = [(p["title"], t["expr"]) for p in dashboard["panels"]
                   for t in p.get("targets", []) if t.get("expr")]
        self.assertGreaterEqual(len(targets), 30)
        for title, template in targets:
            expr = template.replace("$__rate_interval", RATE_INTERVAL)
            expr = expr.replace("${job_id}", self.job_id).replace("$job_id", self.job_id)
            self.assertNotIn("$", expr, "an unsubstituted variable in " + template)
            with self.subTest(panel=title, expr=expr):
                result = self.query_range(expr)
                self.assertTrue(result, "no series for panel {!r}: {}".format(title, expr))
                if "job_id" in template:  # per-job panels show the chosen job
                    for series in result:
                        if "job_id" in series["metric"]:
                            self.assertEqual(series["metric"]["job_id"], self.job_id, expr)
        # The training curves carry real values.
        loss = self.query_range('ft_job_training_loss{job_id="%s"}' % self.job_id)
        values = [float(v) for _, v in loss[0]["values"]]
        self.assertTrue(all(0 < v < 10 for v in values), values)
        accuracy = self.query_range('ft_job_accuracy_ratio{job_id="%s",split="validation"}'
                                    % self.job_id)
        self.assertTrue(all(0 <= float(v) <= 1 for _, v in accuracy[0]["values"]))
        memory = self.query_range('ft_job_device_memory_peak_bytes{job_id="%s"}' % self.job_id)
        self.assertGreater(max(float(v) for _, v in memory[0]["values"]), 1e6)

    def test_job_selector_variable_lists_the_job(self):
        with open(DASHBOARD) as f:
            variables = {v["name"]: v for v in json.load(f)["templating"]["list"]}
        query = variables["job_id"]["query"]["query"]
        match = re.fullmatch(r"label_values\((\w+), *(\w+)\)", query)
        self.assertIsNotNone(match, query)
        answer = self.api("label/{}/values".format(match.group(2)), **{"match[]": match.group(1)})
        self.assertIn(self.job_id, answer["data"])

    def test_every_alert_expression_evaluates_on_real_series(self):
        with open(ALERTS) as f:
            rules = [r for g in yaml.safe_load(f)["groups"] for r in g["rules"]]
        self.assertGreaterEqual(len(rules), 6)
        for rule in rules:
            with self.subTest(alert=rule["alert"]):
                answer = self.api("query", query=rule["expr"])
                self.assertEqual(answer["status"], "success", answer)
                # Every series the expression reads exists in this Prometheus.
                names = metric_names(rule["expr"])
                self.assertTrue(names, rule["expr"])
                for name in names:
                    self.assertTrue(self.query_range("count({})".format(name)),
                                    "{} reads {}, which Prometheus never scraped".format(
                                        rule["alert"], name))

    def test_prometheus_loads_and_evaluates_the_shipped_rules(self):
        with open(ALERTS) as f:
            shipped = {r["alert"] for g in yaml.safe_load(f)["groups"] for r in g["rules"]}

        def evaluated():
            groups = self.api("rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            done = all(r.get("lastEvaluation", "").startswith("2") for r in rules)
            return rules if rules and done else None

        rules = wait_until(evaluated, 20, "Prometheus to evaluate the rules")
        self.assertEqual({r["name"] for r in rules}, shipped)
        for rule in rules:
            self.assertEqual(rule["health"], "ok", "{}: {}".format(rule["name"],
                                                                   rule.get("lastError")))
        # The failed job fires FtdJobFailed (no `for:`); the healthy daemon fires nothing else
        # that is about jobs or workers.
        alerts = wait_until(lambda: [a for a in self.api("alerts")["data"]["alerts"]
                                     if a["labels"]["alertname"] == "FtdJobFailed"], 20,
                            "FtdJobFailed")
        self.assertEqual(alerts[0]["labels"]["state"], "failed")
        firing = {a["labels"]["alertname"] for a in self.api("alerts")["data"]["alerts"]}
        for quiet in ("FtdJobLossNaN", "FtdJobStalled", "FtdMetricsDown", "FtdNoWorker"):
            self.assertNotIn(quiet, firing)


if __name__ == "__main__":
    unittest.main(verbosity=2)
