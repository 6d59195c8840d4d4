"""What the end-to-end tests share: free ports, polling, and a real ftd started on loopback with
ports chosen by the kernel and read back from its --port-file."""
import os
import signal
import socket
import subprocess
import time

BIN = os.environ.get("FT_BIN_DIR", "build/bin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout, what, poll=0.2):
    """predicate()'s first truthy value, polled until `timeout` seconds have passed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError("timed out waiting for " + what)


def start_ftd(tmp, log, extra_args=(), timeout=30):
    """Starts ftd (home in tmp/home, no auth on loopback, one worker thread, tmp as a data root)
    in its own process group. Returns (process, api_port, metrics_port)."""
    process, ports = start_ftd_ports(tmp, log, ["--insecure-no-auth", *extra_args], timeout)
    return process, ports[0], ports[1]


def start_ftd_ports(tmp, log, extra_args=(), timeout=30):
    """Starts ftd as start_ftd does, with only `extra_args` for authentication (--token-file or
    --insecure-no-auth). Returns (process, ports): the numbers of its --port-file, i.e. the API
    and metrics ports, and the console's with --console-listen."""
    port_file = os.path.join(tmp, "ports")
    process = subprocess.Popen(
        [os.path.join(BIN, "ftd"), "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
         "--home", os.path.join(tmp, "home"), "--port-file", port_file, "--worker-threads", "1",
         "--data-root", tmp, *extra_args],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def read_ports():
        if process.poll() is not None:
            raise AssertionError("ftd exited with status {}".format(process.returncode))
        if not os.path.exists(port_file):
            return None
        with open(port_file) as f:
            return f.read().split()

    ports = [int(p) for p in wait_until(read_ports, timeout, "ftd to start")]
    return process, ports


def kill_group(process):
    """SIGKILL to the process's whole group (ftd and its local workers), then reap it."""
    if process is None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()
