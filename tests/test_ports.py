"""Listening ports: a restart right after a stop binds again (SO_REUSEADDR, TIME-WAIT for real),
and a port that cannot be had is one clear line naming it and its setting, never a traceback.

Each server runs for real: the engine's control server and outbound ESL server and the emulator's
event socket in this process, `fs-cc web`, `engine` and `emulator` as child processes.
"""

import errno
import http.client
import os
import signal
import socket
import subprocess
import sys

import pytest

from fs_cc.config import Settings
from fs_cc.control import ControlServer
from fs_cc.emulator import Emulator, EmulatorConfig
from fs_cc.esl.outbound import OutboundServer
from fs_cc.listen import PortUnavailable, listen
from fs_cc.up import busy_ports
from tests.e2e.procs import free_port, port_open
from tests.esl.test_outbound import FakeChannel
from tests.polling import wait_until

TIME_WAIT = "06"  # the state column of /proc/net/tcp


def time_wait_on(port):
    """How many connections with local port ``port`` the kernel holds in TIME-WAIT."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == TIME_WAIT:
                count += 1
    return count


def plain_bind_refused(port):
    """Whether binding ``port`` without SO_REUSEADDR fails as "in use" (TIME-WAIT's mark)."""
    with socket.socket() as plain:
        try:
            plain.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def read_until_closed(sock):
    """Read until the server closes its side (it closes first), then close ours."""
    sock.settimeout(10)
    while sock.recv(4096):
        pass
    sock.close()


# -- each server: start on a port, one connection the server closes first, stop --------------

class ControlCase:
    """The engine's control interface (gevent WSGIServer); HTTP/1.0 makes it close first."""

    def start(self, port):
        self.server = ControlServer(object(), "127.0.0.1", port, secret="s" * 32)
        self.server.start()
        return self.server.address[1]

    def connection_closed_by_server(self, port):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n")
        read_until_closed(sock)

    def stop(self):
        self.server.stop(timeout=1)


class OutboundCase:
    """The engine's outbound ESL server: the call's handler returns, so it hangs up first."""

    def start(self, port):
        self.server = OutboundServer("127.0.0.1", port, lambda session: None, linger_wait=0.1)
        self.server.start()
        return self.server.address[1]

    def connection_closed_by_server(self, port):
        channel = FakeChannel(("127.0.0.1", port))
        channel.handshake()
        read_until_closed(channel.sock)

    def stop(self):
        self.server.stop(timeout=1)


class EmulatorCase:
    """The emulator's event socket: a wrong password and it disconnects, as FreeSWITCH does."""

    def start(self, port):
        self.emulator = Emulator(EmulatorConfig(port=port))
        self.emulator.start()
        return self.emulator.esl_address[1]

    def connection_closed_by_server(self, port):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"auth wrong\n\n")
        read_until_closed(sock)

    def stop(self):
        self.emulator.stop()


class WebCase:
    """`fs-cc web`, a child process as `up` starts it; HTTP/1.0 makes it close first."""

    def __init__(self, tmp_path):
        self.env = cli_env(tmp_path)

    def start(self, port):
        port = port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "fs_cc.cli", "web", "--port", str(port)], env=self.env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: port_open(port) or self.process.poll() is not None, 60,
                   "fs-cc web listening")
        assert self.process.poll() is None, self.process.stderr.read()
        return port

    def connection_closed_by_server(self, port):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"GET /static/style.css HTTP/1.0\r\nHost: x\r\n\r\n")
        read_until_closed(sock)

    def stop(self, signum=signal.SIGINT):
        self.process.send_signal(signum)
        try:
            status = self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"fs-cc web still running 20 s after {signum.name}: "
                        f"{self.process.stderr.read()}")
        assert status == 0, self.process.stderr.read()


