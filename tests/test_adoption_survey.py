"""The adopting engine's choice once an adopted caller's agent hangs up: on with the flow (the
survey after ``answered``) when the earlier run kept the caller, else the call ends."""

import datetime
import types
from unittest import mock

import gevent.event

from fs_cc import events
from fs_cc.acd.acd import ACD
from fs_cc.acd.waiting import QueueResult
from fs_cc.adoption import ADOPT_EXTENSION, Adopter, Adoption
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.channels import ChannelTracker
from fs_cc.emitter import RecordingEmitter
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.flows import FlowTable
from fs_cc.ivr import parse_flow
from fs_cc.ivr.runner import FlowRunner
from tests.polling import wait_until

FLOW = """\
start: support
nodes:
  support: {type: queue, queue: support, outcomes: {answered: rate}}
  rate: {type: survey, prompt: ivr/ivr-welcome_to_freeswitch.wav, next: bye}
  bye: {type: hangup}
"""
ADOPTION = Adoption("c1", "e-old", "5901", datetime.datetime(2026, 12, 7, 9, 0,
                    tzinfo=datetime.timezone.utc), node="support", agent="1001",
                    leg_uuid="leg1", last_queue="support")


def adopter(flow_text, kept):
    """An Adopter on a stand-in engine whose switch says the caller is ``kept`` or not."""
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(flow_text, "f.yaml"), None, emitter)
    ctl = mock.create_autospec(CallControl, instance=True)
    ctl.exists.return_value = True
    ctl.get_var.return_value = "true" if kept else None
    acd = mock.create_autospec(ACD, instance=True)
    acd.adopt_connected.return_value = ticket = gevent.event.AsyncResult()
    engine = types.SimpleNamespace(
        ctl=ctl, acd=acd, emitter=emitter, channels=ChannelTracker(), live={}, handler=CallHandler(lambda did: runner, emitter),
        flows=FlowTable(flows={}, runners={"f": runner}, routes={}, default="f"))
    return Adopter(engine), engine, ticket


def agent_hangs_up(job, ticket):
    """Adopt the call, then let its agent hang up."""
    job.pending["c1"] = ADOPTION
    job.run()
    ticket.set(QueueResult(QueueOutcome.ANSWERED, "1001", HangupSide.AGENT, "NORMAL_CLEARING"))


def test_given_a_kept_caller_when_its_agent_hangs_up_then_sent_on_to_the_node_after_answered():
    job, engine, ticket = adopter(FLOW, kept=True)
    agent_hangs_up(job, ticket)

    assert engine.acd.adopt_connected.call_args.kwargs == {"keep": True}

    wait_until(lambda: engine.ctl.transfer.called, 5, "the caller sent back to the socket")
    assert engine.ctl.transfer.call_args.args[:2] == ("c1", ADOPT_EXTENSION)
    assert engine.ctl.set_var.call_args_list == [mock.call("c1", "answered_agent", "1001"),
                                                 mock.call("c1", "answered_queue", "support")]
    resumed = engine.handler.adoptions["c1"]
    assert (resumed.node, resumed.queue, resumed.agent) == ("rate", None, None)
    assert engine.emitter.of_type(events.CallEnded) == []  # the flow's run ends the call
    engine.acd.kill.assert_not_called()


def test_given_a_kept_caller_whose_node_goes_nowhere_after_an_answer_then_the_call_ends():
    job, engine, ticket = adopter(FLOW.replace(", outcomes: {answered: rate}", ""), kept=True)
    agent_hangs_up(job, ticket)

    wait_until(lambda: engine.emitter.of_type(events.CallEnded), 5, "the call ended")
    engine.acd.kill.assert_called_once_with("c1", "NORMAL_CLEARING")  # not left parked
    engine.ctl.transfer.assert_not_called()


def test_given_a_caller_not_kept_when_its_agent_hangs_up_then_the_call_ends_as_before():
    job, engine, ticket = adopter(FLOW, kept=False)
    agent_hangs_up(job, ticket)

    assert engine.acd.adopt_connected.call_args.kwargs == {"keep": False}

    [ended] = wait_until(lambda: engine.emitter.of_type(events.CallEnded), 5, "the call ended")
    assert ended.side is HangupSide.AGENT
    engine.ctl.transfer.assert_not_called()
    engine.acd.kill.assert_not_called()  # the ACD hung the caller up with the agent
