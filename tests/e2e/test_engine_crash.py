"""A call in progress when the engine dies still gets its call record after a restart."""

import json
import signal
import sqlite3

import pytest

from fs_cc.esl.inbound import InboundClient
from tests.e2e.procs import Processes, free_port, port_open, wait_until


def open_items(outbox):
    """What the engine keeps on disk about calls in progress."""
    if not outbox.exists():
        return []
    with sqlite3.connect(outbox) as db:
        return [json.loads(payload) for (payload,) in db.execute("SELECT payload FROM open_items")]


def stored(database):
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return db.execute("SELECT uuid, queue, agent, hangup_side, hangup_cause, ended_at"
                          " FROM call_records").fetchall()


@pytest.mark.emulator_only  # kills the engine while the emulator keeps the caller waiting
def test_given_call_with_agent_when_engine_killed_and_restarted_then_record_stored(tmp_path):
    ports = {name: free_port() for name in ("esl", "outbound", "control")}
    var = tmp_path / "var"
    procs = Processes(tmp_path, {
        "FS_CC_VAR_DIR": str(var),
        "FS_CC_ESL_URL": f"127.0.0.1:{ports['esl']}:ClueCon",
        "FS_CC_OUTBOUND_PORT": str(ports["outbound"]),
        "FS_CC_CONTROL_PORT": str(ports["control"]),
        "FS_CC_AGENTS_AUTO_LOGIN": "1",
    })
    try:
        assert procs.run("db", "upgrade").returncode == 0
        procs.start("emulator", "emulator", "--host", "127.0.0.1", "--port", str(ports["esl"]),
                    "--password", "ClueCon", "--socket", f"127.0.0.1:{ports['outbound']}",
                    "--speed", "20", "--traffic-cpm", "0")
        wait_until(lambda: port_open(ports["esl"]), 20, "emulator listening")
        procs.start("worker", "worker")
        engine = procs.start("engine", "engine")
        wait_until(lambda: port_open(ports["control"]), 20, "engine listening")

        esl = InboundClient("127.0.0.1", ports["esl"], "ClueCon", events=("BACKGROUND_JOB",))
        esl.start()
        assert esl.wait_connected(10)
        esl.bgapi("originate {origination_caller_id_number=13900139000,fs_cc_sim_dtmf=1,"
                  "fs_cc_sim_talk_seconds=100000}loopback/4000/public &park()", timeout=30)
        esl.stop()
        outbox = var / "engine-outbox.sqlite"
        (call,) = wait_until(lambda: [p for p in open_items(outbox) if p.get("agent")], 30,
                             "the call with its agent snapshotted")

        engine.send_signal(signal.SIGKILL)
        engine.wait(10)
        assert stored(var / "fs_cc.sqlite") == []  # nothing sent yet: the call was in progress

        procs.start("engine", "engine")
        rows = wait_until(lambda: stored(var / "fs_cc.sqlite"), 30,
                          "the recovered record stored\n" + procs.log("engine")[-2000:])
        uuid, queue, agent, side, cause, ended_at = rows[0]
        assert (uuid, queue, agent) == (call["uuid"], "sales", call["agent"])
        assert side == "system" and cause == "NORMAL_TEMPORARY_FAILURE" and ended_at
        assert "recovered 1 call record" in procs.log("engine")
    finally:
        procs.stop_all()
