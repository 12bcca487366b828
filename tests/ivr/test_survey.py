"""The survey node: 1-5 by DTMF with retries, the agent who answered named, and a caller who goes
on into it after the agent hangs up (queue outcome ``answered``) on the switch with the real ACD."""

import pathlib
import re

import pytest

from fs_cc import events, journal
from fs_cc.acd import MemoryStore, build_acd
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.esl.protocol import Event
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_survey import SURVEY_VARIABLE, SurveyNode
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import AnsweringAcd, RecordingAcd, ScriptedSession
from tests.switch import wait_until

DID = "5901"
FLOW = """\
start: support
nodes:
  support:
    type: queue
    queue: support
    outcomes: {answered: rate}
  rate:
    type: survey
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    timeout: 3
    max_attempts: 2
    thanks_prompt: ivr/ivr-thank_you.wav
    next: bye
    default: silent
  bye: {type: hangup, cause: NORMAL_CLEARING}
  silent: {type: hangup, cause: NO_USER_RESPONSE}
"""


class SurveySession(ScriptedSession):
    """A ScriptedSession whose play_and_get_digits fills the survey's variable too."""

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        key = self.keys[0] if app == "play_and_get_digits" and self.keys else ""
        event = super().execute(app, arg, wait=wait, timeout=timeout)
        if app != "play_and_get_digits" or not key:
            return event
        return Event(dict(event.headers, **{f"variable_{SURVEY_VARIABLE}": key}))


def run(session, flow_text=FLOW, acd=None):
    emitter = RecordingEmitter()
    acd = acd or RecordingAcd()
    result = FlowRunner(parse_flow(flow_text, "inline.yaml"), acd, emitter).run(session)
    return result, emitter, acd


def test_given_survey_node_when_parsed_then_fields_and_edges():
    node = parse_flow(FLOW, "f.yaml").node("rate")
    assert isinstance(node, SurveyNode)
    assert (node.timeout, node.max_attempts, node.default) == (3.0, 2, "silent")
    assert [t.node_id for t in node.targets()] == ["bye", "silent"]
    assert node.arguments(node.prompts).split(" ")[:5] == ["1", "1", "1", "3000", "#"]


def test_given_answered_outcome_with_unknown_node_when_parsed_then_error_at_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_flow(FLOW.replace("{answered: rate}", "{answered: rates}"), "bad.yaml")
    assert "goes to unknown node 'rates'" in str(caught.value) and caught.value.line == 6


def test_given_agent_hangs_up_when_queue_names_answered_then_caller_rates_that_agent():
    session = SurveySession(keys=["7", "4"])
    result, emitter, acd = run(session)
    assert acd.options[0]["keep_caller"] is True  # the ACD parks the caller, not hangs it up
    assert (result.outcome, result.node_id) == (FlowOutcome.FLOW_HUNG_UP, "bye")
    assert [(e.input, e.result) for e in emitter.of_type(events.IvrInput)] == [
        ("7", "invalid"), ("4", "option")]
    [answer] = emitter.of_type(events.SurveyAnswered)
    assert (answer.score, answer.agent, answer.queue, answer.node) == (4, "1000", "support", "rate")
    assert ("playback", "ivr/ivr-thank_you.wav") in session.executed


def test_given_no_valid_key_when_surveyed_then_no_score_and_default():
    result, emitter, _ = run(SurveySession(keys=["", "9"]))
    assert result.node_id == "silent"
    [answer] = emitter.of_type(events.SurveyAnswered)
    assert answer.score is None and answer.agent == "1000"


def test_given_queue_without_answered_outcome_when_agent_hangs_up_then_flow_ends_as_before():
    flow_text = FLOW.replace("    outcomes: {answered: rate}\n", "")
    flow_text = flow_text.replace("start: support", "start: support\n")
    session = SurveySession(keys=["4"])
    result, emitter, acd = run(session, flow_text + "  unused: {type: goto, to: rate}\n",
                               acd=AnsweringAcd(session))
    assert result.outcome is FlowOutcome.QUEUED
    assert acd.options[0]["keep_caller"] is False
    assert emitter.of_type(events.SurveyAnswered) == []


