"""The subflow and return nodes: another flow's nodes on the call, and back; recursion refused."""

import pytest

from fs_cc import events, journal
from fs_cc.catalog import Catalog
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.flows import build_flow_table
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_subflow import MAX_DEPTH, REFUSED_CAUSE, ReturnNode, SubflowNode
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.ivr.test_transfer import AnsweringAcd, Stack

MAIN = """\
start: vip
nodes:
  vip: {type: set, priority: 4, next: ask}
  ask: {type: subflow, flow: card_check, next: route}
  route:
    type: condition
    branches:
      - when: {variable: card_number, equals: "62001234"}
        then: desk
    else: bye
  desk: {type: queue, queue: support}
  bye: {type: hangup, cause: CALL_REJECTED}
"""
CARD_CHECK = """\
start: card
nodes:
  card:
    type: collect
    prompt: "tone_stream://%(200,0,800)"
    variable: card_number
    min_length: 8
    max_length: 8
    max_attempts: 1
    next: done
    default: give_up
  done: {type: return}
  give_up: {type: hangup, cause: USER_BUSY}
"""


def runners_for(texts, acd, emitter=None):
    """FlowRunners by name for flow ``texts`` (name -> YAML), each able to run the others."""
    emitter = emitter or RecordingEmitter()
    runners = {}
    for name, text in texts.items():
        runners[name] = FlowRunner(parse_flow(text, f"{name}.yaml"), acd, emitter,
                                   flows=runners.get)
    return runners, acd, emitter


def run(texts, session, first="main"):
    runners, acd, emitter = runners_for(texts, AnsweringAcd(session))
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000", caller_number="1")
    result = runners[first].run(session)
    return result, journal.fold(emitter.events), acd, emitter


def test_given_subflow_returns_when_run_then_caller_goes_on_with_its_variables():
    session = ScriptedSession(keys=["62001234"])
    result, record, acd, emitter = run({"main": MAIN, "card_check": CARD_CHECK}, session)
    assert result.outcome is FlowOutcome.QUEUED and result.node_id == "desk"
    assert record.ivr_path == ["vip", "ask", "card", "card:valid", "done", "route", "desk"]
    assert acd.options[0]["priority"] == 4  # the caller's priority survived the subflow
    assert session.variables["card_number"] == "62001234"
    entered = [(e.flow, e.node) for e in emitter.of_type(events.IvrNodeEntered)]
    assert entered == [("main", "vip"), ("main", "ask"), ("card_check", "card"),
                       ("card_check", "done"), ("main", "route"), ("main", "desk")]
    left = [(e.flow, e.node, e.outcome) for e in emitter.of_type(events.IvrNodeLeft)]
    assert ("main", "ask", "route") in left


def test_given_hangup_inside_subflow_when_run_then_call_ends_there():
    session = ScriptedSession(keys=[""])
    result, record, acd, _ = run({"main": MAIN, "card_check": CARD_CHECK}, session)
    assert (result.outcome, result.node_id, result.hangup_cause) == (
        FlowOutcome.FLOW_HUNG_UP, "give_up", "USER_BUSY")
    assert record.ivr_path[-1] == "give_up" and acd.enqueued == []


def test_given_queue_inside_subflow_when_run_then_queued_with_callers_priority():
    sub = "start: q\nnodes:\n  q: {type: queue, queue: sales}\n"
    result, _, acd, _ = run({"main": MAIN, "card_check": sub}, ScriptedSession())
    assert result.outcome is FlowOutcome.QUEUED and acd.enqueued == [("call-1", "sales")]
    assert acd.options[0]["priority"] == 4


def test_given_caller_hangs_up_inside_subflow_when_run_then_run_ends_naming_that_node():
    session = ScriptedSession(hang_up_at=3)  # answer, answer (the subflow's), the card prompt
    result, record, _, _ = run({"main": MAIN, "card_check": CARD_CHECK}, session)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP and result.node_id == "card"
    assert result.side is HangupSide.CALLER
    assert record.ivr_path == ["vip", "ask", "card"]


def test_given_return_in_flow_run_directly_when_reached_then_polite_hangup():
    session = ScriptedSession(keys=["62001234"])
    result, record, _, _ = run({"card_check": CARD_CHECK}, session, first="card_check")
    assert (result.outcome, result.node_id, result.hangup_cause, result.side) == (
        FlowOutcome.FLOW_HUNG_UP, "done", "NORMAL_CLEARING", HangupSide.SYSTEM)
    assert session.hung_up_by_us == "NORMAL_CLEARING"


