"""What the console tests share: a real ftd with bearer tokens and --console-listen, HTTP calls
of its JSON API, its event stream read line by line, and a small job spec."""
import http.client
import json
import os

from ftd_harness import start_ftd_ports

# Resolved: ftd stores the dataset paths of a spec normalized.
DATA = os.path.realpath(os.environ.get("FT_SHARED_DATA", "../shared/data"))
TOKENS = {"alice": "alice-secret-token", "bob": "bob-secret-token", "root": "root-secret-token"}


def start_console_ftd(tmp, log, extra_args=()):
    """ftd with three users (alice and bob: role user; root: admin) and the console on a free
    port. Returns (process, api_port, console_port)."""
    token_file = os.path.join(tmp, "tokens")
    with open(token_file, "w") as f:
        for user, token in TOKENS.items():
            f.write("{} {} {}\n".format(token, user, "admin" if user == "root" else "user"))
    os.chmod(token_file, 0o600)
    data_roots = ["--data-root", DATA] if os.path.isdir(DATA) else []
    process, ports = start_ftd_ports(
        tmp, log, ["--token-file", token_file, "--console-listen", "127.0.0.1:0", *data_roots,
                   *extra_args])
    return process, ports[0], ports[2]


def training_csv(tmp):
    """Real data when ../shared/data is here (SMS spam), else a generated toy set."""
    real = os.path.join(DATA, "sms_spam", "sms_spam.csv")
    if os.path.exists(real):
        return real
    path = os.path.join(tmp, "toy.csv")
    with open(path, "w") as f:
        f.write("text,label\n")
        for i in range(400):
            f.write("{} message number {},{}\n".format("win cash" if i % 2 else "see you", i,
                                                        i % 2))
    return path


def job_spec(train, max_steps, eval_every_steps, name):
    return {"model": "scratch:bloom-tiny", "dataset": {"train": train},
            "micro_batch_size": 8, "accumulation_steps": 2, "epochs": 1,
            "max_steps": max_steps, "max_seq_length": 64, "log_every_steps": 1,
            "eval_every_steps": eval_every_steps, "max_eval_examples": 64,
            "display_name": name}


class Console:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, user=None, body=None, token=None, headers=None):
        """(status, headers, parsed JSON or text) of one call; `user` picks a token of TOKENS."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = dict(headers or {})
        if token is None and user is not None:
            token = TOKENS[user]
        if token is not None:
            sent["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            sent.setdefault("Content-Type", "application/json")
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        connection.close()
        content_type = response.getheader("Content-Type", "")
        parsed = json.loads(raw) if content_type.startswith("application/json") else raw
        return response.status, response, parsed

    def events(self, job_id, user, after_seq=0):
        """The job's event stream: yields (kind, payload) with kind 'event', 'error' or
        'comment', until ftd ends the stream."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", "/api/v1/jobs/{}/events?after_seq={}".format(job_id, after_seq),
                           headers={"Authorization": "Bearer " + TOKENS[user]})
        response = connection.getresponse()
        if response.status != 200:
            raise AssertionError("events: HTTP {} {}".format(response.status, response.read()))
        assert response.getheader("Content-Type") == "text/event-stream"
        name, data = "message", ""
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line.startswith(":"):
                yield "comment", line
            elif line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data += line[6:]
            elif line == "" and data:
                yield ("error" if name == "error" else "event"), json.loads(data)
                name, data = "message", ""
        connection.close()