def test_given_caller_hangs_up_first_when_answered_outcome_then_no_survey():
    session = SurveySession(keys=["4"])
    acd = AnsweringAcd(session, hangup_side=HangupSide.CALLER)
    result, emitter, _ = run(session, acd=acd)
    assert result.outcome is FlowOutcome.QUEUED
    assert emitter.of_type(events.SurveyAnswered) == []


def test_given_caller_hangs_up_during_survey_when_run_then_ends_at_once():
    session = SurveySession(keys=["4"], hang_up_at=2)  # answer, then the survey's prompt
    result, emitter, _ = run(session)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP and result.node_id == "rate"
    assert emitter.of_type(events.SurveyAnswered) == []
    assert session.apps() == ["answer", "play_and_get_digits"]


def test_given_unanswered_queue_outcome_when_no_agents_then_survey_not_reached():
    acd = RecordingAcd(outcome=QueueOutcome.NO_AGENTS)
    result, emitter, _ = run(SurveySession(keys=["4"]), acd=acd)
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP and result.node_id == "support"
    assert emitter.of_type(events.SurveyAnswered) == []


# -- on the switch, with the ACD: the agent hangs up, the caller stays and rates ----------------

EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
          "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB")


@pytest.fixture
def survey_stack(switch):
    """FLOW on the switch's calls with a real ACD (agent 1001 in support); the finished calls."""
    emitter = RecordingEmitter()
    esl = InboundClient(*switch.esl_address, switch.password, events=EVENTS)
    esl.start()
    assert esl.wait_connected(timeout=5)
    acd = build_acd(MemoryStore(), CallControl(esl), {
        "queues": [{"name": "support"}],
        "agents": [{"extension": "1001", "name": "Agent 1001", "queues": ["support"]}],
        "ring_timeout": 5, "retry_delay": 0.05}, emitter)
    acd.start()
    acd.login("1001")
    runner = FlowRunner(parse_flow(FLOW, "survey.yaml", queues={"support"}), acd, emitter)
    handler = CallHandler(lambda did: runner, emitter)
    done = []
    server = OutboundServer("127.0.0.1", 0, lambda s: done.append(handler.handle(s))).start()
    switch.route_to(*server.address)
    yield emitter, done
    server.stop(timeout=1)
    acd.stop()
    esl.stop()


def test_given_agent_hangs_up_on_the_switch_when_answered_outcome_then_caller_rates_the_agent(
        switch, survey_stack):
    emitter, done = survey_stack
    switch.set_agent("1001", answer_delay=1.0, talk_seconds=4)
    switch.place_call(DID, caller_number="5551234", dtmf="5")
    wait_until(lambda: done, timeout=10 + switch.real_seconds(40), what="the call to end")
    [ended] = done
    record = journal.fold(emitter.of_call(ended.call_uuid))
    assert record.agent == "1001"
    [answer] = emitter.of_type(events.SurveyAnswered)
    assert (answer.score, answer.agent, answer.queue) == (5, "1001", "support")
    left = [(e.node, e.outcome) for e in emitter.of_type(events.IvrNodeLeft)]
    assert left == [("support", "rate"), ("rate", "bye")]
    assert ended.side is HangupSide.SYSTEM  # the flow's hangup node ended it, after the survey


def test_the_docs_examples_of_the_message_nodes_are_valid_flows():
    """docs/ivr.rst: each of the record, voicemail, sms and survey sections' examples loads."""
    text = (pathlib.Path(__file__).parents[2] / "docs" / "ivr.rst").read_text(encoding="utf-8")
    loaded = {}
    for section in ("record", "voicemail", "sms", "survey"):
        body = re.search(rf"\n{section}\n={{{len(section)}}}\n(.*?)(?:\n\S+\n=+\n|\Z)", text,
                         re.S).group(1)
        block = re.search(r"\.\. code-block:: yaml\n\n((?:    .*\n|\n)+)", body).group(1)
        flow = parse_flow("\n".join(line[4:] for line in block.splitlines()), f"{section}.rst")
        loaded[section] = sorted({node.type_name for node in flow.nodes.values()})
    assert all(section in types for section, types in loaded.items()), loaded
