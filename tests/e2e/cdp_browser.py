"""A headless Chromium driven through the DevTools protocol over --remote-debugging-pipe (fd 3
in, fd 4 out, NUL-terminated JSON messages): no driver library, no port, nothing downloaded."""
import base64
import fcntl
import json
import os
import shutil
import subprocess
import time


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _move_above_9(fd):
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    def __init__(self, chromium, profile_dir, width=1200, height=1000):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The ends Chromium gets, moved above 9 so that placing them on 3 and 4 overwrites none.
        to_browser_r = _move_above_9(to_browser_r)
        from_browser_w = _move_above_9(from_browser_w)
        args = ["--headless=new", "--remote-debugging-pipe", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--user-data-dir=" + profile_dir, "about:blank"]
        if os.geteuid() == 0:
            args.insert(0, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # bash (dash takes one-digit fds only) puts the pipe ends on the fds Chromium reads and writes.
        script = 'exec "$0" "$@" 3<&{0} 4>&{1} {0}<&- {1}>&-'.format(to_browser_r,
                                                                    from_browser_w)
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", script, chromium, *args], pass_fds=(to_browser_r, from_browser_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self.call("Target.attachToTarget",
                                  {"targetId": target, "flatten": True})["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
                  session=True)

    def call(self, method, params=None, session=False, timeout=30):
        """The result of one DevTools command (events that arrive meanwhile are dropped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.time() + timeout
        while time.time() < deadline:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") != self._next_id:
                    continue
                if "error" in reply:
                    raise AssertionError("{}: {}".format(method, reply["error"]))
                return reply["result"]
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise AssertionError("chromium exited during " + method)
            self._buffer += chunk
        raise AssertionError("chromium did not answer " + method)

    def navigate(self, url):
        self.call("Page.navigate", {"url": url}, session=True)

    def eval(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise AssertionError("{}: {}".format(expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def wait_for(self, expression, timeout, what):
        """The first truthy value of `expression`, polled; an exception counts as not yet (the
        page may still be loading)."""
        deadline = time.time() + timeout
        last_error = ""
        while time.time() < deadline:
            try:
                value = self.eval(expression)
                if value:
                    return value
            except AssertionError as error:
                last_error = str(error)
            time.sleep(0.1)
        raise AssertionError("timed out waiting for {} {}".format(what, last_error))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
