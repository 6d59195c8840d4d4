#!/usr/bin/python3
"""End to end (issue 16, service side): a real ftd with --local-workers 2 and real ftworkers.

Default mode (label e2e): a world_size 2 job forms a gang on both local workers, each worker's
log shows its lease with rank 0 or 1 and the same rendezvous key, and the job succeeds; a
world_size 3 job, which two workers can never run, waits with its reason in GetJob and in its
events instead of hanging silently.

--kill-loop (label dp_e2e): trains a world_size 2 job once uninterrupted, then again while a
random rank is killed with SIGKILL again and again; every kill ends the gang's attempt, the job
is re-queued and resumes from its checkpoint, and it must end with the uninterrupted run's
parameters."""
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.environ.get("FT_BIN_DIR", "build/bin")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from prerequisite import require_module  # noqa: E402

KILL_LOOP = "--kill-loop" in sys.argv
if KILL_LOOP:
    sys.argv.remove("--kill-loop")
require_module("grpc", "python3-grpcio")
sys.path.insert(0, os.environ.get("FT_PY_STUBS", "build/tests/e2e/py"))
sys.path.insert(0, os.path.join(os.environ.get("FT_SOURCE_DIR", "."), "client", "python"))

import ft_client  # noqa: E402
from ft.v1 import finetune_service_pb2_grpc as service_grpc  # noqa: E402
from ft.v1 import job_pb2  # noqa: E402
from ftd_harness import kill_group, start_ftd, wait_until  # noqa: E402


def toy_csv(path, rows=64):
    with open(path, "w") as f:
        f.write("text,label\n")
        for i in range(rows):
            f.write("{} movie number {},{}\n".format("great" if i % 2 else "awful", i, i % 2))


def spec(csv, world_size, max_steps, **extra):
    return job_pb2.JobSpec(
        model="scratch:bloom-tiny", dataset=job_pb2.DatasetSpec(train=csv),
        micro_batch_size=2, accumulation_steps=2, epochs=1, max_steps=max_steps,
        log_every_steps=1, world_size=world_size, seed=7, **extra)


class Daemon:
    def __init__(self, tmp, extra=(), local_workers=2):
        self.tmp = tmp
        self.log = open(os.path.join(tmp, "ftd.log"), "w")
        self.process, self.port, _ = start_ftd(
            tmp, self.log, ["--local-workers", str(local_workers), *extra])
        self.channel = ft_client.connect("127.0.0.1:{}".format(self.port))
        self.stub = service_grpc.FinetuneServiceStub(self.channel)

    def close(self):
        self.channel.close()
        kill_group(self.process)
        self.log.close()

    def wait_ended(self, job_id, timeout):
        def ended():
            job = ft_client.get(self.stub, job_id)
            return job if job.state in (job_pb2.SUCCEEDED, job_pb2.FAILED, job_pb2.CANCELLED) \
                else None
        return wait_until(ended, timeout, "job " + job_id + " to end", poll=0.5)

    def worker_logs(self):
        text = {}
        for path in glob.glob(os.path.join(self.tmp, "home", "workers", "*.log")):
            with open(path, errors="replace") as f:
                text[os.path.basename(path)] = f.read()
        return text


