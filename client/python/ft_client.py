#!/usr/bin/python3
"""A minimal Python client of ftd's public gRPC API: submit a job, follow its events.

Stubs are generated from proto/ with Debian's protoc and grpc_python_plugin:

    protoc -I proto --python_out=OUT --grpc_out=OUT \
        --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin proto/ft/v1/*.proto

then run with OUT on PYTHONPATH, e.g.

    PYTHONPATH=OUT /usr/bin/python3 client/python/ft_client.py --server 127.0.0.1:50051 \
        --train ../shared/data/sms_spam/sms_spam.csv --max-steps 50
"""
import argparse
import os
import sys
import uuid

import grpc

from ft.v1 import finetune_service_pb2 as service_pb2
from ft.v1 import finetune_service_pb2_grpc as service_grpc
from ft.v1 import job_pb2


def submit(stub, spec, request_id=None, timeout=10):
    """Submits `spec` (a job_pb2.JobSpec); returns the Job. Safe to retry with the same id."""
    request = service_pb2.SubmitJobRequest(spec=spec, request_id=request_id or uuid.uuid4().hex)
    return stub.SubmitJob(request, timeout=timeout).job


def watch(stub, job_id, after_seq=0):
    """Yields the job's events from after_seq until the job ends."""
    yield from stub.WatchJob(service_pb2.WatchJobRequest(job_id=job_id, after_seq=after_seq))


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


def describe(event):
    kind = event.WhichOneof("kind")
    if kind == "state_change":
        change = event.state_change
        return "state {} -> {}: {}".format(job_pb2.JobState.Name(getattr(change, "from")),
                                           job_pb2.JobState.Name(change.to), change.reason)
    if kind == "progress":
        p = event.progress
        return "step {}/{} loss {:.4f} {:.1f} samples/s".format(
            p.step, p.total_steps, p.loss, p.samples_per_second)
    if kind == "evaluation":
        e = event.evaluation
        line = "eval {}: accuracy {:.2%}".format(e.split, e.accuracy)
        if e.classes:  # per-class metrics (workers of this version)
            line += " macro-F1 {:.4f}".format(e.macro_f1)
        return line + " loss {:.4f}".format(e.loss)
    return "{}: {}".format(event.log.level, event.log.message)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("FT_SERVER", "127.0.0.1:50051"))
    parser.add_argument("--model", default="scratch:bloom-tiny")
    parser.add_argument("--train", required=True)
    parser.add_argument("--micro-batch-size", type=int, default=8)
    parser.add_argument("--accumulation-steps", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=0)
    parser.add_argument("--token", default=os.environ.get("FTD_TOKEN", ""),
                        help="bearer token (default: $FTD_TOKEN)")
    args = parser.parse_args()

    spec = job_pb2.JobSpec(
        model=args.model,
        dataset=job_pb2.DatasetSpec(train=os.path.abspath(args.train)),
        micro_batch_size=args.micro_batch_size,
        accumulation_steps=args.accumulation_steps,
        epochs=1,
        max_steps=args.max_steps,
    )
    with grpc.insecure_channel(args.server) as channel:
        stub = service_grpc.FinetuneServiceStub(with_token(channel, args.token))
        job = submit(stub, spec)
        print("submitted", job.id, flush=True)
        for event in watch(stub, job.id):
            print("[{} #{}] {}".format(job.id, event.seq, describe(event)), flush=True)
        final = stub.GetJob(service_pb2.GetJobRequest(job_id=job.id), timeout=10)
        print("final state", job_pb2.JobState.Name(final.state))
        return 0 if final.state == job_pb2.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
