#!/usr/bin/python3
"""A Python client of ftd's public gRPC API: submit a job, watch it with a progress line, cancel.

Stubs are generated from proto/ with Debian's protoc and grpc_python_plugin (python3-grpc-tools
bundles protoc 3.5, which refuses proto3 `optional`):

    protoc -I proto --python_out=OUT --grpc_out=OUT \\
        --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin \\
        proto/ft/v1/*.proto
    protoc -I proto/grpc --python_out=OUT --grpc_out=OUT \
        --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin proto/grpc/health/v1/health.proto

(the health stubs land in OUT/health/v1, since a top-level `grpc` folder would shadow grpcio),

then, with OUT on PYTHONPATH:

    # submit and watch until the job ends (exit 0 when it SUCCEEDED)
    PYTHONPATH=OUT /usr/bin/python3 client/python/ft_client.py --server 127.0.0.1:50051 \\
        --train ../shared/data/sms_spam/sms_spam.csv --max-steps 50
    # submit, watch, and cancel once 5 optimizer steps are done
    ... ft_client.py --train data.csv --cancel-after-steps 5
    # cancel a job by id
    ... ft_client.py --cancel job-7
    # is ftd serving? (grpc.health.v1; exit 0 when SERVING)
    ... ft_client.py --health

Every unary call has a deadline (--timeout); the channel pings an idle connection (keepalive) and
accepts messages up to 16 MiB, as ftctl does.
"""
import argparse
import hashlib
import os
import sys
import uuid

import grpc

from ft.v1 import artifact_pb2
from ft.v1 import finetune_service_pb2 as service_pb2
from ft.v1 import finetune_service_pb2_grpc as service_grpc
from ft.v1 import job_pb2

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30000),
    ("grpc.keepalive_timeout_ms", 10000),
    ("grpc.keepalive_permit_without_calls", 1),
]
FINAL_STATES = (job_pb2.SUCCEEDED, job_pb2.FAILED, job_pb2.CANCELLED)


def connect(server):
    """An insecure channel to ftd with the limits above."""
    return grpc.insecure_channel(server, options=CHANNEL_OPTIONS)


def submit(stub, spec, request_id=None, timeout=10):
    """Submits `spec` (a job_pb2.JobSpec); returns the Job. Safe to retry with the same id."""
    request = service_pb2.SubmitJobRequest(spec=spec, request_id=request_id or uuid.uuid4().hex)
    return stub.SubmitJob(request, timeout=timeout).job


def get(stub, job_id, timeout=10):
    return stub.GetJob(service_pb2.GetJobRequest(job_id=job_id), timeout=timeout)


def cancel(stub, job_id, reason="", timeout=10):
    """Asks ftd to cancel; returns the Job (CANCELLED, or CANCELLING until the worker stops).
    FAILED_PRECONDITION (grpc.RpcError) for a job that already ended."""
    request = service_pb2.CancelJobRequest(job_id=job_id, reason=reason)
    return stub.CancelJob(request, timeout=timeout)


def watch(stub, job_id, after_seq=0):
    """Yields the job's events from after_seq until the job ends (a stream: no deadline)."""
    yield from stub.WatchJob(service_pb2.WatchJobRequest(job_id=job_id, after_seq=after_seq))


def list_artifacts(stub, job_id, timeout=600):
    """The job's files on ftd (artifact_pb2.Artifact: name, size_bytes, sha256, kind). The first
    listing of a large model hashes it on ftd, hence the long deadline."""
    request = artifact_pb2.ListArtifactsRequest(job_id=job_id)
    return list(stub.ListArtifacts(request, timeout=timeout).artifacts)