@unittest.skipIf(KILL_LOOP, "the --kill-loop run")
class GangScheduling(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ft-gang-e2e-")
        cls.csv = os.path.join(cls.tmp, "toy.csv")
        toy_csv(cls.csv, rows=800)
        cls.ftd = Daemon(cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.ftd.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_world_size_2_gets_both_local_workers_with_ranks_0_and_1(self):
        # Long enough (~2 s) for rank 1 to pick up its lease (idle workers ask every 250 ms)
        # while a trainer without data parallelism runs rank 0 alone; the data-parallel trainer
        # makes rank 0 wait for rank 1 at the store anyway.
        job = ft_client.submit(self.ftd.stub, spec(self.csv, 2, 150))
        self.assertEqual(job.spec.world_size, 2)
        final = self.ftd.wait_ended(job.id, 90)
        events = list(ft_client.watch(self.ftd.stub, job.id))
        started = [e.state_change.reason for e in events
                   if e.WhichOneof("kind") == "state_change"
                   and e.state_change.to == job_pb2.RUNNING]
        self.assertTrue(started, "no RUNNING event")
        self.assertIn("(rank 0)", started[0])
        self.assertIn("(rank 1)", started[0])
        key = started[0].split("rendezvous key ")[1].split()[0]
        # Each worker logs the lease it got: both ranks, one key.
        marker = "{}: attempt 1 starting as rank".format(job.id)
        def both_logged():
            logs = self.ftd.worker_logs()
            return logs if sum(marker in text for text in logs.values()) == 2 else None

        ranks = {}
        for name, text in wait_until(both_logged, 30, "both workers' lease lines").items():
            for line in text.splitlines():
                if marker in line:
                    rank = int(line.split(marker)[1].split()[0])
                    self.assertIn("rendezvous key " + key, line)
                    ranks[rank] = name
        self.assertEqual(sorted(ranks), [0, 1], ranks)
        self.assertNotEqual(ranks[0], ranks[1], "one worker per rank")
        self.assertEqual(final.state, job_pb2.SUCCEEDED, final.error)

    def test_world_size_3_on_two_workers_waits_with_the_reason(self):
        job = ft_client.submit(self.ftd.stub, spec(self.csv, 3, 2))
        waiting = wait_until(lambda: ft_client.get(self.ftd.stub, job.id).waiting_reason, 20,
                             "a waiting reason")
        self.assertIn("needs 3 workers at once; ftd has 2 connected", waiting)
        self.assertIn("--local-workers", waiting)
        self.assertEqual(ft_client.get(self.ftd.stub, job.id).state, job_pb2.QUEUED)
        ft_client.cancel(self.ftd.stub, job.id, reason="test done")
        logged = [e.log.message for e in ft_client.watch(self.ftd.stub, job.id)
                  if e.WhichOneof("kind") == "log"]
        self.assertIn(waiting, logged)


@unittest.skipIf(KILL_LOOP, "the --kill-loop run")
class RemoteGang(unittest.TestCase):
    """The same gang from two `ftworker --server` processes started by hand, as on other hosts:
    ftd has no local workers, and the rank 0 worker advertises the default host (its host name)
    when that resolves."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ft-gang-remote-")
        self.ftd = Daemon(self.tmp, local_workers=0)
        self.workers = []

    def tearDown(self):
        for worker in self.workers:
            kill_group(worker)
        self.ftd.close()
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def start_worker(self, name):
        command = [os.path.join(BIN, "ftworker"), "--server", "127.0.0.1:{}".format(self.ftd.port),
                   "--worker-id", name, "--threads", "1"]
        try:
            socket.gethostbyname(socket.gethostname())
        except OSError:
            command += ["--advertise-host", "127.0.0.1"]  # this host's name does not resolve
        log = open(os.path.join(self.tmp, name + ".log"), "w")
        self.workers.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                             start_new_session=True))

    def test_two_remote_workers_train_a_world_size_2_job(self):
        csv = os.path.join(self.tmp, "toy.csv")
        toy_csv(csv, rows=64)
        job = ft_client.submit(self.ftd.stub, spec(csv, 2, 8))
        # One worker is not a gang: the job waits, saying so, until the second one connects.
        self.start_worker("remote-a")
        waiting = wait_until(lambda: ft_client.get(self.ftd.stub, job.id).waiting_reason, 30,
                             "a waiting reason")
        self.assertIn("ftd has 1 connected", waiting)
        self.assertEqual(ft_client.get(self.ftd.stub, job.id).state, job_pb2.QUEUED)
        self.start_worker("remote-b")
        final = self.ftd.wait_ended(job.id, 90)
        self.assertEqual(final.state, job_pb2.SUCCEEDED, final.error)
        self.assertEqual(final.progress.step, 8)
        started = [e.state_change.reason for e in ft_client.watch(self.ftd.stub, job.id)
                   if e.WhichOneof("kind") == "state_change"
                   and e.state_change.to == job_pb2.RUNNING]
        self.assertTrue(started, "no RUNNING event")
        self.assertIn("remote-a", started[0])
        self.assertIn("remote-b", started[0])
        self.assertTrue(os.path.exists(os.path.join(final.output_dir, "model.safetensors")))


def read_parameters(folder):
    torch = require_module("torch", "python3-torch")
    import safetensors_file  # noqa: E402
    return safetensors_file.read_safetensors(os.path.join(folder, "model.safetensors"), torch)


@unittest.skipUnless(KILL_LOOP, "only with --kill-loop")
class GangKillLoop(unittest.TestCase):
    """A random rank killed with SIGKILL again and again loses nothing."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ft-gang-kill-")

    def tearDown(self):
        if not os.environ.get("FT_KEEP_TEST_DIRS"):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def train(self, name, kills):
        tmp = os.path.join(self.tmp, name)
        os.makedirs(tmp)
        csv = os.path.join(tmp, "toy.csv")  # inside this ftd's data root
        toy_csv(csv, rows=384)
        ftd = Daemon(tmp, ["--lease-timeout-seconds", "3", "--max-job-attempts", "50"])
        try:
            # 48 steps, polled every 50 ms, so that the kills land while the job runs even on a
            # quiet machine, where this tiny model takes a few milliseconds a step.
            job = ft_client.submit(ftd.stub, spec(csv, 2, 48, optimizer="sgd",
                                                  learning_rate=0.05, checkpoint_every_steps=1))
            rng = random.Random(int(os.environ.get("FT_GANG_KILL_SEED", "16")))
            done = 0
            while done < kills:
                current = ft_client.get(ftd.stub, job.id)
                if current.state != job_pb2.RUNNING or current.progress.step < 1 + 2 * done:
                    time.sleep(0.05)
                    if current.state in (job_pb2.SUCCEEDED, job_pb2.FAILED):
                        break
                    continue
                workers = local_worker_pids(ftd.process.pid)
                if len(workers) < 2:
                    time.sleep(0.2)
                    continue
                os.kill(rng.choice(workers), signal.SIGKILL)
                done += 1
            final = ftd.wait_ended(job.id, 240)
            self.assertEqual(final.state, job_pb2.SUCCEEDED, final.error)
            if kills:
                self.assertGreater(final.attempt, 1, "no kill landed while the job ran")
            return final
        finally:
            ftd.close()

    def test_kill_a_random_rank_in_a_loop_ends_with_the_uninterrupted_parameters(self):
        clean = self.train("clean", 0)
        killed = self.train("killed", int(os.environ.get("FT_GANG_KILLS", "3")))
        a = read_parameters(clean.output_dir)
        b = read_parameters(killed.output_dir)
        self.assertEqual(sorted(a), sorted(b))
        for name in a:
            scale = max(1e-12, float(a[name].abs().max()))
            self.assertLessEqual(float((a[name] - b[name]).abs().max()), 1e-6 * scale, name)
        print("kill loop: {} attempts, parameters equal to the uninterrupted run's".format(
            killed.attempt), flush=True)


def local_worker_pids(ftd_pid):
    """The pids of ftd's children (its local ftworkers), from /proc."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{}/stat".format(entry)) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == ftd_pid:
            pids.append(int(entry))
    return pids


if __name__ == "__main__":
    unittest.main()
