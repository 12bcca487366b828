"""The condition node: branches on variables, caller number, business hours, holidays, queues."""

import datetime
import zoneinfo

import pytest

from fs_cc import events
from fs_cc.acd import ACD, MemoryStore, Queue
from fs_cc.callctl import CallControl
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_condition import ConditionNode, queue_figures
from fs_cc.ivr.runner import FlowRunner
from tests.acd.doubles import FakeSwitch
from tests.ivr.doubles import RecordingAcd, ScriptedSession

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ENDS = """\
  a: {type: hangup, cause: NORMAL_CLEARING}
  b: {type: hangup, cause: USER_BUSY}
  other: {type: hangup, cause: CALL_REJECTED}
"""


def flow_with(when, extra="", source="inline.yaml"):
    """A flow: set tier/points, then a condition whose first branch is ``when`` (to a)."""
    return parse_flow(f"""\
start: tag
nodes:
  tag:
    type: set
    variables: {{tier: gold, points: 1500}}
    next: route
  route:
    type: condition
    branches:
      - when: {when}
        then: a
{extra}    else: other
{ENDS}""", source)


def at(year, month, day, hour, minute=0):
    """Epoch seconds of a Shanghai wall-clock time."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).timestamp()


def taken(flow, *, caller="13800138000", now=None, acd=None):
    """The hangup cause the run ends with: which end node the condition led to."""
    session = ScriptedSession(caller_number=caller)
    clock = (lambda: now) if now is not None else None
    options = {"clock": clock} if clock else {}
    result = FlowRunner(flow, acd or RecordingAcd(), RecordingEmitter(), **options).run(session)
    return {"NORMAL_CLEARING": "a", "USER_BUSY": "b", "CALL_REJECTED": "other"}[
        result.hangup_cause]


@pytest.mark.parametrize("when, expected", [
    ("{variable: tier, equals: gold}", "a"),
    ("{variable: tier, equals: silver}", "other"),
    ("{variable: tier, in: [silver, gold]}", "a"),
    ("{variable: tier, in: [silver, bronze]}", "other"),
    ("{variable: tier, matches: '^go'}", "a"),
    ("{variable: tier, matches: '^si'}", "other"),
    ("{variable: points, above: 1000}", "a"),
    ("{variable: points, above: 1500}", "other"),
    ("{variable: points, below: 2000}", "a"),
    ("{variable: points, above: 1000, below: 1200}", "other"),
    ("{variable: points, at_least: 1500, at_most: 1500}", "a"),
    ("{variable: tier, above: 3}", "other"),  # not a number: the test does not hold
    ("{variable: unset_thing, equals: ''}", "a"),
    ("{variable: tier, equals: gold, caller_prefix: '139'}", "other"),  # every test must hold
])
def test_given_variable_test_when_run_then_branch_as_compared(when, expected):
    assert taken(flow_with(when)) == expected


def test_given_channel_variable_not_set_by_flow_when_compared_then_channel_value_is_used():
    flow = flow_with("{variable: fs_cc_did_lang, equals: zh}")
    session = ScriptedSession()
    session.variables["fs_cc_did_lang"] = "zh"
    result = FlowRunner(flow, RecordingAcd(), RecordingEmitter()).run(session)
    assert result.hangup_cause == "NORMAL_CLEARING"


def test_given_two_matching_branches_when_run_then_first_wins():
    flow = flow_with("{variable: tier, equals: gold}",
                     "      - when: {variable: points, above: 1}\n        then: b\n")
    assert taken(flow) == "a"
    flow = flow_with("{variable: tier, equals: silver}",
                     "      - when: {variable: points, above: 1}\n        then: b\n")
    assert taken(flow) == "b"


@pytest.mark.parametrize("when, caller, expected", [
    ("{caller_prefix: '138'}", "13800138000", "a"),
    ("{caller_prefix: ['139', '+86138']}", "+8613800138000", "a"),
    ("{caller_prefix: 139}", "13800138000", "other"),
    ("{caller_matches: '^1[3-9][0-9]{9}$'}", "13800138000", "a"),
    ("{caller_matches: '^0'}", "13800138000", "other"),
    ("{caller_matches: '^0'}", "", "other"),
])
def test_given_caller_number_test_when_run_then_branch_by_pattern(when, caller, expected):
    assert taken(flow_with(when), caller=caller) == expected


HOURS = ("{hours: {tz: Asia/Shanghai, mon-fri: '09:00-18:00', "
         "sat: ['10:00-12:00', '13:00-16:00'], holidays: [2026-10-01]}}")


@pytest.mark.parametrize("now, expected", [
    (at(2026, 12, 3, 9, 0), "a"),  # a Thursday, at opening
    (at(2026, 12, 3, 17, 59), "a"),
    (at(2026, 12, 3, 18, 0), "other"),  # the end of a range is closed
    (at(2026, 12, 3, 8, 59), "other"),
    (at(2026, 12, 5, 12, 30), "other"),  # Saturday lunch break
    (at(2026, 12, 5, 13, 0), "a"),
    (at(2026, 12, 6, 11, 0), "other"),  # Sunday: no hours
    (at(2026, 10, 1, 11, 0), "other"),  # a Thursday, but a holiday
])
def test_given_business_hours_in_shanghai_when_run_then_open_or_closed(now, expected):
    assert taken(flow_with(HOURS), now=now) == expected


def test_given_utc_clock_before_shanghai_midnight_when_judged_then_local_day_counts():
    # 2026-12-04 01:30 UTC is Friday 09:30 in Shanghai (Thursday evening in UTC)
    now = datetime.datetime(2026, 12, 4, 1, 30, tzinfo=datetime.timezone.utc).timestamp()
    flow = flow_with("{hours: {tz: Asia/Shanghai, fri: '09:00-10:00'}}")
    assert taken(flow, now=now) == "a"


def test_given_holidays_file_when_run_then_its_dates_are_closed(tmp_path):
    (tmp_path / "holidays.txt").write_text("# 国庆\n2026-10-01\n\n2026-12-03  # test day\n")
    flow = flow_with("{hours: {tz: Asia/Shanghai, mon-sun: '00:00-24:00', "
                     "holidays_file: holidays.txt}}", source=str(tmp_path / "flow.yaml"))
    assert taken(flow, now=at(2026, 12, 3, 11)) == "other"
    assert taken(flow, now=at(2026, 12, 2, 23, 59)) == "a"


def test_given_queue_figures_when_run_then_branch_on_wait_and_agents():
    acd = RecordingAcd()
    acd.figures["sales"] = {"estimated_wait": 400.0, "agents_available": 0}
    long_wait = flow_with("{queue: sales, estimated_wait: {above: 300}}")
    nobody = flow_with("{queue: sales, agents_available: {below: 1}}")
    assert taken(long_wait, acd=acd) == "a" and taken(nobody, acd=acd) == "a"
    acd.figures["sales"] = {"estimated_wait": 30.0, "agents_available": 2}
    assert taken(long_wait, acd=acd) == "other" and taken(nobody, acd=acd) == "other"
    acd.figures.clear()  # unknown figures: the test does not hold
    assert taken(nobody, acd=acd) == "other"


def test_given_the_real_acd_when_figures_asked_then_agents_available_and_a_wait_estimate():
    store = MemoryStore()
    acd = ACD(store, CallControl(FakeSwitch()), [Queue("sales")], RecordingEmitter())
    for ext in ("1000", "1001"):
        store.define_agent(ext, f"Agent {ext}", ["sales"])
    acd.login("1000")
    figures = queue_figures(acd, "sales")
    assert figures["agents_available"] == 1
    assert figures["estimated_wait"] == acd.announcer.wait_at("sales", 1)
    assert queue_figures(acd, "nosuch") == {}
    assert taken(flow_with("{queue: sales, agents_available: {at_least: 1}}"), acd=acd) == "a"


def test_given_condition_when_run_then_node_left_names_the_branch_target():
    emitter = RecordingEmitter()
    FlowRunner(flow_with("{variable: tier, equals: gold}"), RecordingAcd(), emitter).run(
        ScriptedSession())
    left = [(e.node, e.outcome) for e in emitter.events if isinstance(e, events.IvrNodeLeft)]
    assert left == [("tag", "route"), ("route", "a")]


def test_given_condition_node_when_parsed_then_targets_are_branches_then_else():
    node = flow_with("{variable: tier, equals: gold}").node("route")
    assert isinstance(node, ConditionNode)
    assert [(t.label, t.node_id, t.line) for t in node.targets()] == [
        ("branch 1", "a", 11), ("else", "other", 12)]


@pytest.mark.parametrize("when, message", [
    ("{variable: tier, matches: '^(go'}", "bad regex '^(go'"),
    ("{caller_matches: '[0-9'}", "bad regex '[0-9'"),
    ("{hours: {tz: Asia/Shanghia, mon: '09:00-18:00'}}", "unknown time zone 'Asia/Shanghia'"),
    ("{hours: {tz: UTC, mon: '9-18'}}", "bad time range '9-18'"),
    ("{hours: {tz: UTC, mon: '18:00-09:00'}}", "bad time range '18:00-09:00'"),
    ("{hours: {tz: UTC, mon: '09:00-25:00'}}", "bad time range '09:00-25:00'"),
    ("{hours: {tz: UTC, mon: '09:60-10:00'}}", "bad time range '09:60-10:00'"),
    ("{hours: {tz: UTC, monday: '09:00-18:00'}}", "bad day 'monday'"),
    ("{hours: {tz: UTC, fri-mon: '09:00-18:00'}}", "bad day span 'fri-mon'"),
    ("{hours: {tz: UTC, mon-fri: '09:00-18:00', fri: '10:00-11:00'}}", "fri is given twice"),
    ("{hours: {tz: UTC, mon: '09:00-18:00', holidays: ['2026-13-01']}}",
     "bad holiday date '2026-13-01'"),
    ("{hours: {mon: '09:00-18:00'}}", "'hours' needs 'tz'"),
    ("{variable: tier}", "variable 'tier' needs a comparison"),
    ("{variable: points, above: many}", "'above' must be a number"),
    ("{queue: sales, estimated_wait: 60}", "'estimated_wait' must be one comparison"),
    ("{queue: sales}", "queue 'sales' needs a figure"),
    ("{weather: sunny}", "unknown test 'weather'"),
    ("{equals: gold}", "unknown test 'equals'"),
])
def test_given_bad_test_when_loaded_then_error_at_the_branch_line(when, message):
    with pytest.raises(ConfigError) as caught:
        flow_with(when, source="bad.yaml")
    assert caught.value.line == 10, str(caught.value)
    assert str(caught.value).startswith("bad.yaml:10: node 'route' (condition): ")
    assert message in str(caught.value)


def test_given_branch_without_then_when_loaded_then_error():
    with pytest.raises(ConfigError) as caught:
        parse_flow("""\
