"""Start fs_cc's real processes for end-to-end tests and stop them afterwards."""

import os
import signal
import socket
import subprocess
import sys

from tests.polling import wait_until  # noqa: F401  (re-exported for the e2e tests)


def free_port():
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]




def port_open(port):
    """True when something accepts on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Processes:
    """Named `fs-cc` child processes sharing one environment; logs go to files under tmp."""

    def __init__(self, tmp_path, env):
        self.tmp_path = tmp_path
        self.env = dict(os.environ, PYTHONUNBUFFERED="1", **env)
        self.children = {}

    def start(self, name, *argv):
        """Start `fs-cc ARGV...` in the background."""
        log = open(self.tmp_path / f"{name}.log", "wb")
        process = subprocess.Popen([sys.executable, "-m", "fs_cc.cli", *argv], env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.children[name] = process
        return process

    def run(self, *argv, timeout=60):
        """Run `fs-cc ARGV...` to completion and return the CompletedProcess."""
        return subprocess.run([sys.executable, "-m", "fs_cc.cli", *argv], env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def log(self, name):
        """What a child printed so far."""
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def alive(self, name):
        """True while the named child runs."""
        return self.children[name].poll() is None

    def stop_all(self):
        """SIGTERM every child, then SIGKILL what did not stop."""
        for process in self.children.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.children.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
