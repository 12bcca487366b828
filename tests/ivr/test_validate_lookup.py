"""`fs-cc ivr validate` on lookup, transfer and subflow nodes: each error at file:line:column."""

import pathlib
import subprocess
import sys

import pytest

from fs_cc.ivr.validate import validate_file, validate_text
from fs_cc.sounds import SHIPPED_SOUNDS, sound_prefix

REPO = pathlib.Path(__file__).resolve().parents[2]
BAD = pathlib.Path(__file__).resolve().parent / "bad_flows"
QUEUES = {"sales", "support"}
PREFIX = sound_prefix(SHIPPED_SOUNDS)
VARIABLE = ("but no 'set' or 'collect' node before it gives it a value and it is not a channel "
            "variable")


def lines_of(name, flows=("main",), sources=("points_by_card",)):
    return [str(p) for p in validate_file(str(BAD / name), QUEUES, PREFIX, set(flows),
                                          set(sources))]


def at(name, where):
    return f"{BAD / name}:{where}"


def test_given_lookup_naming_unknown_source_when_validated_then_error_at_source():
    assert lines_of("unknown_data_source.yaml") == [at(
        "unknown_data_source.yaml", "5:13: error: node 'find' (lookup) asks the unknown data "
        "source 'points_by_phone' (data sources: points_by_card)")]


def test_given_lookup_variable_used_on_failed_path_when_validated_then_unknown_variable():
    assert lines_of("lookup_variable_on_failed_path.yaml") == [
        at("lookup_variable_on_failed_path.yaml",
           f"6:10: error: node 'find' uses the variable 'card_number', {VARIABLE}"),
        at("lookup_variable_on_failed_path.yaml",
           f"10:39: error: node 'sorry' uses the variable 'points', {VARIABLE}"),
    ]


def test_given_transfer_to_unknown_flow_when_validated_then_error_at_flow_field():
    assert lines_of("unknown_transfer_flow.yaml") == [at(
        "unknown_transfer_flow.yaml", "7:11: error: node 'away' (transfer) goes to unknown flow "
        "'billing' (flows: main)")]


def test_given_subflow_calling_its_own_flow_when_validated_then_error():
    assert lines_of("subflow_calls_itself.yaml", flows=("main", "subflow_calls_itself")) == [at(
        "subflow_calls_itself.yaml", "6:11: error: node 'again' (subflow) calls its own flow "
        "'subflow_calls_itself': the caller would go round for ever; use a goto to go back "
        "inside a flow")]


def test_given_subflow_to_unknown_flow_when_validated_then_error():
    text = "start: s\nnodes:\n  s: {type: subflow, flow: nowhere, next: b}\n  b: {type: hangup}\n"
    assert [str(p) for p in validate_text(text, "f.yaml", flows={"main"})] == [
        "f.yaml:3:28: error: node 's' (subflow) goes to unknown flow 'nowhere' (flows: main)"]


def test_given_lookup_variables_after_found_and_subflow_when_validated_then_no_problem():
    text = """start: find
nodes:
  find: {type: lookup, source: s, key: caller_id_number, into: {points: data.points},
         next: say, failed: ask}
  say: {type: play, text: "{points}", next: bye}
  ask: {type: subflow, flow: other, next: again}
  again: {type: play, text: "{whatever_the_subflow_set}", next: bye}
  bye: {type: hangup}
"""
    assert validate_text(text, "f.yaml", flows={"other"}, data_sources={"s"}) == []


@pytest.fixture
def flows_dir(tmp_path):
    (tmp_path / "data_sources").mkdir()
    (tmp_path / "f.yaml").write_text((BAD / "unknown_data_source.yaml").read_text())
    return tmp_path


def test_given_data_sources_file_beside_flow_when_validated_then_its_names_are_known(flows_dir):
    (flows_dir / "data_sources" / "sources.yaml").write_text(
        "sources:\n  points_by_phone: {kind: http, url: 'http://x/{key}'}\n")
    assert validate_file(str(flows_dir / "f.yaml")) == []
    (flows_dir / "data_sources" / "sources.yaml").write_text(
        "sources:\n  other: {kind: http, url: 'http://x/{key}'}\n")
    assert [p.message for p in validate_file(str(flows_dir / "f.yaml"))] == [
        "node 'find' (lookup) asks the unknown data source 'points_by_phone' (data sources: "
        "other)"]


def test_given_no_data_sources_file_when_validated_then_sources_are_not_judged(flows_dir):
    assert validate_file(str(flows_dir / "f.yaml")) == []


def test_given_broken_data_sources_file_when_validated_then_its_error_at_its_line(flows_dir):
    path = flows_dir / "data_sources" / "sources.yaml"
    path.write_text("sources:\n  a:\n    kind: http\n    url: nowhere\n")
    assert [str(p) for p in validate_file(str(flows_dir / "f.yaml"))] == [
        f"{path}:4:1: error: data source 'a': 'url' must be an http:// or https:// address, "
        f"not 'nowhere'"]


def test_given_shipped_flows_when_cli_validates_them_all_then_ok():
    flows = sorted(str(p) for p in (REPO / "ivr_flows").glob("*.yaml"))
    assert {pathlib.Path(f).stem for f in flows} >= {"hotel", "membership", "complaint"}
    result = subprocess.run([sys.executable, "-m", "fs_cc.cli", "ivr", "validate", *flows],
                            capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert sorted(result.stdout.split()) == sorted([f"{f}:" for f in flows] + ["ok"] * len(flows))
