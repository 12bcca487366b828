"""A queue's overflow taken by the flow runner when the queue node names no node for the reason."""

import gevent.event

from fs_cc import events
from fs_cc.acd.queue_def import parse_queue
from fs_cc.acd.waiting import QueueResult
from fs_cc.emitter import RecordingEmitter
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.ivr import parse_flow
from fs_cc.ivr.overflow import MAX_HOPS
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import ScriptedSession

FLOW = """\
start: wait
nodes:
  wait: {type: queue, queue: sales, max_wait: 30, outcomes: {timeout: sorry}}
  sorry: {type: hangup, cause: NORMAL_CLEARING}
"""


class QueuesAcd:
    """Queues by name with their settings; each caller leaves a queue with its given outcome.

    An answered call ends at once (``session`` hangs up), so the runner need not wait for a
    hangup the double never sends."""

    def __init__(self, outcomes, queues):
        self.outcomes = outcomes
        self.queues = {queue["name"]: parse_queue(queue) for queue in queues}
        self.enqueued = []
        self.session = None  # the call run() gives the runner

    def queue_definition(self, name):
        return self.queues.get(name)

    def enqueue(self, call_uuid, queue_name, **options):
        self.enqueued.append(queue_name)
        outcome = self.outcomes[queue_name]
        ticket = gevent.event.AsyncResult()
        ticket.set(QueueResult(outcome, "1000" if outcome is QueueOutcome.ANSWERED else None,
                               HangupSide.AGENT if outcome is QueueOutcome.ANSWERED else None,
                               "NORMAL_CLEARING"))
        if outcome is QueueOutcome.ANSWERED and self.session is not None:
            self.session.caller_hangs_up()
        return ticket

    def caller_gone(self, call_uuid, cause=None, event=None):
        pass

    def caller_unbridged(self, call_uuid, event):
        pass


def run(acd, flow_text=FLOW, flows=None):
    emitter = RecordingEmitter()
    session = acd.session = ScriptedSession()
    runner = FlowRunner(parse_flow(flow_text, "inline.yaml"), acd, emitter, flows=flows)
    return runner.run(session), session, emitter


def test_given_a_full_queue_overflowing_to_another_then_the_caller_waits_there():
    acd = QueuesAcd({"sales": QueueOutcome.FULL, "support": QueueOutcome.ANSWERED},
                    [{"name": "sales", "overflow": {"full": "queue:support"}}, {"name": "support"}])
    result, session, _ = run(acd)
    assert acd.enqueued == ["sales", "support"]
    assert result.outcome is FlowOutcome.QUEUED


def test_given_the_flows_own_outcome_then_it_wins_over_the_queues_overflow():
    acd = QueuesAcd({"sales": QueueOutcome.TIMEOUT, "support": QueueOutcome.ANSWERED},
                    [{"name": "sales", "overflow": {"timeout": "queue:support"}},
                     {"name": "support"}])
    result, _, _ = run(acd)
    assert acd.enqueued == ["sales"] and result.node_id == "sorry"


def test_given_a_hangup_with_a_message_then_the_message_plays_and_the_call_ends():
    acd = QueuesAcd({"sales": QueueOutcome.NO_AGENTS},
                    [{"name": "sales", "overflow": {"no_agents": "hangup:ivr/closed.wav"}}])
    result, session, _ = run(acd)
    assert ("playback", "ivr/closed.wav") in session.executed
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP and session.hung_up_by_us


def test_given_an_overflow_to_a_flow_then_that_flow_runs_from_its_start():
    acd = QueuesAcd({"sales": QueueOutcome.EXIT_KEY},
                    [{"name": "sales", "overflow": {"exit_key": "flow:closed"}}])
    other = FlowRunner(parse_flow("""\
start: note
nodes:
  note: {type: play, prompt: ivr/closed.wav, next: bye}
  bye: {type: hangup, cause: CALL_REJECTED}
""", "closed.yaml"), acd, RecordingEmitter())
    result, session, _ = run(acd, flows={"closed": other}.get)
    assert ("playback", "ivr/closed.wav") in session.executed
    assert (result.outcome, result.hangup_cause) == (FlowOutcome.FLOW_HUNG_UP, "CALL_REJECTED")


def test_given_queues_overflowing_into_each_other_then_the_hops_end():
    acd = QueuesAcd({"a": QueueOutcome.FULL, "b": QueueOutcome.FULL},
                    [{"name": "a", "overflow": {"full": "queue:b"}},
                     {"name": "b", "overflow": {"full": "queue:a"}}])
    result, session, _ = run(acd, FLOW.replace("queue: sales", "queue: a"))
    assert len(acd.enqueued) == MAX_HOPS + 1
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP


def test_given_a_callback_overflow_without_a_callback_node_then_the_call_ends_said_so(caplog):
    acd = QueuesAcd({"sales": QueueOutcome.FULL},
                    [{"name": "sales", "overflow": {"full": "callback"}}])
    result, _, emitter = run(acd)
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
    assert "has no callback node" in caplog.text
    assert any(isinstance(e, events.IvrNodeEntered) for e in emitter.events)