def download_artifact(stub, job_id, artifact, path):
    """Downloads `artifact` (from list_artifacts) to `path`, through `path`.part: a .part left by
    a cut-off call is resumed from its size. Raises ValueError, removing the .part, when the
    SHA-256 of the assembled file is not the listed one."""
    part = path + ".part"
    offset = os.path.getsize(part) if os.path.exists(part) else 0
    if offset > artifact.size_bytes:
        os.remove(part)
        offset = 0
    request = artifact_pb2.DownloadArtifactRequest(job_id=job_id, name=artifact.name,
                                                   offset=offset)
    with open(part, "ab") as out:
        for chunk in stub.DownloadArtifact(request):
            if chunk.offset != out.tell():
                raise ValueError("%s: chunk at %d, expected %d" % (artifact.name, chunk.offset,
                                                                   out.tell()))
            out.write(chunk.data)
    digest = hashlib.sha256()
    with open(part, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != artifact.sha256:
        os.remove(part)
        raise ValueError("%s: SHA-256 of the downloaded bytes differs from ftd's" % artifact.name)
    os.replace(part, path)


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer TOKEN` to every call (ftd's authentication)."""

    def __init__(self, token):
        self._header = ("authorization", "Bearer " + token)

    def _with_token(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return _Details(details.method, details.timeout, metadata, details.credentials,
                        getattr(details, "wait_for_ready", None),
                        getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


class _Details(grpc.ClientCallDetails):
    def __init__(self, method, timeout, metadata, credentials, wait_for_ready, compression):
        self.method, self.timeout, self.metadata = method, timeout, metadata
        self.credentials, self.wait_for_ready, self.compression = (credentials, wait_for_ready,
                                                                   compression)


def with_token(channel, token):
    """`channel` sending the bearer token on every call (unchanged when token is empty)."""
    return grpc.intercept_channel(channel, _Bearer(token)) if token else channel
def health(channel, service="", timeout=5):
    """grpc.health.v1 Check: the status name ("SERVING", "NOT_SERVING", ...)."""
    from health.v1 import health_pb2, health_pb2_grpc  # generated with -I proto/grpc
    stub = health_pb2_grpc.HealthStub(channel)
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def progress_line(p, width=20):
    """One line for a TrainingProgress: a bar, step, loss, throughput and time left."""
    if p.total_steps > 0:
        done = min(1.0, p.step / p.total_steps)
        filled = int(round(done * width))
        line = "[{}{}] {:3.0f}% step {}/{}".format(
            "#" * filled, "." * (width - filled), 100 * done, p.step, p.total_steps)
    else:
        line = "step {}".format(p.step)
    line += " loss {:.4f} {:.1f} samples/s".format(p.loss, p.samples_per_second)
    if p.eta_seconds > 0:
        line += " eta {:.0f}s".format(p.eta_seconds)
    return line


def describe(event):
    kind = event.WhichOneof("kind")
    if kind == "state_change":
        change = event.state_change
        return "state {} -> {}: {}".format(job_pb2.JobState.Name(getattr(change, "from")),
                                           job_pb2.JobState.Name(change.to), change.reason)
    if kind == "progress":
        return progress_line(event.progress)
    if kind == "evaluation":
        e = event.evaluation
        line = "eval {}: accuracy {:.2%}".format(e.split, e.accuracy)
        if e.classes:  # per-class metrics (workers of this version)
            line += " macro-F1 {:.4f}".format(e.macro_f1)
        return line + " loss {:.4f}".format(e.loss)
    if kind == "checkpoint_saved":
        c = event.checkpoint_saved
        return "checkpoint at step {} ({:.1f} MB, {:.2f} s)".format(c.step, c.bytes / 1e6,
                                                                    c.seconds)
    return "{}: {}".format(event.log.level, event.log.message)


def follow(stub, job_id, out, live, cancel_after_steps=0):
    """Prints the job's events until it ends; on a terminal the progress line is redrawn in
    place. Cancels the job once `cancel_after_steps` optimizer steps are done (0: never)."""
    cancel_sent = False
    for event in watch(stub, job_id):
        if event.WhichOneof("kind") == "progress":
            if live:
                out.write("\r\033[K" + progress_line(event.progress))
                out.flush()
            else:
                print("[{} #{}] {}".format(job_id, event.seq, describe(event)), file=out,
                      flush=True)
            if cancel_after_steps and not cancel_sent and event.progress.step >= cancel_after_steps:
                job = cancel(stub, job_id, reason="ft_client.py --cancel-after-steps")
                print("cancel requested: {}".format(job_pb2.JobState.Name(job.state)), file=out,
                      flush=True)
                cancel_sent = True
            continue
        if live:
            out.write("\r\033[K")
        print("[{} #{}] {}".format(job_id, event.seq, describe(event)), file=out, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("FT_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--timeout", type=float, default=10, help="deadline of each unary call")
    parser.add_argument("--model", default="scratch:bloom-tiny")
    parser.add_argument("--train", help="training data (CSV, TSV, JSONL); submits a job")
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--accumulation-steps", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--world-size", type=int, default=1,
                        help="data parallel: workers that train the job together")
    parser.add_argument("--token", default=os.environ.get("FTD_TOKEN", ""),
                        help="bearer token (default: $FTD_TOKEN)")
    parser.add_argument("--log-every-steps", type=int, default=0)
    parser.add_argument("--cancel-after-steps", type=int, default=0,
                        help="cancel the submitted job once this many steps are done")
    parser.add_argument("--cancel", metavar="JOB_ID", help="cancel this job and exit")
    parser.add_argument("--health", action="store_true", help="print ftd's health and exit")
    args = parser.parse_args()
    if not (args.train or args.cancel or args.health):
        parser.error("one of --train, --cancel or --health is required")

    with connect(args.server) as channel:
        stub = service_grpc.FinetuneServiceStub(with_token(channel, args.token))
        try:
            if args.health:
                status = health(channel, timeout=args.timeout)
                print(status)
                return 0 if status == "SERVING" else 1
            if args.cancel:
                job = cancel(stub, args.cancel, reason="ft_client.py --cancel",
                             timeout=args.timeout)
                print(job.id, job_pb2.JobState.Name(job.state))
                return 0
            spec = job_pb2.JobSpec(
                model=args.model,
                dataset=job_pb2.DatasetSpec(train=os.path.abspath(args.train)),
                micro_batch_size=args.micro_batch_size,
                accumulation_steps=args.accumulation_steps,
                epochs=1,
                max_steps=args.max_steps,
                log_every_steps=args.log_every_steps,
                world_size=args.world_size,
            )
            job = submit(stub, spec, timeout=args.timeout)
            print("submitted", job.id, flush=True)
            if job.spec.world_size > 1:
                print("world size", job.spec.world_size, flush=True)
            follow(stub, job.id, sys.stdout, sys.stdout.isatty(), args.cancel_after_steps)
            final = get(stub, job.id, timeout=args.timeout)
        except grpc.RpcError as error:
            print("ft_client.py: {}: {}".format(error.code().name, error.details()),
                  file=sys.stderr)
            return 3 if error.code() in (grpc.StatusCode.UNAVAILABLE,
                                         grpc.StatusCode.DEADLINE_EXCEEDED) else 2
        print("final state", job_pb2.JobState.Name(final.state))
        return {job_pb2.SUCCEEDED: 0, job_pb2.CANCELLED: 4}.get(final.state, 1)


if __name__ == "__main__":
    sys.exit(main())
