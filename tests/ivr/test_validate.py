"""`fs-cc ivr validate`: every problem of a flow, each at file:line:column in plain words."""

import dataclasses
import pathlib
import subprocess
import sys
import typing

import pytest

from fs_cc.ivr.nodes import NODE_TYPES, Node
from fs_cc.ivr.validate import validate_file, validate_text
from fs_cc.ivr.yamlmarks import load_yaml
from fs_cc.sounds import SHIPPED_SOUNDS, sound_prefix
from tests.web.support import app_on, database_url_for, dispose, migrated_databases  # noqa: F401
from web import bootstrap_demo

REPO = pathlib.Path(__file__).resolve().parents[2]
BAD = pathlib.Path(__file__).resolve().parent / "bad_flows"
QUEUES = {"sales", "support"}
PREFIX = sound_prefix(SHIPPED_SOUNDS)
KNOWN = ", ".join(sorted(NODE_TYPES))  # other node types may join


def lines_of(name):
    path = BAD / name
    return [str(p) for p in validate_file(str(path), QUEUES, PREFIX, {"main"})]


def at(name, where):
    return f"{BAD / name}:{where}"


@pytest.mark.parametrize("name, expected", [
    ("unknown_type.yaml",
     f"4:11: error: node 'welcome' has unknown node type 'speak' (known: {KNOWN})"),
    ("missing_target.yaml", "6:11: error: node 'welcome' next goes to unknown node 'menu'"),
    ("unreachable.yaml", "7:3: error: node 'forgotten' can never be reached from the start node "
                         "'welcome': no option or next leads to it"),
    ("loop.yaml", "3:3: error: node 'welcome' is in a loop without an exit (welcome -> again -> "
                  "welcome): no path from it reaches a queue or a hangup"),
    ("missing_prompt.yaml", f"5:13: error: node 'welcome' plays 'ivr/no-such-recording.wav', "
                            f"which is not in {PREFIX}: add the recording or generate it "
                            f"(freeswitch_conf/sounds/generate.py)"),
    ("unknown_variable.yaml", "5:28: error: node 'welcome' uses the variable 'balance', but no "
                              "'set' or 'collect' node before it gives it a value and it is not "
                              "a channel variable"),
    ("bad_regex.yaml", "7:13: error: node 'card' (collect): bad regex '^62[0-9+$': unterminated "
                       "character set at position 3"),
    ("bad_time_range.yaml", "6:53: error: node 'open' (condition): bad time range '18:00-09:00': "
                            "hours 00-23 (24:00 to end at midnight), minutes 00-59, and the end "
                            "after the start"),
    ("duplicate_key.yaml", "8:7: error: node 'menu' (menu): key 1 is given twice (first on line "
                           "7); a caller pressing it can go only one way"),
    ("unknown_queue.yaml", "7:33: error: node 'billing' sends callers to unknown queue 'billing' "
                           "(queues: sales, support)"),
    ("unknown_language.yaml", "1:11: error: unknown language 'fr' (languages: en, zh)"),
])
def test_given_bad_flow_when_validated_then_its_error_is_at_file_line_column(name, expected):
    assert at(name, expected) in lines_of(name)


def test_given_loop_when_validated_then_every_trapped_node_is_reported():
    assert lines_of("loop.yaml")[1].startswith(at("loop.yaml", "7:3: error: node 'again' is in "
                                                                "a loop without an exit"))


def test_given_file_with_several_mistakes_when_validated_then_all_are_reported_in_file_order():
    assert lines_of("several.yaml") == [
        at("several.yaml", f"9:13: error: node 'menu' plays 'ivr/no-such-recording.wav', which "
                           f"is not in {PREFIX}: add the recording or generate it "
                           f"(freeswitch_conf/sounds/generate.py)"),
        at("several.yaml", "10:28: error: node 'menu' option '2' goes to unknown node 'nowhere'"),
        at("several.yaml", "12:31: error: node 'sales' sends callers to unknown queue 'billing' "
                           "(queues: sales, support)"),
        at("several.yaml", f"13:18: error: node 'broken' has unknown node type 'dance' "
                           f"(known: {KNOWN})"),
    ]


def test_given_menu_whose_default_is_itself_when_validated_then_only_a_warning():
    assert lines_of("no_timeout_path.yaml") == [at(
        "no_timeout_path.yaml", "7:14: warning: node 'menu' (menu): when the caller presses "
        "nothing its 'default' comes back to itself, so a silent caller waits until hanging up; "
        "send 'default' to another node")]


def test_given_shipped_main_flow_when_validated_then_no_problem():
    assert validate_file(str(REPO / "ivr_flows" / "main.yaml"), QUEUES, PREFIX, {"main"}) == []


