"""An engine killed while a caller talks to an agent: its restart keeps the survey the flow armed
after the agent (queue outcome ``answered``), and the caller rates the agent who answered."""

import sqlite3

import pytest

from tests.e2e.stack import Stack, open_calls, stored
from tests.polling import wait_until

FLOW = """\
start: sales
nodes:
  sales:
    type: queue
    queue: sales
    outcomes: {answered: rate}
  rate:
    type: survey
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    timeout: 3
    next: bye
  bye: {type: hangup, cause: NORMAL_CLEARING}
"""


def survey_answers(database):
    if not database.exists():
        return []
    with sqlite3.connect(database) as db:
        return db.execute("SELECT call_uuid, node, score, agent, queue FROM survey_answers"
                          ).fetchall()


@pytest.mark.emulator_only  # kills the engine while the emulator keeps the call up
def test_given_a_survey_armed_when_the_engine_restarts_during_the_talk_then_the_caller_rates(
        tmp_path):
    flow = tmp_path / "flows" / "survey.yaml"
    flow.parent.mkdir()
    flow.write_text(FLOW, encoding="utf-8")
    stack = Stack(tmp_path, auto_login=True, flow=flow)
    try:
        stack.call("13900139000", talk_seconds=100000)  # presses 1: the survey's score
        outbox = stack.var / "engine-outbox.sqlite"
        (call,) = wait_until(lambda: [p for p in open_calls(outbox) if p.get("leg_uuid")], 30,
                             "the call with its agent spooled")

        stack.kill_engine()
        stack.start_engine()
        wait_until(lambda: {a["extension"]: a["status"] for a in stack.control().agents()}[
            call["agent"]] == "on_call", 30, "the agent back on the adopted call\n"
            + stack.procs.log("engine")[-2000:])

        stack.esl.api(f"uuid_kill {call['leg_uuid']} NORMAL_CLEARING")  # the agent hangs up
        answers = wait_until(lambda: survey_answers(stack.var / "fs_cc.sqlite"), 30,
                             "the survey answered\n" + stack.procs.log("engine")[-3000:])
        assert answers == [(call["uuid"], "rate", 1, call["agent"], "sales")]
        rows = wait_until(lambda: stored(stack.var / "fs_cc.sqlite"), 30, "the call's record")
        uuid, queue, agent, side, cause, _ = rows[0]
        assert (uuid, queue, agent) == (call["uuid"], "sales", call["agent"])
        assert (side, cause) == ("system", "NORMAL_CLEARING")  # the flow's hangup, after it
    finally:
        stack.stop()