def test_given_return_in_flow_reached_by_transfer_when_reached_then_polite_hangup():
    main = "start: away\nnodes:\n  away: {type: transfer, to: flow, flow: card_check}\n"
    result, _, _, _ = run({"main": main, "card_check": CARD_CHECK},
                          ScriptedSession(keys=["62001234"]))
    assert (result.outcome, result.node_id) == (FlowOutcome.FLOW_HUNG_UP, "done")


def test_given_two_flows_calling_each_other_when_run_then_second_call_refused():
    a = "start: go\nnodes:\n  go: {type: subflow, flow: b, next: bye}\n  bye: {type: hangup}\n"
    b = "start: go\nnodes:\n  go: {type: subflow, flow: a, next: bye}\n  bye: {type: hangup}\n"
    session = ScriptedSession()
    result, record, _, _ = run({"a": a, "b": b}, session, first="a")
    assert (result.outcome, result.hangup_cause) == (FlowOutcome.FLOW_HUNG_UP, REFUSED_CAUSE)
    assert record.ivr_path == ["go", "go"]  # a's go, then b's go, which is refused
    assert session.hung_up_by_us == REFUSED_CAUSE


def test_given_flow_transferring_to_itself_when_run_then_depth_limit_ends_the_call():
    loop = "start: again\nnodes:\n  again: {type: transfer, to: flow, flow: loop}\n"
    session = ScriptedSession()
    result, record, _, _ = run({"loop": loop}, session, first="loop")
    assert result.hangup_cause == REFUSED_CAUSE
    assert record.ivr_path == ["again"] * (MAX_DEPTH + 1)


def test_given_subflow_not_loaded_when_run_then_refused():
    result, _, _, _ = run({"main": MAIN}, ScriptedSession())
    assert (result.outcome, result.node_id, result.hangup_cause) == (
        FlowOutcome.FLOW_HUNG_UP, "ask", REFUSED_CAUSE)


def test_given_subflow_and_return_nodes_when_parsed_then_fields_and_terminal_return():
    node = parse_flow(MAIN, "main.yaml").node("ask")
    assert isinstance(node, SubflowNode)
    assert (node.flow, node.flow_line, node.next) == ("card_check", 4, "route")
    done = parse_flow(CARD_CHECK, "c.yaml").node("done")
    assert isinstance(done, ReturnNode) and done.terminal and done.targets() == []


@pytest.mark.parametrize("old, new, line, message", [
    ("flow: card_check, ", "", 4, "missing required field 'flow'"),
    ("flow: card_check", "flow: 'card check'", 4, "'flow' must be a flow's name"),
    ("next: route}", "nxt: route}", 4, "(is 'nxt' a typo?)"),
])
def test_given_bad_subflow_when_loaded_then_error_at_its_line(old, new, line, message):
    with pytest.raises(ConfigError) as caught:
        parse_flow(MAIN.replace(old, new), "bad.yaml")
    assert caught.value.line == line and message in caught.value.message


def test_given_return_with_a_field_when_loaded_then_refused():
    with pytest.raises(ConfigError) as caught:
        parse_flow(CARD_CHECK.replace("{type: return}", "{type: return, next: card}"), "b.yaml")
    assert caught.value.line == 12 and "unknown field 'next'" in caught.value.message


def test_given_subflow_on_the_emulator_when_card_keyed_then_back_in_main_and_queued(switch):
    # nobody serves the queue: the call ends in the flow, not after an agent's talk
    runners, acd, emitter = runners_for({"main": MAIN, "card_check": CARD_CHECK},
                                        RecordingAcd(outcome=QueueOutcome.NO_AGENTS))
    stack = Stack(switch, lambda did: runners["main"], emitter)
    try:
        ended, record = stack.call(dtmf="62001234", talk_seconds=5)
    finally:
        stack.stop()
    assert record.ivr_path == ["vip", "ask", "card", "card:valid", "done", "route", "desk"]
    assert acd.enqueued == [(ended.call_uuid, "support")]


def test_given_flow_table_when_a_flow_calls_another_then_that_one_is_loaded_too(tmp_path):
    (tmp_path / "main.yaml").write_text(MAIN)
    (tmp_path / "card_check.yaml").write_text(CARD_CHECK)
    catalog = Catalog.from_settings([{"name": "support"}], [])
    table = build_flow_table(catalog, tmp_path / "main.yaml", RecordingAcd(), RecordingEmitter())
    assert sorted(table.runners) == ["card_check", "main"]
    (tmp_path / "card_check.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        build_flow_table(catalog, tmp_path / "main.yaml", RecordingAcd(), RecordingEmitter())
    assert "flow 'card_check'" in str(caught.value) and "routed from flow 'main'" in str(
        caught.value)
