#!/usr/bin/python3
"""The console's JSON API over real HTTP against a real ftd with a real worker and bearer tokens:
status mapping, authorization (a wrong token 401, another user's job 404), the JSON shapes, the
event stream of a job that trains, and the page's files."""
import base64
import hashlib
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from console_http import Console, job_spec, start_console_ftd, training_csv  # noqa: E402
from ftd_harness import kill_group  # noqa: E402


class ConsoleApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ft-console-api-")
        cls.log = open(os.path.join(cls.tmp, "ftd.log"), "w")
        cls.ftd, _, port = start_console_ftd(cls.tmp, cls.log)
        cls.api = Console(port)
        cls.csv = training_csv(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        kill_group(cls.ftd)
        cls.log.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def submit(self, user, spec, request_id=None):
        body = {"spec": spec}
        if request_id:
            body["request_id"] = request_id
        status, _, reply = self.api.request("POST", "/api/v1/jobs", user, body)
        self.assertEqual(status, 200, reply)
        return reply["job"]

    def assertError(self, reply, status, code, *words):
        self.assertEqual(reply[0], status, reply[2])
        error = reply[2]["error"]
        self.assertEqual(error["code"], status)
        self.assertEqual(error["status"], code)
        for word in words:
            self.assertIn(word, error["message"])

    def test_1_tokens(self):
        reply = self.api.request("GET", "/api/v1/jobs")
        self.assertError(reply, 401, "UNAUTHENTICATED")
        self.assertIn("Bearer", reply[1].getheader("WWW-Authenticate"))
        self.assertError(self.api.request("GET", "/api/v1/jobs", token="wrong"), 401,
                         "UNAUTHENTICATED")
        self.assertError(self.api.request("GET", "/api/v1/jobs", token="b\u00e4d"), 401,
                         "UNAUTHENTICATED")
        status, _, page = self.api.request("GET", "/api/v1/jobs", "alice")
        self.assertEqual(status, 200, page)
        self.assertEqual(page, {"jobs": [], "next_page_token": ""})

    def test_2_submit_watch_and_authorization(self):
        spec = job_spec(self.csv, max_steps=6, eval_every_steps=3, name="api test")
        job = self.submit("alice", spec, request_id="console-api-1")
        self.assertTrue(job["id"].startswith("job-"))
        self.assertEqual(job["owner"], "alice")
        self.assertIn(job["state"], ("QUEUED", "RUNNING"))
        self.assertEqual(job["spec"]["micro_batch_size"], 8)  # numbers stay numbers
        self.assertEqual(job["spec"]["dataset"]["train"], self.csv)
        again = self.submit("alice", spec, request_id="console-api-1")
        self.assertEqual(again["id"], job["id"])
        path = "/api/v1/jobs/" + job["id"]

        # Another user's job is not told to exist; an admin sees it.
        self.assertError(self.api.request("GET", path, "bob"), 404, "NOT_FOUND", job["id"])
        self.assertError(self.api.request("POST", path + ":cancel", "bob", {}), 404, "NOT_FOUND")
        self.assertEqual(self.api.request("GET", path + "/events", "bob")[0], 404)
        self.assertEqual(self.api.request("GET", "/api/v1/jobs", "bob")[2]["jobs"], [])
        self.assertEqual(self.api.request("GET", path, "root")[0], 200)
        listed = self.api.request("GET", "/api/v1/jobs?state=QUEUED&state=RUNNING&state="
                                  "SUCCEEDED&page_size=10", "alice")[2]["jobs"]
        self.assertEqual([j["id"] for j in listed], [job["id"]])

        # The live stream: every event once, in order, until the job ends.
        events = [p for kind, p in self.api.events(job["id"], "alice") if kind == "event"]
        seqs = [int(e["seq"]) for e in events]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertEqual(events[0]["state_change"]["to"], "QUEUED")
        self.assertEqual(events[-1]["state_change"]["to"], "SUCCEEDED", events[-1])
        steps = [int(e["progress"]["step"]) for e in events if e.get("progress")]
        self.assertEqual(steps, [1, 2, 3, 4, 5, 6])
        validation = [e["evaluation"] for e in events
                      if e.get("evaluation") and e["evaluation"]["split"] == "validation"]
        self.assertGreaterEqual(len(validation), 2)
        self.assertEqual(len(validation[-1]["classes"]), 2)
        self.assertTrue(0 <= validation[-1]["accuracy"] <= 1)
        # Replaying from a sequence number gives the rest only.
        tail = [p for kind, p in self.api.events(job["id"], "alice", after_seq=seqs[-2])
                if kind == "event"]
        self.assertEqual([int(e["seq"]) for e in tail], [seqs[-1]])

        done = self.api.request("GET", path, "alice")[2]
        self.assertEqual(done["state"], "SUCCEEDED")
        self.assertEqual(done["progress"]["step"], "6")  # uint64 is a string in proto JSON
        self.assertError(self.api.request("POST", path + ":cancel", "alice", {}), 400,
                         "FAILED_PRECONDITION")
        self.check_downloads(path)
        self.assertError(self.api.request("DELETE", path, "bob"), 404, "NOT_FOUND")
        status, _, deleted = self.api.request("DELETE", path, "alice")
        self.assertEqual(status, 200, deleted)
        self.assertGreater(int(deleted["freed_bytes"]), 0)
        self.assertEqual(self.api.request("GET", path, "alice")[0], 404)

    def check_downloads(self, path):
        """The ended job's files: listed, downloaded whole and from an offset with their digest,
        through a one-use link too; nothing for another user or outside the job's folder."""
        status, _, listing = self.api.request("GET", path + "/artifacts", "alice")
        self.assertEqual(status, 200, listing)
        files = {a["name"]: a for a in listing["artifacts"]}
        config = files["config.json"]
        self.assertEqual(config["kind"], "ARTIFACT_MODEL")
        self.assertIn("model.safetensors", files)
        status, response, body = self.api.request("GET", path + "/artifacts/config.json", "alice")
        self.assertEqual(status, 200)
        self.assertEqual(len(body), int(config["size_bytes"]))
        digest = hashlib.sha256(body).digest()
        self.assertEqual(digest.hex(), config["sha256"])
        self.assertEqual(response.getheader("Repr-Digest"),
                         "sha-256=:{}:".format(base64.b64encode(digest).decode()))
        self.assertIn('filename="config.json"', response.getheader("Content-Disposition"))
        status, response, tail = self.api.request("GET", path + "/artifacts/config.json", "alice",
                                                  headers={"Range": "bytes=10-"})
        self.assertEqual(status, 206)
        self.assertEqual(tail, body[10:])
        self.assertEqual(response.getheader("Content-Range"),
                         "bytes 10-{}/{}".format(len(body) - 1, len(body)))
        self.assertEqual(self.api.request("GET", path + "/artifacts/config.json", "alice",
                                          headers={"Range": "bytes=999999999-"})[0], 400)
        self.assertEqual(self.api.request("GET", path + "/artifacts/config.json", "bob")[0], 404)
        self.assertEqual(self.api.request("GET", path + "/artifacts", "bob")[0], 404)
        self.assertEqual(self.api.request("GET", path + "/artifacts/nothing.bin", "alice")[0],
                         404)
        self.assertEqual(self.api.request("GET", path + "/artifacts/../../ftd.db", "alice")[0],
                         404)

        # The page's way: a one-use link that needs no token.
        self.assertEqual(self.api.request("POST", path + "/download_links", "bob",
                                          {"name": "model.safetensors"})[0], 404)
        self.assertError(self.api.request("POST", path + "/download_links", "alice",
                                          {"file": "x"}), 400, "INVALID_ARGUMENT", "name")
        status, _, link = self.api.request("POST", path + "/download_links", "alice",
                                           {"name": "model.safetensors"})
        self.assertEqual(status, 200, link)
        status, _, model = self.api.request("GET", link["url"])
        self.assertEqual(status, 200)
        self.assertEqual(hashlib.sha256(model).hexdigest(), files["model.safetensors"]["sha256"])
        self.assertError(self.api.request("GET", link["url"]), 404, "NOT_FOUND", "link")

    def test_3_cancel_a_queued_job(self):
        # A job that would train for long, cancelled at once.
        job = self.submit("bob", job_spec(self.csv, max_steps=100000, eval_every_steps=0,
                                          name="to cancel"))
        status, _, cancelled = self.api.request(
            "POST", "/api/v1/jobs/{}:cancel".format(job["id"]), "bob", {"reason": "enough"})
        self.assertEqual(status, 200, cancelled)
        self.assertIn(cancelled["state"], ("CANCELLED", "CANCELLING"))
        events = [p for kind, p in self.api.events(job["id"], "bob") if kind == "event"]
        self.assertEqual(events[-1]["state_change"]["to"], "CANCELLED")
        self.assertIn("enough", events[-1]["state_change"]["reason"])

    def test_4_bad_input_is_named(self):
        bad = job_spec(self.csv, max_steps=2, eval_every_steps=0, name="bad")
        bad["micro_batch_size"] = 0
        self.assertError(self.api.request("POST", "/api/v1/jobs", "alice", {"spec": bad}), 400,
                         "INVALID_ARGUMENT", "micro_batch_size")
        self.assertError(self.api.request("POST", "/api/v1/jobs", "alice",
                                          {"spec": {"modle": "x"}}), 400, "INVALID_ARGUMENT",
                         "modle")
        self.assertError(self.api.request("POST", "/api/v1/jobs", "alice", "{not json"), 400,
                         "INVALID_ARGUMENT", "request body")
        self.assertError(self.api.request("GET", "/api/v1/jobs?state=DONE", "alice"), 400,
                         "INVALID_ARGUMENT", "state", "DONE")
        self.assertError(self.api.request("GET", "/api/v1/jobs?page_size=-1", "alice"), 400,
                         "INVALID_ARGUMENT", "page_size")
        self.assertError(self.api.request("GET", "/api/v1/jobs?sort=x", "alice"), 400,
                         "INVALID_ARGUMENT", "sort")
        self.assertError(self.api.request("GET", "/api/v1/nothing", "alice"), 404, "NOT_FOUND")
        self.assertError(self.api.request("PUT", "/api/v1/jobs", "alice", {}), 405,
                         "UNIMPLEMENTED")
        # A state change sent as a form or plain text (what another site's page can send
        # without a CORS preflight) is refused.
        self.assertError(self.api.request("POST", "/api/v1/jobs/job-x:cancel", "alice", "{}",
                                          headers={"Content-Type": "text/plain"}), 415,
                         "INVALID_ARGUMENT", "Content-Type")
        self.assertError(self.api.request("GET", "/api/v1/jobs/job-x/events?after_seq=z",
                                          "alice"), 400, "INVALID_ARGUMENT", "after_seq")

    def test_5_page_is_served_by_ftd(self):
        status, response, body = self.api.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("text/html"))
        self.assertIn(b'src="/console.js"', body)
        self.assertIn("default-src 'self'", response.getheader("Content-Security-Policy"))
        status, response, body = self.api.request("GET", "/console.js")
        self.assertEqual(status, 200)
        self.assertTrue(response.getheader("Content-Type").startswith("text/javascript"))
        self.assertEqual(self.api.request("GET", "/console.css")[0], 200)
        self.assertEqual(self.api.request("GET", "/ftd.db")[0], 404)
        self.assertEqual(self.api.request("GET", "/../ftd.db")[0], 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
