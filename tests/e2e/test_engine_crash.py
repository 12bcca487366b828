"""An engine killed with SIGKILL drops nobody: its restart adopts the callers FreeSWITCH kept.

The emulator plays the switch with freeswitch_conf's dialplan: a caller whose engine socket dies
waits on hold music, and the restarted engine takes each one back (tests/realfs has the same on
a real FreeSWITCH).
"""

import pytest

from tests.e2e.stack import Stack, open_calls, stored
from tests.polling import wait_until


@pytest.fixture
def make_stack(tmp_path):
    stacks = []

    def make(auto_login=True):
        stack = Stack(tmp_path, auto_login)
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.stop()


@pytest.mark.emulator_only  # kills the engine while the emulator keeps the call up
def test_given_call_with_agent_when_engine_killed_and_restarted_then_call_adopted_and_recorded(
        make_stack):
    stack = make_stack()
    stack.call("13900139000", talk_seconds=100000)
    outbox = stack.var / "engine-outbox.sqlite"
    (call,) = wait_until(lambda: [p for p in open_calls(outbox) if p.get("agent")], 30,
                         "the call with its agent spooled")

    stack.kill_engine()
    assert stored(stack.var / "fs_cc.sqlite") == []  # nothing sent yet: the call was in progress
    stack.start_engine()

    # the agent stays on the call: the restarted engine follows it, and shows it in progress
    live = wait_until(lambda: [c for c in stack.control().calls() if c["uuid"] == call["uuid"]],
                      30, "the adopted call in progress\n" + stack.procs.log("engine")[-2000:])
    assert live[0]["legs"]
    wait_until(lambda: {a["extension"]: a["status"] for a in stack.control().agents()}[
        call["agent"]] == "on_call", 30, "the agent back on the adopted call")
    assert stored(stack.var / "fs_cc.sqlite") == []

    stack.esl.api(f"uuid_kill {call['uuid']} NORMAL_CLEARING")  # the caller hangs up
    rows = wait_until(lambda: stored(stack.var / "fs_cc.sqlite"), 30,
                      "the adopted call's record\n" + stack.procs.log("engine")[-2000:])
    uuid, queue, agent, side, cause, ended_at = rows[0]
    assert (uuid, queue, agent) == (call["uuid"], "sales", call["agent"])
    assert (side, cause) == ("caller", "NORMAL_CLEARING") and ended_at
    wait_until(lambda: {a["extension"]: a["status"] for a in stack.control().agents()}[
        call["agent"]] == "available", 10, "the agent free again")


@pytest.mark.emulator_only
def test_given_callers_waiting_when_engine_killed_then_restart_keeps_their_order(make_stack):
    stack = make_stack(auto_login=False)
    for number in ("13900000001", "13900000002", "13900000003"):
        stack.call(number, talk_seconds=100000)
        wait_until(lambda: len([p for p in open_calls(stack.var / "engine-outbox.sqlite")
                                if p.get("queue")]) >= int(number[-1]), 30, f"{number} queued")
    waiting = {p["uuid"]: p for p in open_calls(stack.var / "engine-outbox.sqlite")}
    order = sorted(waiting, key=lambda uuid: waiting[uuid]["queued_at"])

    stack.kill_engine()
    stack.start_engine()
    wait_until(lambda: set(order) <= {c["uuid"] for c in stack.control().calls()}, 30,
               "the three callers adopted\n" + stack.procs.log("engine")[-2000:])
    wait_until(lambda: next(q for q in stack.control().queues() if q["name"] == "sales")[
        "waiting"] == 3, 30, "all three back in line")

    # one agent serves them one by one: the first to have called comes first
    control = stack.control()
    control.set_agent_status("1000", "available")
    served = []
    for _ in range(3):
        uuid = wait_until(lambda: next((c["uuid"] for c in control.calls()
                                        if any(leg["variables"].get("fs_cc_agent") == "1000"
                                               and leg["phase"] == "bridged"
                                               for leg in c["legs"])
                                        and c["uuid"] not in served), None), 30,
                          "the next caller with the agent")
        served.append(uuid)
        stack.esl.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    assert served == order
    rows = wait_until(lambda: len(stored(stack.var / "fs_cc.sqlite")) == 3
                      and stored(stack.var / "fs_cc.sqlite"), 30, "three records")
    assert {row[0] for row in rows} == set(order)
    assert all(row[1] == "sales" and row[2] == "1000" for row in rows)