def test_given_variable_set_or_collected_earlier_when_used_then_no_problem():
    text = """start: card
nodes:
  card: {type: collect, prompt: a.wav, variable: card_number, next: tier, default: bye}
  tier: {type: set, variable: tier, value: gold, next: say}
  say: {type: play, text: "Card {card_number} is {tier}, {caller_id_number}", next: check}
  check:
    type: condition
    branches: [{when: {variable: points, above: 10}, then: bye}]
    else: bye
  bye: {type: hangup}
"""
    problems = [str(p) for p in validate_text(text, "f.yaml")]
    assert problems == ["f.yaml:8:34: error: node 'check' uses the variable 'points', but no "
                        "'set' or 'collect' node before it gives it a value and it is not a "
                        "channel variable"]


def test_given_a_broken_set_node_when_validated_then_its_variable_is_not_called_unknown():
    text = """start: tier
nodes:
  tier: {type: set, variable: tier, valeu: gold, next: say}
  say: {type: play, text: "You are {tier}", next: bye}
  bye: {type: hangup}
"""
    problems = [str(p) for p in validate_text(text, "f.yaml")]
    assert len(problems) == 1 and problems[0].startswith("f.yaml:3:")
    assert "'valeu'" in problems[0]


def test_given_the_same_key_twice_in_yaml_when_validated_then_said_and_the_rest_still_checked():
    text = "start: a\nnodes:\n  a: {type: goto, to: b}\n  a: {type: hangup}\n  b: {type: x}\n"
    assert [str(p) for p in validate_text(text, "f.yaml")] == [
        "f.yaml:4:3: error: duplicate key 'a' (first given on line 3)",
        f"f.yaml:5:13: error: node 'b' has unknown node type 'x' (known: {KNOWN})"]


def test_given_broken_yaml_when_validated_then_one_error_with_its_column():
    assert [str(p) for p in validate_text("start: [a\nnodes: {}\n", "f.yaml")] == [
        "f.yaml:2:6: error: not valid YAML: expected ',' or ']', but got ':'"]


def test_given_yaml_when_loaded_then_values_and_keys_know_their_columns():
    data = load_yaml("top:\n  key:   value\n  list: [a,  b]\n", "f.yaml")
    inner = data["top"]
    assert (inner.key_line_of("key"), inner.key_column_of("key")) == (2, 3)
    assert (inner.line_of("key"), inner.column_of("key")) == (2, 10)
    assert inner["list"].column_of(1) == 14 and inner["list"].line_of(1) == 3


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "fs_cc.cli", "ivr", "validate", *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60)


def test_given_bad_flow_when_cli_validates_then_exit_1_with_every_line():
    result = run_cli("--queues", "sales,support", str(BAD / "several.yaml"))
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 4
    assert at("several.yaml", "10:28: error:") in result.stderr


def test_given_only_warnings_when_cli_validates_then_exit_0():
    result = run_cli("--queues", "sales", str(BAD / "no_timeout_path.yaml"))
    assert result.returncode == 0
    assert "7:14: warning:" in result.stderr and result.stdout.strip().endswith(": ok")


def test_given_no_files_when_cli_validates_then_every_shipped_flow_is_checked():
    result = run_cli()
    assert result.returncode == 0, result.stderr
    assert "main.yaml: ok" in result.stdout


def test_given_queue_missing_from_the_queues_option_when_cli_validates_then_exit_1():
    result = run_cli("--queues", "sales", str(REPO / "ivr_flows" / "main.yaml"))
    assert result.returncode == 1
    assert "unknown queue 'support'" in result.stderr


@pytest.fixture
def seeded_database(tmp_path, migrated_databases):  # noqa: F811
    """The URL of a PostgreSQL catalog holding the demo queues (sales, support)."""
    url = database_url_for(migrated_databases, "postgresql")
    app = app_on(tmp_path, url)
    bootstrap_demo(app)
    yield url
    dispose(app)


def test_given_catalog_database_when_cli_validates_then_its_queues_are_the_known_ones(
        seeded_database):
    good = run_cli("--database", seeded_database, str(REPO / "ivr_flows" / "main.yaml"))
    bad = run_cli("--database", seeded_database, str(BAD / "unknown_queue.yaml"))
    assert good.returncode == 0, good.stderr
    assert bad.returncode == 1
    assert bad.stderr.splitlines()[-1] == at(
        "unknown_queue.yaml", "7:33: error: node 'billing' sends callers to unknown queue "
        "'billing' (queues: sales, support)")


@dataclasses.dataclass(frozen=True)
class _FlowJump(Node):
    """A node naming another flow in 'flow', as transfer and subflow nodes do."""

    flow: str = ""
    type_name: typing.ClassVar[str] = "jump"
    terminal: typing.ClassVar[bool] = True

    @classmethod
    def parse(cls, node_id, fields):
        return cls(node_id, fields.node_line, fields.text("flow"))


def test_given_node_naming_a_flow_that_does_not_exist_when_validated_then_unknown_flow(
        monkeypatch):
    monkeypatch.setitem(NODE_TYPES, "jump", _FlowJump)
    text = "start: out\nnodes:\n  out: {type: jump, flow: hotell}\n"
    assert [str(p) for p in validate_text(text, "f.yaml", flows={"main", "hotel"})] == [
        "f.yaml:3:27: error: node 'out' (jump) goes to unknown flow 'hotell' (flows: hotel, "
        "main)"]