start: route
nodes:
  route:
    type: condition
    branches:
      - when: {variable: tier, equals: gold}
    else: a
  a: {type: hangup}
""", "bad.yaml")
    assert caught.value.line == 6
    assert "each branch needs 'when:' (the tests) and 'then:' (a node)" in str(caught.value)


def test_given_branch_to_unknown_node_when_loaded_then_error_at_then_line():
    with pytest.raises(ConfigError) as caught:
        parse_flow("""\
start: route
nodes:
  route:
    type: condition
    branches:
      - when: {variable: tier, equals: gold}
        then: nowhere
    else: a
  a: {type: hangup}
""", "bad.yaml")
    assert str(caught.value) == "bad.yaml:7: node 'route' branch 1 goes to unknown node 'nowhere'"


def test_given_bad_line_in_holidays_file_when_loaded_then_error_names_that_file_and_line(
        tmp_path):
    (tmp_path / "holidays.txt").write_text("2026-10-01\n2026-10-32\n")
    with pytest.raises(ConfigError) as caught:
        flow_with("{hours: {tz: UTC, mon: '09:00-18:00', holidays_file: holidays.txt}}",
                  source=str(tmp_path / "flow.yaml"))
    assert str(caught.value).startswith(f"{tmp_path / 'holidays.txt'}:2: ")
    assert "bad holiday date '2026-10-32'" in str(caught.value)


def test_given_missing_holidays_file_when_loaded_then_error_at_the_flow_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        flow_with("{hours: {tz: UTC, mon: '09:00-18:00', holidays_file: none.txt}}",
                  source=str(tmp_path / "flow.yaml"))
    assert caught.value.line == 10
    assert "cannot read holidays file 'none.txt'" in str(caught.value)


def test_given_a_condition_on_an_unknown_queue_then_refused_at_its_line():
    from fs_cc.ivr.flow import check_queues

    flow = flow_with("{queue: salez, agents_available: {at_least: 1}}")
    check_queues(flow_with("{queue: sales, agents_available: {at_least: 1}}"), {"sales"})
    with pytest.raises(ConfigError) as caught:
        check_queues(flow, {"sales", "support"})
    assert "node 'route' reads the figures of unknown queue 'salez'" in str(caught.value)
    assert caught.value.line == flow.node("route").line
