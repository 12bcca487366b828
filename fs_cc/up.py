"""`fs-cc up`: the embedded default in one command.

Starts the emulator (unless a real FreeSWITCH is configured), the engine, a Celery worker and the
web app as child processes, prints the URL and a demo login, and stops them all on Ctrl-C. Children
are tied to this process with PR_SET_PDEATHSIG, so even a killed `up` leaves no orphan.
"""

import ctypes
import json
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

from fs_cc.listen import PortUnavailable, probe

logger = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
# the demo token is kept in var/demo_token and the same on every start (web.auth.tokens)
NO_DEMO_TOKEN = ("(none: the admin is disabled or revoked the demo token; create one on the "
                 "API tokens page, or remove var/demo_token for a new demo token)")


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not glibc: Ctrl-C handling below still stops the children
        pass


def wait_for_port(host, port, timeout, process=None):
    """Poll until something accepts on host:port; False on timeout or if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def busy_ports(settings):
    """Why each port `up` needs cannot be had, as PortUnavailable errors (none: all free).

    Probed as the servers bind (SO_REUSEADDR), so the TIME-WAIT connections a stopped `up`
    leaves for a minute do not count as "in use".
    """
    wanted = [("FS_CC_WEB_PORT / --port", settings.web_host, settings.web_port),
              ("FS_CC_CONTROL_PORT", settings.control_host, settings.control_port),
              ("FS_CC_OUTBOUND_PORT", settings.outbound_host, settings.outbound_port)]
    if settings.esl is None:
        wanted.append(("FS_CC_EMULATOR_PORT", "127.0.0.1", settings.emulator_port))
    busy = []
    for name, host, port in wanted:
        try:
            probe(host, port, name)
        except PortUnavailable as exc:
            busy.append(exc)
    return busy


class Supervisor:
    """Starts named child processes and stops all of them together."""

    def __init__(self, env, log_dir):
        self.env = env
        self.log_dir = log_dir
        self.children = []

    def spawn(self, name, argv):
        """Start one child running `fs-cc ARGV...`, its output going to LOG_DIR/NAME.log."""
        command = [sys.executable, "-m", "fs_cc.cli"] + argv
        logger.info("starting %s: %s", name, " ".join(argv))
        with open(self.log_dir / f"{name}.log", "ab") as log:
            process = subprocess.Popen(command, env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.children.append((name, process))
        return process

    def tail(self, name, lines=20):
        """The last lines a child wrote, to show why it stopped."""
        path = self.log_dir / f"{name}.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def run_once(self, argv):
        """Run `fs-cc ARGV...` to completion and return its standard output."""
        command = [sys.executable, "-m", "fs_cc.cli"] + argv
        result = subprocess.run(command, env=self.env, capture_output=True, text=True)
        if result.returncode != 0:
            sys.stderr.write(result.stderr)
            raise SystemExit(f"fs-cc {' '.join(argv)} failed with status {result.returncode}")
        return result.stdout

    def watch(self):
        """Block until a child exits or a signal arrives; return the name of what ended it."""
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    return (f"{name} exited with status {process.returncode}; its last lines:\n"
                            f"{self.tail(name)}")
            time.sleep(0.2)

    def stop(self, timeout=10.0):
        """Stop every child: SIGTERM, then SIGKILL for any still running after the timeout."""
        for name, process in reversed(self.children):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in reversed(self.children):
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(remaining)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", name)
                process.kill()
                process.wait()


def run_up(settings, config_file=None):
    """Run emulator, engine, worker and web until Ctrl-C; returns the exit status."""
    busy = busy_ports(settings)
    if busy:
        for problem in busy:
            print(f"fs-cc up: {problem}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.update({
        "FS_CC_VAR_DIR": str(settings.var_dir),
        "FS_CC_DATABASE_URL": settings.database_url,
        "FS_CC_BROKER_URL": settings.broker_url,
        "FS_CC_SECRET_KEY": settings.secret_key,
        "FS_CC_CONTROL_PORT": str(settings.control_port),
        "FS_CC_OUTBOUND_PORT": str(settings.outbound_port),
        "FS_CC_WEB_PORT": str(settings.web_port),
        "PYTHONUNBUFFERED": "1",
    })
    if config_file:
        env["FS_CC_CONFIG"] = str(config_file)
    log_dir = settings.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(env, log_dir)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # also SIGINT: a shell that started us in the background may have set it to "ignore"
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, on_signal)
    reason = "interrupted"
    try:
        supervisor.run_once(["db", "upgrade"])
        demo = json.loads(supervisor.run_once(["user", "demo"]))
        if settings.esl is None:
            env["FS_CC_ESL_URL"] = f"127.0.0.1:{settings.emulator_port}:ClueCon"
            env["FS_CC_AGENTS_AUTO_LOGIN"] = "1"  # the simulated agents log in and answer
            env["FS_CC_EMULATED"] = "1"  # that switch is the emulator: phones are simulated
        # the engine first: simulated callers must find its outbound socket listening
        engine = supervisor.spawn("engine", ["engine"])
        if not wait_for_port(settings.control_host, settings.control_port, 20, engine):
            raise SystemExit(f"the engine did not start:\n{supervisor.tail('engine')}")
        if settings.esl is None:
            emulator = supervisor.spawn("emulator", [
                "emulator", "--host", "127.0.0.1", "--port", str(settings.emulator_port),
                "--password", "ClueCon",
                "--socket", f"{settings.outbound_host}:{settings.outbound_port}",
                "--speed", str(settings.emulator_speed),
                "--traffic-cpm", str(settings.emulator_traffic_cpm),
                "--first-call-seconds", "0",
                "--agents", _agent_range(settings.agents),
            ] + (["--seed", str(settings.emulator_seed)] if settings.emulator_seed else []))
            if not wait_for_port("127.0.0.1", settings.emulator_port, 20, emulator):
                raise SystemExit("the FreeSWITCH emulator did not start:\n"
                                 f"{supervisor.tail('emulator')}")
        supervisor.spawn("worker", ["worker"])
        web = supervisor.spawn("web", ["web", "--host", settings.web_host,
                                       "--port", str(settings.web_port)])
        if not wait_for_port(settings.web_host, settings.web_port, 30, web):
            raise SystemExit(f"the web app did not start:\n{supervisor.tail('web')}")
        url = web_url(settings.web_host, settings.web_port)
        print(f"\nfs_cc is up: {url}\n"
              f"  login:      {admin_login(demo)}\n"
              f"  desktop:    {agent_login(demo)}  ({url}/desktop)\n"
              f"  API token:  {demo['token'] or NO_DEMO_TOKEN}\n"
              f"  API docs:   {url}/docs/api\n"
              f"  try it:     {curl_hint(url, demo['token'] or 'TOKEN')}\n"
              f"  FreeSWITCH: {'emulator with simulated traffic' if settings.esl is None else 'real'}\n"
              f"  logs:       {log_dir}/{{engine,emulator,worker,web}}.log\n"
              f"Press Ctrl-C to stop.\n", flush=True)
        reason = supervisor.watch()
        logger.error("stopping: %s", reason)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        supervisor.stop()
        print(f"fs_cc stopped ({reason}).", flush=True)


def admin_login(demo):
    """The banner's login line: the admin's first password is shown at the first start only."""
    if demo["password"] is None:
        return (f"{demo['username']} (password as set; `fs-cc user passwd "
                f"{demo['username']}` sets a new one)")
    if os.environ.get("FS_CC_ADMIN_PASSWORD"):
        return f"{demo['username']} / the password in FS_CC_ADMIN_PASSWORD"
    return f"{demo['username']} / {demo['password']}  (shown this once: note it now)"


def agent_login(demo):
    """The banner's line for the demo agent (agent 1000 at the desktop): its password at the
    first start only, like the admin's."""
    agent = demo.get("agent") or {}
    if not agent.get("username"):
        return "no demo agent (agent 1000 is taken or gone; link a user to an agent)"
    if agent.get("password") is None:
        return f"{agent['username']} (password as set; `fs-cc user passwd {agent['username']}`)"
    return f"{agent['username']} / {agent['password']}  (shown this once: note it now)"


def web_url(host, port):
    """The URL a browser or curl on this machine reaches the web app at."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def curl_hint(url, token):
    """A curl command, ready to paste into a shell, that lists call records with the API token."""
    return shlex.join(["curl", "-H", f"Authorization: Bearer {token}", f"{url}/api/calls"])


def _agent_range(agents):
    numbers = sorted(int(agent["extension"]) for agent in agents)
    return f"{numbers[0]}-{numbers[-1]}" if numbers else "1000-1009"
