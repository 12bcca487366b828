"""`fs-cc up` runs the embedded default: calls flow into the web, Ctrl-C leaves no orphan."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import urllib.request

from tests.e2e.procs import free_port, wait_until


def processes_with_env(marker):
    """PIDs of processes whose environment mentions marker (our unique var dir)."""
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def test_given_embedded_defaults_when_up_runs_then_calls_flow_and_ctrl_c_stops_all(tmp_path):
    var = tmp_path / "var-up"
    web_port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1", FS_CC_VAR_DIR=str(var),
               FS_CC_EMULATOR_PORT=str(free_port()), FS_CC_CONTROL_PORT=str(free_port()),
               FS_CC_OUTBOUND_PORT=str(free_port()))
    env.pop("FS_CC_ESL_URL", None)
    log = open(tmp_path / "up.log", "w+")
    up = subprocess.Popen([sys.executable, "-m", "fs_cc.cli", "up", "--port", str(web_port),
                           "--traffic-cpm", "120", "--speed", "10"],
                          env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        def printed_token():
            text = (tmp_path / "up.log").read_text()
            for line in text.splitlines():
                if "API token:" in line:
                    return line.split("API token:")[1].split()[0]
            assert up.poll() is None, text
            return None

        token = wait_until(printed_token, 90, "up printing its URL and token")
        assert f"http://127.0.0.1:{web_port}" in (tmp_path / "up.log").read_text()

        def get(path):
            request = urllib.request.Request(f"http://127.0.0.1:{web_port}{path}",
                                             headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())

        def calls():
            return get("/api/calls")["calls"]

        # the Calls page's "Calls in progress" comes from the engine, before any record
        live = wait_until(lambda: get("/calls/in-progress")["calls"], 60, "a call in progress")
        assert live[0]["uuid"] and live[0]["caller"]

        flowed = wait_until(calls, 60, "simulated calls on /api/calls")
        assert flowed[0]["uuid"]

        # the banner's curl command, pasted into bash as printed, answers 200 with the JSON
        hint = next(line.split("try it:", 1)[1].strip()
                    for line in (tmp_path / "up.log").read_text().splitlines()
                    if "try it:" in line)
        assert hint.startswith("curl ") and token in hint
        pasted = subprocess.run(["bash", "-c", hint + " --silent --write-out '\\n%{http_code}'"],
                                capture_output=True, text=True, timeout=30)
        body, _, status = pasted.stdout.rpartition("\n")
        assert (pasted.returncode, status) == (0, "200"), pasted.stdout + pasted.stderr
        assert json.loads(body)["calls"]
        as_printed = subprocess.run(["bash", "-c", hint], capture_output=True, text=True,
                                    timeout=30)
        assert as_printed.returncode == 0 and "calls" in json.loads(as_printed.stdout)
        assert len(processes_with_env(str(var))) >= 5  # up, emulator, engine, worker, web
    finally:
        up.send_signal(signal.SIGINT)
        status = up.wait(30)
    assert status == 0
    wait_until(lambda: processes_with_env(str(var)) == [], 15, "every child gone")
    assert "fs_cc stopped" in (tmp_path / "up.log").read_text()


def test_given_port_taken_when_up_starts_then_it_names_the_port_and_setting(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        env = dict(os.environ, FS_CC_VAR_DIR=str(tmp_path / "var"),
                   FS_CC_EMULATOR_PORT=str(free_port()), FS_CC_CONTROL_PORT=str(port),
                   FS_CC_OUTBOUND_PORT=str(free_port()))
        env.pop("FS_CC_ESL_URL", None)
        result = subprocess.run([sys.executable, "-m", "fs_cc.cli", "up", "--port",
                                 str(free_port())], env=env, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is already in use" in result.stderr
    assert "FS_CC_CONTROL_PORT" in result.stderr
    assert not (tmp_path / "var" / "logs").exists()  # nothing was started


def test_given_any_bind_address_then_the_hint_names_a_reachable_url_and_the_whole_token():
    import shlex

    from fs_cc.up import curl_hint, web_url

    assert web_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert web_url("::", 8080) == "http://[::1]:8080"
    assert web_url("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    token = "a-b_C'd e"  # quoting must survive any character
    assert shlex.split(curl_hint("http://127.0.0.1:5000", token)) == [
        "curl", "-H", f"Authorization: Bearer {token}", "http://127.0.0.1:5000/api/calls"]
