"""A callback request survives an engine killed with SIGKILL: the worker hands it to the restarted
engine, which calls the customer back once an agent is free.

Real processes (emulator, worker with beat, engine) over the IVR flow below: no agent is free,
the caller waits out the queue's max_wait, presses 1 to be called back at the number they call
from, and hangs up. Customers answer behind the emulator's PSTN gateway.
"""

import sqlite3

import pytest

from tests.e2e.stack import Stack, stored
from tests.polling import wait_until

CALLER = "13900139000"
FLOW = """
name: callback_restart
start: wait
nodes:
  wait:
    type: queue
    queue: sales
    max_wait: 1
    outcomes: {timeout: offer}
  offer:
    type: callback
    prompt: ivr/ivr-please_choose_from_the_following.wav
    number_prompt: voicemail/vm-press.wav
    next: goodbye
    default: goodbye
  goodbye:
    type: hangup
"""
# every customer answers after a second and talks two (simulated seconds, at 20x)
GATEWAY = {"name": "pstn", "answer_probability": 1.0, "busy_probability": 0.0,
           "ring_seconds": [1.0, 1.0], "talk_seconds": [2.0, 2.0]}


def callbacks(database):
    """The stored requests: (id, state, attempts, agent, number, queue, result_call_uuid)."""
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        try:
            return db.execute("SELECT id, state, attempts, agent, number, queue,"
                              " result_call_uuid FROM callback_requests").fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return []


def attempts(database, callback_id):
    """The stored attempts of a request: (number, agent, outcome, ended)."""
    with sqlite3.connect(database) as db:
        return db.execute("SELECT number, agent, outcome, ended_at IS NOT NULL"
                          " FROM callback_attempts WHERE callback_id = ? ORDER BY number",
                          (callback_id,)).fetchall()


def event_types(database, callback_id):
    """The types of a request's stored events, in the order stored."""
    with sqlite3.connect(database) as db:
        return [t for (t,) in db.execute("SELECT type FROM callback_events WHERE callback_id = ?"
                                         " ORDER BY id", (callback_id,))]


@pytest.fixture
def stack(tmp_path):
    flow = tmp_path / "callback_restart.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    stack = Stack(tmp_path, auto_login=False, flow=flow, gateways=[GATEWAY], extra_env={
        "FS_CC_CALLBACK_DIAL": "sofia/gateway/pstn/{number}",
        "FS_CC_CALLBACK_RESEND_SECONDS": "1"})
    yield stack
    stack.stop()


@pytest.mark.emulator_only  # the customers are the emulator's gateway
def test_given_a_pending_callback_when_the_engine_is_killed_then_the_restart_calls_back(stack):
    database = stack.var / "fs_cc.sqlite"
    stack.call(CALLER)  # no agent is free: after max_wait the caller presses 1
    (callback_id, state, calls, _, number, queue, _), = wait_until(
        lambda: callbacks(database), 30,
        "the request stored\n" + stack.procs.log("engine")[-2000:])
    assert (state, calls, number, queue) == ("pending", 0, CALLER, "sales")

    stack.kill_engine()
    stack.start_engine()
    # the worker's beat re-sends the open request; the new engine takes it back at its place
    wait_until(lambda: "callback.queued" in event_types(database, callback_id), 30,
               "the request taken back\n" + stack.procs.log("worker")[-2000:])

    stack.control().set_agent_status("1000", "available")  # an agent frees up

    wait_until(lambda: callbacks(database)[0][1] == "completed", 30,
               "the callback completed\n" + stack.procs.log("engine")[-3000:])
    (_, state, calls, agent, _, _, call_uuid), = callbacks(database)
    assert (state, calls, agent) == ("completed", 1, "1000")
    assert attempts(database, callback_id) == [(1, "1000", "connected", 1)]
    types = event_types(database, callback_id)
    assert types[0] == "callback.requested" and types.count("callback.dispatched") == 1
    # the customer talked to the agent: the callback's call has its record, once it ended
    record = wait_until(lambda: [r for r in stored(database) if r[0] == call_uuid], 30,
                        "the callback's call record")
    assert [(queue, agent, cause) for _, queue, agent, _, cause, _ in record] == [
        ("sales", "1000", "NORMAL_CLEARING")]
