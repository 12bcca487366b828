"""On a real FreeSWITCH: an engine killed with SIGKILL drops nobody, and its restart adopts them.

Runs only with FS_CC_TEST_ESL=host:port:password (tests/README.rst). The engine, the worker and
the database are real processes and files; the callers are test-number calls (loopback/5901)
sent to this engine's socket, running a flow that queues them at once; the agents are the test
switch's loopback phones, which answer and stay on the line until hung up.
"""

import os

import pytest

from fs_cc.esl.errors import CommandError
from tests.e2e.stack import Stack, open_calls, stored
from tests.polling import wait_until
from tests.switch import ANSWER_DELAY_VAR, ENV, parse_esl_target

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: these tests need a real FreeSWITCH")

QUEUE_AT_ONCE = "name: queue_at_once\nstart: wait\nnodes:\n  wait: {type: queue, queue: sales}\n"


@pytest.fixture
def stack(tmp_path):
    flow = tmp_path / "queue_at_once.yaml"
    flow.write_text(QUEUE_AT_ONCE, encoding="utf-8")
    stack = Stack(tmp_path, auto_login=False, esl=parse_esl_target(os.environ[ENV]), flow=flow)
    saved = stack.esl.api(f"global_getvar {ANSWER_DELAY_VAR}").strip()
    stack.esl.api(f"global_setvar {ANSWER_DELAY_VAR}=300")
    yield stack
    stack.esl.api(f"global_setvar {ANSWER_DELAY_VAR}={saved}")
    for line in stack.esl.api("show channels").splitlines():
        if line.count(",") > 10 and "5901" in line:
            try:
                stack.esl.api(f"uuid_kill {line.split(',')[0]}")
            except CommandError:
                pass  # ended with its partner meanwhile
    stack.stop()


def spooled(stack):
    return open_calls(stack.var / "engine-outbox.sqlite")


def with_agent(stack, agent, served=()):
    """The uuid of a call in progress whose agent leg to ``agent`` is bridged, or None."""
    for call in stack.control().calls():
        if call["uuid"] in served:
            continue
        if any(leg["variables"].get("fs_cc_agent") == agent and leg["phase"] == "bridged"
               for leg in call["legs"]):
            return call["uuid"]
    return None


def test_given_callers_waiting_when_engine_killed_then_they_wait_and_the_restart_keeps_order(
        stack):
    for number in ("13900000001", "13900000002"):
        stack.call(number)
        wait_until(lambda: len([p for p in spooled(stack) if p.get("queue")]) == int(number[-1]),
                   30, f"{number} queued\n" + stack.procs.log("engine")[-1500:])
    waiting = {p["uuid"]: p for p in spooled(stack)}
    order = sorted(waiting, key=lambda uuid: waiting[uuid]["queued_at"])

    stack.kill_engine()
    # FreeSWITCH keeps both callers (the socket's death is no hangup)
    assert all(stack.esl.api(f"uuid_exists {uuid}").strip() == "true" for uuid in order)

    stack.start_engine()
    wait_until(lambda: next(q for q in stack.control().queues() if q["name"] == "sales")[
        "waiting"] == 2, 30, "both callers back in line\n" + stack.procs.log("engine")[-2000:])
    control = stack.control()
    control.set_agent_status("1000", "available")
    served = []
    for _ in order:
        uuid = wait_until(lambda: with_agent(stack, "1000", served), 30,
                          "the next caller with the agent\n" + stack.procs.log("engine")[-1500:])
        served.append(uuid)
        stack.esl.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    assert served == order
    rows = wait_until(lambda: len(stored(stack.var / "fs_cc.sqlite")) == 2
                      and stored(stack.var / "fs_cc.sqlite"), 30, "both records")
    assert {row[0] for row in rows} == set(order)
    assert all((row[1], row[2], row[3]) == ("sales", "1000", "caller") for row in rows)


def test_given_call_with_agent_when_engine_killed_then_agent_stays_on_it_and_restart_records_it(
        stack):
    stack.control().set_agent_status("1001", "available")
    stack.call("13900000009")
    uuid = wait_until(lambda: with_agent(stack, "1001"), 30,
                      "connected\n" + stack.procs.log("engine")[-1500:])
    (leg,) = [p["leg_uuid"] for p in spooled(stack) if p["uuid"] == uuid]

    stack.kill_engine()
    stack.start_engine()

    agents = wait_until(lambda: {a["extension"]: a["status"] for a in stack.control().agents()}
                        .get("1001") == "on_call", 30,
                        "the agent back on the adopted call\n" + stack.procs.log("engine")[-1500:])
    assert agents
    assert stack.esl.api(f"uuid_exists {leg}").strip() == "true"  # the agent is still on it
    stack.esl.api(f"uuid_kill {uuid} NORMAL_CLEARING")
    (row,) = wait_until(lambda: stored(stack.var / "fs_cc.sqlite"), 30, "the record")
    assert row[:5] == (uuid, "sales", "1001", "caller", "NORMAL_CLEARING")
