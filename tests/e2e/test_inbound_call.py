"""One inbound call travels emulator → engine (IVR, ACD) → agent → worker → database → web.

Every part runs as its own real process on free ports, the way `fs-cc up` runs them.
"""

import json
import sqlite3
import urllib.request

import pytest

from fs_cc.esl.inbound import InboundClient
from tests.e2e.procs import Processes, free_port, port_open, wait_until

SPEED = 20  # simulated seconds per real second in the emulator


@pytest.fixture
def stack(tmp_path):
    ports = {name: free_port() for name in ("esl", "outbound", "control", "web")}
    var = tmp_path / "var"
    procs = Processes(tmp_path, {
        "FS_CC_VAR_DIR": str(var),
        "FS_CC_ESL_URL": f"127.0.0.1:{ports['esl']}:ClueCon",
        "FS_CC_OUTBOUND_PORT": str(ports["outbound"]),
        "FS_CC_CONTROL_PORT": str(ports["control"]),
        "FS_CC_WEB_PORT": str(ports["web"]),
        "FS_CC_AGENTS_AUTO_LOGIN": "1",
    })
    try:
        upgrade = procs.run("db", "upgrade")
        assert upgrade.returncode == 0, upgrade.stderr
        demo = json.loads(procs.run("user", "demo").stdout)
        procs.start("emulator", "emulator", "--host", "127.0.0.1", "--port", str(ports["esl"]),
                    "--password", "ClueCon", "--socket", f"127.0.0.1:{ports['outbound']}",
                    "--speed", str(SPEED), "--traffic-cpm", "0", "--agents", "1000-1009")
        wait_until(lambda: port_open(ports["esl"]), 20, "emulator listening")
        procs.start("engine", "engine")
        procs.start("worker", "worker")
        procs.start("web", "web", "--host", "127.0.0.1", "--port", str(ports["web"]))
        wait_until(lambda: port_open(ports["outbound"]) and port_open(ports["control"]), 20,
                   "engine listening")
        wait_until(lambda: port_open(ports["web"]), 30, "web listening")
        yield procs, ports, demo, var
    finally:
        procs.stop_all()


def get_json(url, token):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read().decode("utf-8"))


def test_given_full_stack_when_caller_presses_1_then_record_reaches_db_page_and_api(stack):
    procs, ports, demo, var = stack
    esl = InboundClient("127.0.0.1", ports["esl"], "ClueCon", events=("BACKGROUND_JOB",))
    esl.start()
    assert esl.wait_connected(10)
    # the same command places a test call on a real FreeSWITCH; the fs_cc_sim_* variables script
    # the emulator's simulated caller (press 1, talk 40 simulated seconds, then hang up)
    reply = esl.bgapi("originate {origination_caller_id_number=13800138000,fs_cc_sim_dtmf=1,"
                      "fs_cc_sim_talk_seconds=40}loopback/4000/public &park()", timeout=30)
    assert reply.startswith("+OK"), reply
    esl.stop()

    api = f"http://127.0.0.1:{ports['web']}/api/calls"
    calls = wait_until(lambda: get_json(api, demo["token"])["calls"], 60,
                       "call record on /api/calls" + "\n" + procs.log("engine")[-3000:])
    call = calls[0]
    assert call["caller_number"] == "13800138000"
    assert call["did"] == "4000"
    assert call["queue"] == "sales"
    assert call["agent"] in {str(n) for n in range(1000, 1010)}
    assert "sales" in "".join(call["ivr_path"] if isinstance(call["ivr_path"], list)
                              else [call["ivr_path"]])
    assert call["talk_seconds"] > 0
    assert call["hangup_cause"]
    assert call["hangup_side"] == "caller"

    with sqlite3.connect(var / "fs_cc.sqlite") as db:
        rows = db.execute("SELECT uuid, queue, agent FROM call_records").fetchall()
    assert rows == [(call["uuid"], "sales", call["agent"])]

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    login = urllib.parse.urlencode({"username": demo["username"],
                                    "password": demo["password"]}).encode()
    opener.open(f"http://127.0.0.1:{ports['web']}/auth/login", login, timeout=5)
    page = opener.open(f"http://127.0.0.1:{ports['web']}/calls", timeout=5).read().decode()
    assert "13800138000" in page and call["agent"] in page and "sales" in page

    agents = get_json(f"http://127.0.0.1:{ports['web']}/api/agents", demo["token"])
    statuses = {a["extension"]: a["status"] for a in agents["agents"]}
    assert statuses[call["agent"]] == "available"  # back to available after the hangup
