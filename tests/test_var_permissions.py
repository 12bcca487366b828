"""var/ and everything fs_cc writes in it are readable only by the service's user.

The database, logs, secrets, recordings and the engine's outbox hold customers' numbers and the
keys that sign sessions: after a real `fs-cc up`, every folder in var/ is 0700 and every file 0600
(the umask of each fs-cc process), and a var/ left with loose modes is tightened at the start.
"""

import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys

from fs_cc.config import load_settings, secure_var_dir
from tests.e2e.procs import free_port, wait_until


def mode(path):
    """The permission bits of ``path`` (not following a link)."""
    return stat.S_IMODE(os.lstat(path).st_mode)


def modes_under(root):
    """{relative path: mode} of ``root`` and everything below it (links left out)."""
    found = {".": mode(root)}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                found[os.path.relpath(path, root)] = mode(path)
    return found


def test_given_no_var_dir_when_settings_load_then_it_and_its_secrets_are_private(tmp_path):
    var = tmp_path / "deploy" / "var"

    settings = load_settings(env={"FS_CC_VAR_DIR": str(var)})

    assert settings.var_dir == var
    assert mode(var) == 0o700
    assert mode(var / "secret_key") == 0o600
    assert mode(var / "control_secret") == 0o600


def test_given_a_var_dir_with_loose_modes_when_settings_load_then_tightened_and_logged(
        tmp_path, caplog):
    var = tmp_path / "var"
    (var / "logs").mkdir(parents=True)
    (var / "recordings" / "2026-03-02").mkdir(parents=True)
    files = {"fs_cc.sqlite": 0o644, "logs/web.log": 0o664, "secret_key": 0o604,
             "recordings/2026-03-02/call.wav": 0o666, "shared.txt": 0o640}
    for name, bits in files.items():
        (var / name).write_text("x")
        os.chmod(var / name, bits)
    for name, bits in {".": 0o755, "logs": 0o777, "recordings": 0o750,
                       "recordings/2026-03-02": 0o705}.items():
        os.chmod(var / name, bits)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not ours")
    os.chmod(outside, 0o644)
    (var / "link").symlink_to(outside)

    with caplog.at_level(logging.WARNING, logger="fs_cc.config"):
        load_settings(env={"FS_CC_VAR_DIR": str(var)})

    assert modes_under(var) == {
        ".": 0o700, "logs": 0o700, "recordings": 0o750, "recordings/2026-03-02": 0o700,
        "fs_cc.sqlite": 0o600, "logs/web.log": 0o600, "secret_key": 0o600,
        "recordings/2026-03-02/call.wav": 0o600, "shared.txt": 0o640,  # a group's read kept
        "control_secret": 0o600}
    assert mode(outside) == 0o644  # a link is not followed
    warning = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "7 file(s) and folder(s) were open to other users" in warning
    assert "var/fs_cc.sqlite 0644->0600" in warning and "var 0755->0700" in warning
    assert "shared.txt" not in warning


def test_given_a_private_var_dir_then_nothing_is_changed_or_logged(tmp_path, caplog):
    var = tmp_path / "var"
    var.mkdir(mode=0o700)
    (var / "fs_cc.sqlite").write_text("x")
    os.chmod(var / "fs_cc.sqlite", 0o600)

    with caplog.at_level(logging.WARNING, logger="fs_cc.config"):
        assert secure_var_dir(var) == []

    assert caplog.records == []


def test_given_a_loose_var_dir_when_up_runs_then_everything_it_writes_there_is_private(tmp_path):
    var = tmp_path / "var"
    (var / "logs").mkdir(parents=True)
    os.chmod(var, 0o755)
    (var / "logs" / "web.log").write_text("an earlier run\n")
    os.chmod(var / "logs" / "web.log", 0o644)
    web_port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", FS_CC_VAR_DIR=str(var),
               FS_CC_EMULATOR_PORT=str(free_port()), FS_CC_CONTROL_PORT=str(free_port()),
               FS_CC_OUTBOUND_PORT=str(free_port()), FS_CC_RECORD_CALLS="mixed")
    for name in ("FS_CC_ESL_URL", "FS_CC_CONFIG", "FS_CC_DATABASE_URL", "FS_CC_BROKER_URL",
                 "REDIS_URL", "FS_CC_RECORDINGS_DIR"):
        env.pop(name, None)
    log_path = tmp_path / "up.log"
    # a loose umask, as a shell may have: the processes must not inherit it
    up = subprocess.Popen([sys.executable, "-m", "fs_cc.cli", "up", "--port", str(web_port),
                           "--traffic-cpm", "120", "--speed", "10"], env=env,
                          stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                          preexec_fn=lambda: os.umask(0o002))
    try:
        def recorded_and_stored():
            assert up.poll() is None, log_path.read_text()
            recordings = var / "recordings"
            if not recordings.exists() or not any(recordings.rglob("*.wav")):
                return False
            if not (var / "fs_cc.sqlite").exists():
                return False
            with sqlite3.connect(f"file:{var / 'fs_cc.sqlite'}?mode=ro", uri=True) as db:
                return db.execute("SELECT count(*) FROM call_records").fetchone()[0] > 0

        wait_until(recorded_and_stored, 120, "a recorded call stored by up", interval=0.5)
        modes = modes_under(var)
    finally:
        up.send_signal(signal.SIGINT)
        up.wait(30)

    for name in ("fs_cc.sqlite", "broker.sqlite", "engine-outbox.sqlite", "secret_key",
                 "control_secret", "engine_id", "logs/engine.log", "logs/web.log",
                 "logs/worker.log", "logs/emulator.log", "recordings"):
        assert name in modes, sorted(modes)
    loose = {name: f"{bits:04o}" for name, bits in modes.items()
             if bits != (0o700 if os.path.isdir(var / name) else 0o600)}
    assert loose == {}
    assert "were open to other users" in log_path.read_text()