def cli_env(tmp_path, **extra):
    """The environment of an `fs-cc` child confined to ``tmp_path``."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", FS_CC_VAR_DIR=str(tmp_path / "var"), **extra)
    env.pop("FS_CC_CONFIG", None)
    return env


@pytest.fixture(params=["control", "outbound", "emulator", "web"])
def server_case(request, tmp_path):
    """One of our servers, started and stopped by the test."""
    cases = {"control": ControlCase, "outbound": OutboundCase, "emulator": EmulatorCase,
             "web": lambda: WebCase(tmp_path)}
    return cases[request.param]()


def test_given_a_stopped_server_with_connections_in_time_wait_when_restarted_then_it_listens(
        server_case):
    port = server_case.start(0)
    server_case.connection_closed_by_server(port)
    server_case.stop()
    wait_until(lambda: time_wait_on(port), 5, f"a connection of port {port} in TIME-WAIT")
    assert plain_bind_refused(port)  # the kernel's refusal that SO_REUSEADDR lifts

    # what `up` probes before it starts anything: a port in TIME-WAIT is not "in use"
    settings = Settings(var_dir=None, database_url="", broker_url="", redis_url=None,
                        secret_key="", web_port=port, control_port=free_port(),
                        outbound_port=free_port(), emulator_port=free_port())
    assert busy_ports(settings) == []

    assert server_case.start(port) == port
    try:
        assert time_wait_on(port)  # restarted while the old connection still lingers
        server_case.connection_closed_by_server(port)
    finally:
        server_case.stop()


def test_given_a_port_something_listens_on_then_listen_and_ups_probe_still_refuse_it():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        with pytest.raises(PortUnavailable) as refused:
            listen("127.0.0.1", port, "FS_CC_CONTROL_PORT")
        settings = Settings(var_dir=None, database_url="", broker_url="", redis_url=None,
                            secret_key="", web_port=free_port(), control_port=port,
                            outbound_port=free_port(), emulator_port=free_port())
        busy = busy_ports(settings)

    assert str(refused.value) == (f"127.0.0.1:{port} is already in use (is another fs-cc "
                                  f"running?); choose another port with FS_CC_CONTROL_PORT")
    assert [(problem.port, problem.setting) for problem in busy] == [(port, "FS_CC_CONTROL_PORT")]


def test_given_a_listening_socket_of_ours_then_it_has_so_reuseaddr():
    sock = listen("127.0.0.1", 0, "--port")
    try:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)
    finally:
        sock.close()


# -- standalone commands: one line naming the port and the setting, a non-zero status --------

@pytest.fixture
def taken_port():
    """A port something listens on for the test's duration."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        yield taken.getsockname()[1]


def run_cli(tmp_path, *argv, **env):
    """Run `fs-cc ARGV...` to completion; the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "fs_cc.cli", *argv],
                          env=cli_env(tmp_path, **env), capture_output=True, text=True,
                          timeout=60)


def assert_one_clear_line(result, port, setting):
    """The command failed with one line naming ``port`` and ``setting``, no traceback."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    problem = result.stderr.strip().splitlines()[-1]
    assert str(port) in problem and setting in problem, output
    assert problem.startswith("fs-cc: "), output


@pytest.mark.parametrize("argv, setting", [
    (["web", "--port", "{port}"], "--port"),
    (["emulator", "--port", "{port}"], "--port"),
    (["engine", "--control-port", "{port}"], "--control-port"),
    (["engine", "--outbound-port", "{port}"], "--outbound-port"),
])
@pytest.mark.parametrize("which", ["busy", "out of range"])
def test_given_a_standalone_command_on_a_port_it_cannot_have_then_one_line_names_port_and_setting(
        tmp_path, taken_port, argv, setting, which):
    port = taken_port if which == "busy" else 99999
    result = run_cli(tmp_path, *[arg.format(port=port) for arg in argv],
                     FS_CC_ESL_URL=f"127.0.0.1:{free_port()}:ClueCon",
                     FS_CC_CONTROL_PORT=str(free_port()), FS_CC_OUTBOUND_PORT=str(free_port()))

    assert_one_clear_line(result, port, setting)
    expected = "is already in use" if which == "busy" else "is not a port number (0-65535)"
    assert expected in result.stderr


def test_given_up_with_port_99999_then_it_says_so_without_starting_anything(tmp_path):
    result = run_cli(tmp_path, "up", "--port", "99999", FS_CC_CONTROL_PORT=str(free_port()),
                     FS_CC_OUTBOUND_PORT=str(free_port()), FS_CC_EMULATOR_PORT=str(free_port()))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ("fs-cc up: 99999 is not a port number (0-65535); choose "
                                     "another port with FS_CC_WEB_PORT / --port")
    assert not (tmp_path / "var" / "logs").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_given_fs_cc_web_started_with_sigint_ignored_when_signalled_then_it_stops_cleanly(
        tmp_path, signum):
    # a shell that starts a job in the background without job control hands it SIGINT "ignored";
    # the web server still stops on it, as the engine and the emulator do
    web = WebCase(tmp_path)
    port = free_port()
    web.process = subprocess.Popen(
        [sys.executable, "-m", "fs_cc.cli", "web", "--port", str(port)], env=web.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    wait_until(lambda: port_open(port) or web.process.poll() is not None, 60,
               "fs-cc web listening")
    web.connection_closed_by_server(port)  # serving: the app is set up
    web.stop(signum)
