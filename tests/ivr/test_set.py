"""The set node: one or several variables, and the caller's priority and skills for the queue."""

import pytest

from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.events import QueueOutcome
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_queue import SetNode
from fs_cc.ivr.runner import FlowOutcome, FlowRunner, merge_skills
from tests.ivr.doubles import RecordingAcd, ScriptedSession


def flow(set_fields, queue_fields="", source="inline.yaml"):
    return parse_flow(f"""\
start: tag
nodes:
  tag:
    type: set
{set_fields}    next: sales
  sales:
    type: queue
    queue: sales
{queue_fields}""", source)


def full_acd():
    """An ACD double whose queue is full: the run ends at once (no wait for an agent's call)."""
    return RecordingAcd(outcome=QueueOutcome.FULL)


def run(flow_):
    session, acd = ScriptedSession(), full_acd()
    result = FlowRunner(flow_, acd, RecordingEmitter()).run(session)
    return result, session, acd


def test_given_one_variable_when_run_then_it_is_set_as_before():
    node = flow("    variable: fs_cc_lang\n    value: en\n").node("tag")
    assert (node.variable, node.value) == ("fs_cc_lang", "en")
    assert node.variables == (("fs_cc_lang", "en"),)
    result, session, acd = run(flow("    variable: fs_cc_lang\n    value: en\n"))
    assert session.variables == {"fs_cc_lang": "en"}
    assert acd.options[0]["priority"] == 0 and acd.options[0]["skills"] == {}


def test_given_several_variables_when_run_then_all_set_in_order_with_texts():
    result, session, acd = run(flow("    variables: {tier: gold, points: 1500, vip: true}\n"))
    assert list(session.variables.items()) == [("tier", "gold"), ("points", "1500"),
                                               ("vip", "true")]
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP  # the queue was full


def test_given_priority_and_skills_when_queue_node_has_none_then_enqueue_gets_them():
    result, session, acd = run(flow("    priority: 7\n    skills: {mandarin: 3, vip: 2}\n"))
    assert acd.enqueued == [("call-1", "sales")]
    assert acd.options[0]["priority"] == 7
    assert acd.options[0]["skills"] == {"mandarin": 3, "vip": 2}
    assert session.variables == {}


def test_given_queue_node_values_too_when_run_then_higher_priority_and_merged_skills():
    result, session, acd = run(flow("    priority: 3\n    skills: {mandarin: 3, vip: 2}\n",
                                    "    priority: 5\n    skills: {mandarin: 5, billing: 1}\n"))
    assert acd.options[0]["priority"] == 5
    assert acd.options[0]["skills"] == {"mandarin": 5, "vip": 2, "billing": 1}


def test_given_two_set_nodes_when_run_then_highest_priority_and_skill_levels_kept():
    text = """\
start: one
nodes:
  one: {type: set, priority: 9, skills: {vip: 4}, next: two}
  two: {type: set, priority: 2, skills: {vip: 1, english: 2}, variable: x, value: 1, next: q}
  q: {type: queue, queue: sales, priority: 1}
"""
    result, session, acd = run(parse_flow(text, "two.yaml"))
    assert acd.options[0]["priority"] == 9
    assert acd.options[0]["skills"] == {"vip": 4, "english": 2}
    assert session.variables == {"x": "1"}


def test_given_set_priority_when_a_new_call_runs_then_it_does_not_leak_to_it():
    flow_ = flow("    priority: 7\n")
    acd = full_acd()
    runner = FlowRunner(flow_, acd, RecordingEmitter())
    runner.run(ScriptedSession(uuid="call-1"))
    plain = parse_flow("start: q\nnodes:\n  q: {type: queue, queue: sales}\n", "p.yaml")
    runner.flow = plain  # the same runner: no state kept from the first call
    runner.run(ScriptedSession(uuid="call-2"))
    assert [options["priority"] for options in acd.options] == [7, 0]


def test_given_skill_maps_when_merged_then_every_skill_at_the_higher_minimum():
    assert merge_skills({"a": 1, "b": 5}, {"b": 3, "c": 2}) == {"a": 1, "b": 5, "c": 2}
    assert merge_skills({}, {}) == {}


@pytest.mark.parametrize("fields, line, message", [
    ("", 3, "give 'variable' and 'value', 'variables', 'priority' or 'skills'"),
    ("    variables: {tier: gold, 'bad name': 1}\n", 5, "'bad name' is not a channel variable"),
    ("    variable: tier\n    value: a\n    variables: {tier: b}\n", 7,
     "variable 'tier' is set twice"),
    ("    variables: {tier: [1, 2]}\n", 5, "'variables: tier' must be a text or a number"),
    ("    variables: []\n", 5, "'variables' must map variable names to values"),
    ("    priority: -1\n", 5, "'priority' must be a whole number of at least 0"),
    ("    skills: {vip: 11}\n", 5, "'skills' must map skill names to minimum levels 1-10"),
    ("    variable: tier\n", 3, "missing required field 'value'"),
    ("    priorty: 3\n", 5, "unknown field 'priorty'"),
])
def test_given_bad_set_fields_when_loaded_then_error_at_line(fields, line, message):
    with pytest.raises(ConfigError) as caught:
        flow(fields, source="bad.yaml")
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"bad.yaml:{line}: node 'tag' (set): ")
    assert message in str(caught.value)


def test_given_set_node_when_parsed_then_it_is_a_set_node():
    assert isinstance(flow("    priority: 1\n").node("tag"), SetNode)
