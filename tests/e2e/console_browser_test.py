#!/usr/bin/python3
"""The web console in a real browser (Debian's headless Chromium, driven through the DevTools
protocol) against a real ftd training a real job: a wrong token shows the login again, the list
shows the job, the loss curve grows while it trains, the per-class table fills, and the cancel
button cancels it; a finished job's Download button saves its file. Skipped without chromium. FT_CONSOLE_SCREENSHOT=PATH keeps the job page's
screenshot (docs/console.png comes from here)."""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from cdp_browser import Browser, find_chromium  # noqa: E402
from console_http import TOKENS, Console, job_spec, start_console_ftd, training_csv  # noqa: E402
from ftd_harness import kill_group, wait_until  # noqa: E402
from prerequisite import skip  # noqa: E402

CHROMIUM = find_chromium()
if CHROMIUM is None:
    skip("no chromium on PATH (Debian's chromium, scripts/install-test-deps.sh)")


class ConsoleBrowserTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ft-console-browser-")
        self.log = open(os.path.join(self.tmp, "ftd.log"), "w")
        self.ftd, _, port = start_console_ftd(self.tmp, self.log)
        self.api = Console(port)
        self.url = "http://127.0.0.1:{}/".format(port)
        self.browser = Browser(CHROMIUM, os.path.join(self.tmp, "profile"))

    def tearDown(self):
        self.browser.close()
        kill_group(self.ftd)
        self.log.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def sign_in(self, token):
        self.browser.eval("document.getElementById('token').value = {};"
                          "document.getElementById('login-form').requestSubmit()"
                          .format(json.dumps(token)))

    def points(self, chart):
        return int(self.browser.eval(
            "document.getElementById('{}').getAttribute('data-points')".format(chart)))

    def test_watch_and_cancel_a_training_job(self):
        # Long enough to be cancelled while it trains: a progress event per optimizer step.
        spec = job_spec(training_csv(self.tmp), max_steps=2000, eval_every_steps=4,
                        name="console demo")
        status, _, reply = self.api.request("POST", "/api/v1/jobs", "alice", {"spec": spec})
        self.assertEqual(status, 200, reply)
        job_id = reply["job"]["id"]
        b = self.browser

        # No token yet, then a wrong one: the login form, with the refusal said.
        b.navigate(self.url)
        b.wait_for("!document.getElementById('login').hidden", 10, "the login form")
        self.sign_in("not-a-token")
        error = b.wait_for("!document.getElementById('login-error').hidden && "
                           "document.getElementById('login-error').textContent", 10,
                           "the wrong token's message")
        self.assertIn("not accepted", error)
        self.assertTrue(b.eval("document.getElementById('jobs').hidden"))

        # The right token: the list shows the job.
        self.sign_in(TOKENS["alice"])
        row = b.wait_for("(document.querySelector('tr[data-job=\"{}\"]') || {{}}).textContent"
                         .format(job_id), 10, "the job in the list")
        self.assertIn("scratch:bloom-tiny", row)
        self.assertIn("console demo", row)

        # The job page: the loss curve grows while the job trains.
        b.eval("location.hash = '#/jobs/{}'".format(job_id))
        b.wait_for("document.getElementById('loss-chart').getAttribute('data-points') >= 2",
                   45, "loss points")
        first = self.points("loss-chart")
        self.assertEqual(self.api.request("GET", "/api/v1/jobs/" + job_id, "alice")[2]["state"],
                         "RUNNING")
        wait_until(lambda: self.points("loss-chart") > first, 30, "the loss curve to grow")
        b.wait_for("document.getElementById('accuracy-chart').getAttribute('data-points') >= 2",
                   30, "validation accuracy points")
        classes = b.wait_for("document.querySelectorAll('#class-rows tr').length", 10,
                             "the per-class table")
        self.assertEqual(classes, 2)
        self.assertEqual(b.eval("document.getElementById('job-state').textContent"), "RUNNING")
        time.sleep(0.3)  # let the last redraw land before the picture
        b.screenshot(os.environ.get("FT_CONSOLE_SCREENSHOT") or
                     os.path.join(self.tmp, "job.png"))

        # Cancel from the page: the job is cancelled for the API too, and the page says so.
        b.eval("document.getElementById('cancel').click()")
        wait_until(lambda: self.api.request("GET", "/api/v1/jobs/" + job_id,
                                            "alice")[2]["state"] == "CANCELLED",
                   30, "the job to be CANCELLED")
        b.wait_for("document.getElementById('job-state').textContent === 'CANCELLED'", 15,
                   "the page to show CANCELLED")
        self.assertTrue(b.eval("document.getElementById('cancel').hidden"))

    def test_download_a_finished_jobs_file(self):
        spec = job_spec(training_csv(self.tmp), max_steps=3, eval_every_steps=0, name="short")
        status, _, reply = self.api.request("POST", "/api/v1/jobs", "bob", {"spec": spec})
        self.assertEqual(status, 200, reply)
        job_id = reply["job"]["id"]
        downloads = os.path.join(self.tmp, "downloads")
        os.mkdir(downloads)
        self.browser.call("Browser.setDownloadBehavior",
                          {"behavior": "allow", "downloadPath": downloads})
        b = self.browser
        b.navigate(self.url)
        b.wait_for("!document.getElementById('login').hidden", 10, "the login form")
        self.sign_in(TOKENS["bob"])
        b.eval("location.hash = '#/jobs/{}'".format(job_id))
        b.wait_for("document.getElementById('job-state').textContent === 'SUCCEEDED'", 60,
                   "the job to succeed")
        b.wait_for("!document.getElementById('files').hidden && "
                   "!!document.querySelector('button[data-name=\"config.json\"]')", 10,
                   "the files table")
        b.eval("document.querySelector('button[data-name=\"config.json\"]').click()")
        saved = os.path.join(downloads, "config.json")
        wait_until(lambda: os.path.exists(saved), 20, "the browser to save config.json")
        listing = self.api.request("GET", "/api/v1/jobs/{}/artifacts".format(job_id), "bob")[2]
        expected = [a["sha256"] for a in listing["artifacts"] if a["name"] == "config.json"][0]
        with open(saved, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), expected)


if __name__ == "__main__":
    unittest.main(verbosity=2)
