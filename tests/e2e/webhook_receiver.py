"""A real local HTTP webhook receiver for the tests: it records every request (headers and body)
and answers as told: "ok" (204), "error" (500), "reject" (400) or "hang" (holds the request
until released, then 204). It can be stopped and started again on the same port, to play a
receiver that goes down and comes back."""
import hashlib
import hmac
import http.server
import json
import ssl
import threading


class Receiver:
    def __init__(self, port, tls=None):
        """tls: (certificate file, key file) to serve https."""
        self.port = port
        self.tls = tls
        self.mode = "ok"
        self.requests = []  # dicts: path, delivery, event, signature, body, status
        self.lock = threading.Lock()
        self.holding = 0
        self.release = threading.Event()
        self._server = None
        self._thread = None

    def url(self, path):
        scheme = "https" if self.tls else "http"
        return "{}://127.0.0.1:{}{}".format(scheme, self.port, path)

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                mode = receiver.mode
                if mode == "hang":
                    with receiver.lock:
                        receiver.holding += 1
                    receiver.release.wait(60)
                    with receiver.lock:
                        receiver.holding -= 1
                status = {"ok": 204, "hang": 204, "error": 500, "reject": 400}[mode]
                with receiver.lock:
                    receiver.requests.append({
                        "path": self.path, "delivery": self.headers.get("ftd-Delivery"),
                        "event": self.headers.get("ftd-Event"),
                        "signature": self.headers.get("ftd-Signature"), "body": body,
                        "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def snapshot(self):
        with self.lock:
            return list(self.requests)


def verify_signature(secret, header, body):
    """A receiver's check (docs/webhooks.md): the HMAC-SHA256 of "<t>.<body>" under the secret,
    compared in constant time. Returns the timestamp, or None when it does not verify."""
    parts = dict(item.split("=", 1) for item in (header or "").split(","))
    expected = hmac.new(secret, parts.get("t", "").encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        return None
    return int(parts["t"])


def event_key(request):
    """(job id, event seq, path): what one delivery is about."""
    body = json.loads(request["body"])
    return body["job"]["id"], int(body["event"]["seq"]), request["path"]
