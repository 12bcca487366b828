"""`./dev`: installing what is missing (root or sudo only for apt-get), and the services it starts."""

import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import threading

import psycopg2
import pytest
import redis

from tests.e2e.procs import free_port, port_open

REPO = pathlib.Path(__file__).resolve().parent.parent
DEV = REPO / "dev"


def write_script(path, text):
    """An executable shell script at ``path``."""
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return path


def path_without(tmp_path, *names):
    """A PATH like ours in which ``names`` cannot be found (a farm of links to everything else)."""
    directories = os.environ["PATH"].split(os.pathsep)
    if not any(shutil.which(name) for name in names):
        return os.environ["PATH"]
    farm = tmp_path / "path-farm"
    farm.mkdir()
    for directory in directories:
        try:
            entries = list(pathlib.Path(directory).iterdir())
        except OSError:
            continue
        for entry in entries:
            link = farm / entry.name
            if entry.name not in names and not link.exists() and os.access(entry, os.X_OK):
                link.symlink_to(entry)
    return str(farm)


def fake_bin(tmp_path, uid):
    """Fake id (reporting ``uid``), sudo (resetting the environment, as sudo does) and apt-get.

    Each of sudo and apt-get appends the command it got to $CALLS; apt-get also records the
    DEBIAN_FRONTEND it ran with.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real_id = shutil.which("id")
    write_script(bin_dir / "id", f'if [ "$1" = -u ]; then echo {uid}; else exec {real_id} "$@"; fi\n')
    write_script(bin_dir / "sudo", 'echo "sudo $*" >> "$CALLS"\n'
                                   'exec env -i PATH="$PATH" CALLS="$CALLS" "$@"\n')
    write_script(bin_dir / "apt-get",
                 'echo "apt-get $* DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-unset}" >> "$CALLS"\n')
    return bin_dir


def run_sourced(snippet, env, cwd=None):
    """Source ./dev in bash, run ``snippet``; return the CompletedProcess."""
    return subprocess.run(["bash", "-c", f'source "{DEV}"; {snippet}'], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def calls_made(tmp_path):
    """What the fake sudo and apt-get were asked to run, in order."""
    calls = tmp_path / "calls"
    return calls.read_text().splitlines() if calls.exists() else []


def test_given_no_root_and_no_sudo_when_a_package_is_missing_then_it_says_what_and_why(
        tmp_path):
    bin_dir = fake_bin(tmp_path, uid=1000)
    (bin_dir / "sudo").unlink()
    env = dict(os.environ, CALLS=str(tmp_path / "calls"),
               PATH=f"{bin_dir}{os.pathsep}{path_without(tmp_path, 'sudo')}")

    result = run_sourced("apt_install redis-server", env)

    assert result.returncode == 1
    assert "redis-server" in result.stderr and "needs root" in result.stderr
    assert "sudo is not installed" in result.stderr
    assert "apt-get install redis-server" in result.stderr
    assert "command not found" not in result.stderr
    assert calls_made(tmp_path) == []


def test_given_sudo_when_installing_then_debian_frontend_reaches_apt_get(tmp_path):
    bin_dir = fake_bin(tmp_path, uid=1000)
    env = dict(os.environ, CALLS=str(tmp_path / "calls"), PATH=f"{bin_dir}{os.pathsep}"
                                                               f"{os.environ['PATH']}")
    env.pop("FS_CC_APT_UPDATED", None)

    result = run_sourced("apt_install redis-server", env)

    assert result.returncode == 0, result.stderr
    assert calls_made(tmp_path) == [
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq",
        "apt-get update -qq DEBIAN_FRONTEND=noninteractive",
        "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server",
        "apt-get install -y -qq redis-server DEBIAN_FRONTEND=noninteractive"]
    assert "dev: apt-get install redis-server…" in result.stderr


def test_given_root_when_installing_then_apt_get_runs_without_sudo(tmp_path):
    bin_dir = fake_bin(tmp_path, uid=0)
    env = dict(os.environ, CALLS=str(tmp_path / "calls"), FS_CC_APT_UPDATED="1",
               PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    result = run_sourced("apt_install postgresql", env)

    assert result.returncode == 0, result.stderr
    assert calls_made(tmp_path) == [
        "apt-get install -y -qq postgresql DEBIAN_FRONTEND=noninteractive"]


def test_given_no_venv_when_preparing_then_it_says_so_before_the_slow_install(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # a python3.11 whose venv's python notes each pip run on stderr
    write_script(bin_dir / "python3.11", '[ "$1 $2" = "-m venv" ] || exit 1\n'
                                         'mkdir -p "$3/bin"\n'
                                         'printf \'#!/bin/sh\\necho "pip: $*" >&2\\n\' '
                                         '> "$3/bin/python"\n'
                                         'chmod +x "$3/bin/python"\n')
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    result = run_sourced("ensure_venv", env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    note = lines.index("dev: installing Python packages into .venv (about a minute)…")
    install = next(i for i, line in enumerate(lines) if line.startswith("pip: -m pip install"))
    assert note < install
    assert (tmp_path / ".venv" / ".fs_cc-installed").exists()


def test_given_dev_test_then_pytest_runs_with_services_required(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if key not in ("CI", "FS_CC_REQUIRE_SERVICES", "PYTEST_ADDOPTS")}

    result = run_sourced("ensure_venv() { :; }; ensure_redis() { :; }; ensure_postgres() { :; };"
                         " main test --co -p no:cacheprovider tests/test_service_skips.py", env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "services: PostgreSQL and Redis required" in result.stdout


class Refuser:
    """Something listening on a loopback port that is not PostgreSQL: it hangs up at once."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            connection.close()

    def close(self):
        """Stop listening."""
        self.sock.close()


