#!/usr/bin/python3
"""A local stand-in for the Hugging Face Hub and a dataset publisher, for tests: the same URL
layout and headers that ftworker's fetch code relies on, served from local files.

  GET  /api/models/ORG/NAME/revision/REV   {"sha": COMMIT, "siblings": [{"rfilename": ...}]}
  HEAD/GET /ORG/NAME/resolve/REV/FILE      small files: 200, ETag = git blob SHA-1
                                           *.safetensors: 302 to /lfs/SHA256 with X-Linked-Etag
                                           and X-Linked-Size (as the Hub's LFS files do)
  GET  /lfs/SHA256, /static paths          the bytes, with Range support

usage: fake_hub.py --port-file F --log F [--repo ORG/NAME=DIR]... [--static URLPATH=FILE]...
                   [--token T] [--cut-after N] [--corrupt FILE]
Every request is appended to --log as a JSON line {method, path, range, status}.
"""
import argparse
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Hub:
    def __init__(self, args):
        self.repos = {}
        for item in args.repo:
            repo_id, folder = item.split("=", 1)
            files = {name: open(os.path.join(folder, name), "rb").read()
                     for name in sorted(os.listdir(folder))
                     if os.path.isfile(os.path.join(folder, name))}
            commit = hashlib.sha1(repo_id.encode()).hexdigest()
            self.repos[repo_id] = (commit, files)
        self.static = {}
        for item in args.static:
            path, file = item.split("=", 1)
            self.static[path] = open(file, "rb").read()
        self.lfs = {}
        for commit, files in self.repos.values():
            for name, data in files.items():
                if name.endswith(".safetensors"):
                    self.lfs[hashlib.sha256(data).hexdigest()] = (name, data)
        self.token = args.token
        self.cut_after = args.cut_after
        self.corrupt = args.corrupt
        self.cut_done = set()
        self.lock = threading.Lock()
        self.log = open(args.log, "a")


def make_handler(hub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def record(self, status):
            with hub.lock:
                hub.log.write(json.dumps({"method": self.command, "path": self.path,
                                          "range": self.headers.get("Range"),
                                          "status": status}) + "\n")
                hub.log.flush()

        def reply(self, status, headers=None, body=b"", send_body=True):
            self.record(status)
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and self.command != "HEAD":
                self.wfile.write(body)

        def send_bytes(self, data, key, extra=None):
            start = 0
            status = 200
            headers = dict(extra or {})
            requested = self.headers.get("Range")
            if requested and requested.startswith("bytes="):
                start = int(requested[6:].split("-")[0])
                if start >= len(data):
                    return self.reply(416, {"Content-Range": "bytes */%d" % len(data)})
                status = 206
                headers["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
            body = data[start:]
            if key in hub.corrupt:
                body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
            cut = hub.cut_after and key not in hub.cut_done and self.command == "GET" \
                and len(body) > hub.cut_after
            self.record(status)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if cut:
                # The connection drops mid-file, once per file: the client must resume.
                hub.cut_done.add(key)
                self.wfile.write(body[:hub.cut_after])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def authorised(self):
            if not hub.token:
                return True
            if self.headers.get("Authorization") == "Bearer " + hub.token:
                return True
            self.reply(401, {"Content-Type": "application/json"}, b'{"error":"unauthorized"}')
            return False

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = self.path.split("?")[0]
            if path in hub.static:
                return self.send_bytes(hub.static[path], path)
            parts = path.strip("/").split("/")
            if parts[:2] == ["api", "models"] and len(parts) == 6 and parts[4] == "revision":
                if not self.authorised():
                    return
                repo = hub.repos.get(parts[2] + "/" + parts[3])
                if repo is None:
                    return self.reply(404, {}, b'{"error":"Repository not found"}')
                commit, files = repo
                if parts[5] not in ("main", commit):
                    return self.reply(404, {}, b'{"error":"Revision not found"}')
                body = json.dumps({"id": parts[2] + "/" + parts[3], "sha": commit,
                                   "siblings": [{"rfilename": n} for n in files]}).encode()
                return self.reply(200, {"Content-Type": "application/json"}, body)
            if parts[:1] == ["lfs"] and len(parts) == 2 and parts[1] in hub.lfs:
                name, data = hub.lfs[parts[1]]
                return self.send_bytes(data, name)
            if len(parts) >= 5 and parts[2] == "resolve":
                if not self.authorised():
                    return
                repo = hub.repos.get(parts[0] + "/" + parts[1])
                name = "/".join(parts[4:])
                if repo is None or parts[3] not in ("main", repo[0]) or name not in repo[1]:
                    return self.reply(404, {"X-Error-Code": "EntryNotFound"})
                commit, files = repo
                data = files[name]
                if name.endswith(".safetensors"):
                    digest = hashlib.sha256(data).hexdigest()
                    return self.reply(302, {"Location": "/lfs/" + digest,
                                            "X-Linked-Etag": '"%s"' % digest,
                                            "X-Linked-Size": str(len(data)),
                                            "X-Repo-Commit": commit,
                                            "ETag": '"%s"' % git_blob_sha1(b"pointer")})
                return self.send_bytes(data, name, {"ETag": '"%s"' % git_blob_sha1(data),
                                                    "X-Repo-Commit": commit})
            self.reply(404)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--repo", action="append", default=[])
    parser.add_argument("--static", action="append", default=[])
    parser.add_argument("--token", default="")
    parser.add_argument("--cut-after", type=int, default=0)
    parser.add_argument("--corrupt", action="append", default=[])
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Hub(args)))
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
