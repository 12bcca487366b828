"""Fs_cc's processes on free ports around a switch, for the end-to-end restart tests."""

import json
import signal
import sqlite3

from fs_cc.control import ControlClient
from fs_cc.esl.inbound import InboundClient
from tests.e2e.procs import Processes, free_port, port_open, wait_until


def open_calls(outbox):
    """What the engine keeps on disk about calls in progress."""
    if not outbox.exists():
        return []
    with sqlite3.connect(outbox) as db:
        return [json.loads(payload) for (payload,) in db.execute("SELECT payload FROM open_calls")]


def stored(database):
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return db.execute("SELECT uuid, queue, agent, hangup_side, hangup_cause, ended_at"
                          " FROM call_records ORDER BY ended_at").fetchall()


class Stack:
    """Worker and engine as processes on free ports, var files under tmp_path, and a switch:
    the emulator (a process too), or the real FreeSWITCH at ``esl`` (host, port, password).

    ``extra_env`` adds settings (FS_CC_*) for every process; ``gateways`` are the emulator's PSTN
    gateways (its config's ``gateways`` entries), where callbacks reach customers."""

    def __init__(self, tmp_path, auto_login, esl=None, flow=None, extra_env=None,
                 gateways=None):
        self.ports = {name: free_port() for name in ("esl", "outbound", "control")}
        self.var = tmp_path / "var"
        self.real = esl is not None
        host, port, password = esl or ("127.0.0.1", self.ports["esl"], "ClueCon")
        env = {
            "FS_CC_VAR_DIR": str(self.var),
            "FS_CC_ESL_URL": f"{host}:{port}:{password}",
            "FS_CC_OUTBOUND_PORT": str(self.ports["outbound"]),
            "FS_CC_CONTROL_PORT": str(self.ports["control"]),
        }
        if flow is not None:
            env["FS_CC_IVR_FLOW"] = str(flow)
        if auto_login:
            env["FS_CC_AGENTS_AUTO_LOGIN"] = "1"
        env.update(extra_env or {})
        self.procs = Processes(tmp_path, env)
        assert self.procs.run("db", "upgrade").returncode == 0
        if not self.real:
            self._start_emulator(tmp_path, gateways)
        self.procs.start("worker", "worker")
        self.engine = self.start_engine()
        self.esl = InboundClient(host, int(port), password, events=("BACKGROUND_JOB",))
        self.esl.start()
        assert self.esl.wait_connected(10)

    def _start_emulator(self, tmp_path, gateways=None):
        # agents talk until the caller hangs up: the call outlives the engine's death
        config = tmp_path / "emulator.yaml"
        config.write_text("phones:\n" + "".join(
            f"  - {{extension: '{ext}', answer_delay: 1.0, talk_seconds: 100000}}\n"
            for ext in range(1000, 1010)) + (
            "gateways: " + json.dumps(gateways) + "\n" if gateways else ""), encoding="utf-8")
        self.procs.start("emulator", "emulator", "--host", "127.0.0.1", "--port",
                         str(self.ports["esl"]), "--password", "ClueCon", "--socket",
                         f"127.0.0.1:{self.ports['outbound']}", "--speed", "20",
                         "--traffic-cpm", "0", "--config", str(config))
        wait_until(lambda: port_open(self.ports["esl"]), 20, "emulator listening")

    def start_engine(self):
        engine = self.procs.start("engine", "engine")
        wait_until(lambda: port_open(self.ports["control"]), 20, "engine listening")
        return engine

    def control(self):
        secret = (self.var / "control_secret").read_text().strip()
        return ControlClient(f"http://127.0.0.1:{self.ports['control']}", secret, timeout=5)

    def call(self, caller_number, **sim):
        """A caller: on the emulator 4000 pressing 1 (sales), ``sim`` its fs_cc_sim_* settings;
        on a real switch test number 5901 to this engine's socket (its flow decides)."""
        if self.real:
            self.esl.bgapi(f"originate {{origination_caller_id_number={caller_number},"
                           f"fs_cc_test_socket=127.0.0.1:{self.ports['outbound']}}}"
                           "loopback/5901/public &park()", timeout=30)
            return
        extra = "".join(f",fs_cc_sim_{k}={v}" for k, v in sim.items())
        self.esl.bgapi(f"originate {{origination_caller_id_number={caller_number},"
                       f"fs_cc_sim_dtmf=1{extra}}}loopback/4000/public &park()", timeout=30)

    def kill_engine(self):
        self.engine.send_signal(signal.SIGKILL)
        self.engine.wait(10)

    def stop(self):
        self.esl.stop()
        self.procs.stop_all()