def dev_copy(tmp_path):
    """./dev copied into a directory user postgres cannot read, with the checkout's .venv."""
    checkout = tmp_path / "checkout"
    checkout.mkdir(mode=0o700)
    shutil.copy2(DEV, checkout / "dev")
    (checkout / ".venv").symlink_to(REPO / ".venv")
    return checkout


def run_dev(checkout, *argv, env):
    """Run the copied ./dev; return the CompletedProcess."""
    return subprocess.run([str(checkout / "dev"), *argv], env=env, cwd=checkout,
                          capture_output=True, text=True, timeout=120)


def test_given_a_server_on_the_port_that_refuses_the_tests_then_dev_says_how_to_fix_it(
        tmp_path):
    checkout = dev_copy(tmp_path)
    refuser = Refuser()
    env = dict(os.environ, FS_CC_DEV_PG_PORT=str(refuser.port),
               FS_CC_DEV_REDIS_PORT=str(refuser.port))
    try:
        result = run_dev(checkout, "start-services", env=env)
    finally:
        refuser.close()

    assert result.returncode == 1
    assert f"the PostgreSQL on 127.0.0.1:{refuser.port} does not suit the tests" in result.stderr
    assert f"postgresql://postgres@127.0.0.1:{refuser.port}/test" in result.stderr
    assert "sudo systemctl stop postgresql" in result.stderr
    assert "host all postgres 127.0.0.1/32 trust" in result.stderr
    assert "started" not in result.stderr  # it used what listens, started nothing


@pytest.fixture
def own_services(tmp_path):
    """Environment for a copied ./dev whose Redis and PostgreSQL go to free ports and a fresh
    data dir, with no locale set; yields (checkout, env, pg_port, redis_port, data dir)."""
    if not (shutil.which("redis-server") and list(pathlib.Path("/").glob(
            "usr/lib/postgresql/*/bin/initdb"))):
        pytest.skip("no initdb and redis-server here to exercise the clusters ./dev starts")
    checkout = dev_copy(tmp_path)
    data = pathlib.Path(f"/var/tmp/fs_cc-dev-test-{secrets.token_hex(4)}")
    pg_port, redis_port = free_port(), free_port()
    env = {key: value for key, value in os.environ.items()
           if key not in ("LANG", "LANGUAGE") and not key.startswith("LC_")}
    env.update(FS_CC_DEV_PG_PORT=str(pg_port), FS_CC_DEV_REDIS_PORT=str(redis_port),
               FS_CC_DEV_PG_DATA=str(data))
    yield checkout, env, pg_port, redis_port, data
    run_dev(checkout, "stop-services", env=env)
    shutil.rmtree(data, ignore_errors=True)


def test_given_no_servers_when_dev_starts_them_then_utf8_noted_and_stop_services_stops_them(
        own_services):
    checkout, env, pg_port, redis_port, data = own_services

    started = run_dev(checkout, "start-services", env=env)

    assert started.returncode == 0, started.stderr
    assert (f"started PostgreSQL on 127.0.0.1:{pg_port} (data {data}, log {data}/server.log)"
            in started.stderr)
    assert f"started Redis on 127.0.0.1:{redis_port}" in started.stderr
    assert "./dev stop-services stops it" in started.stderr
    outputs = started.stderr + "".join(
        path.read_text() for path in (checkout / "var" / "dev-services").glob("*.log"))
    assert "could not change directory" not in outputs
    connection = psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres",
                                  dbname="test", connect_timeout=5)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT current_setting('server_encoding'), datcollate FROM pg_database"
                       " WHERE datname = 'test'")
        assert cursor.fetchone() == ("UTF8", "C.UTF-8")
    finally:
        connection.close()
    assert redis.Redis(port=redis_port, socket_timeout=5).ping()

    stopped = run_dev(checkout, "stop-services", env=env)

    assert stopped.returncode == 0, stopped.stderr
    assert "stopped Redis" in stopped.stderr and "stopped PostgreSQL" in stopped.stderr
    assert not port_open(pg_port) and not port_open(redis_port)
    again = run_dev(checkout, "stop-services", env=env)
    assert "no Redis or PostgreSQL started by ./dev is running" in again.stderr


def test_given_postgres_cannot_start_then_dev_names_its_log_and_shows_its_tail(own_services):
    checkout, env, pg_port, _, data = own_services
    assert run_dev(checkout, "start-services", env=env).returncode == 0
    assert run_dev(checkout, "stop-services", env=env).returncode == 0
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("fs_cc_bogus_setting = 1\n")

    result = run_dev(checkout, "start-services", env=env)

    assert result.returncode == 1
    assert f"PostgreSQL did not start on 127.0.0.1:{pg_port}" in result.stderr
    assert f"its log: {data}/server.log" in result.stderr
    assert 'unrecognized configuration parameter "fs_cc_bogus_setting"' in result.stderr
