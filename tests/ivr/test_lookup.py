"""The lookup node against real sources: a local HTTP API (gevent.pywsgi) and an SQLite table."""

import json
import pathlib
import textwrap
import types

import gevent
import gevent.event
import gevent.pywsgi
import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.ivr import parse_flow
from fs_cc.ivr.datasources import (DataSources, HttpSource, SqlSource, build_data_sources,
                                   parse_sources, sources_path)
from fs_cc.ivr.nodes_transfer import DialStrings, build_dial_strings
from fs_cc.ivr.services import BUILDERS
from fs_cc.ivr.nodes_lookup import LookupNode, field_value
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from tests.ivr.doubles import RecordingAcd, ScriptedSession
from tests.ivr.test_transfer import Stack

GOLD = "62001234"  # the members the API knows: card -> (status, body)
ANSWERS = {
    GOLD: (200, json.dumps({"data": {"points": 1200, "tier": "gold"}})),
    "62005678": (200, json.dumps({"data": {"points": 35.0, "tier": None}})),
    "62000404": (404, json.dumps({"error": "no such member"})),
    "62000500": (500, "internal error"),
    "62000999": (200, "<html>not json</html>"),
    "62000204": (200, ""),
    "62000000": (200, "{}"),
    "62000001": (200, json.dumps({"points": 3})),  # no "data": the node's paths miss
}
ANSWERS["62000777"] = (200, json.dumps({"data": {"points": 1, "pad": "x" * 1024 * 1024}}))
SLOW = "62009999"  # answers only when the test releases it


class MembersApi:
    """A loyalty system's JSON API on a free port: GET /members/<card>."""

    def __init__(self):
        self.paths = []
        self.arrived = gevent.event.Event()  # a slow request is being held
        self.release = gevent.event.Event()
        self.server = gevent.pywsgi.WSGIServer(("127.0.0.1", 0), self.app, log=None,
                                               error_log=None)

    def app(self, environ, start_response):
        card = environ["PATH_INFO"].rsplit("/", 1)[-1]
        if environ["REQUEST_METHOD"] == "POST":  # {"card": "..."}
            card = json.loads(environ["wsgi.input"].read())["card"]
        self.paths.append(environ["PATH_INFO"])
        if card == SLOW:
            self.arrived.set()
            self.release.wait(30)
        status, body = ANSWERS.get(card, (200, json.dumps({"data": {"points": 7, "tier": "x"}})))
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [body.encode("utf-8")]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_port}/members/{{key}}"

    def start(self):
        self.server.start()
        return self

    def stop(self):
        self.release.set()
        self.server.stop(timeout=1)


@pytest.fixture
def members_api():
    api = MembersApi().start()
    yield api
    api.stop()


def http_sources(api, timeout=5.0):
    return DataSources({"points": HttpSource("points", api.url, timeout=timeout)})


FLOW = """\
start: tag
nodes:
  tag: {{type: set, variable: card_number, value: "{card}", next: find}}
  find:
    type: lookup
    source: points
    key: "{{card_number}}"
    into: {{points: data.points, tier: data.tier}}
    timeout: {timeout}
    next: found
    not_found: missing
    failed: broken
  found: {{type: hangup, cause: NORMAL_CLEARING}}
  missing: {{type: hangup, cause: UNALLOCATED_NUMBER}}
  broken: {{type: hangup, cause: NORMAL_TEMPORARY_FAILURE}}
"""
CAUSES = {"NORMAL_CLEARING": "found", "UNALLOCATED_NUMBER": "not_found",
          "NORMAL_TEMPORARY_FAILURE": "failed"}


def run(card, sources, timeout=5, session=None):
    """(path taken, session, emitter) of FLOW for ``card``."""
    emitter = RecordingEmitter()
    session = session or ScriptedSession()
    flow = parse_flow(FLOW.format(card=card, timeout=timeout), "lookup.yaml")
    result = FlowRunner(flow, RecordingAcd(), emitter,
                        services={"data_sources": sources}).run(session)
    return result, session, emitter


def lookups(emitter):
    return [(e.node, e.source, e.result) for e in emitter.of_type(events.IvrLookup)]


def test_given_known_card_when_looked_up_over_http_then_fields_into_variables_and_found(
        members_api):
    result, session, emitter = run(GOLD, http_sources(members_api))
    assert CAUSES[result.hangup_cause] == "found"
    assert session.variables["points"] == "1200" and session.variables["tier"] == "gold"
    assert members_api.paths == [f"/members/{GOLD}"]
    assert lookups(emitter) == [("find", "points", "found")]
    left = [(e.node, e.outcome) for e in emitter.of_type(events.IvrNodeLeft)]
    assert left == [("tag", "find"), ("find", "found")]


def test_given_float_points_and_null_tier_when_looked_up_then_whole_number_and_empty_text(
        members_api):
    result, session, _ = run("62005678", http_sources(members_api))
    assert (session.variables["points"], session.variables["tier"]) == ("35", "")


@pytest.mark.parametrize("card, path", [
    ("62000404", "not_found"),   # 404
    ("62000204", "not_found"),   # an empty body
    ("62000000", "not_found"),   # {}
    ("62000500", "failed"),      # another error status
    ("62000999", "failed"),      # not JSON
    ("62000001", "failed"),      # the record lacks data.points
    ("62000777", "failed"),      # over a megabyte
])
def test_given_answer_when_looked_up_then_path_by_what_came_back(members_api, card, path):
    result, session, emitter = run(card, http_sources(members_api))
    assert CAUSES[result.hangup_cause] == path
    assert "points" not in session.variables
    assert lookups(emitter) == [("find", "points", path)]


def test_given_source_slower_than_timeout_when_looked_up_then_failed_path(members_api):
    result, session, emitter = run(SLOW, http_sources(members_api), timeout=0.5)
    assert CAUSES[result.hangup_cause] == "failed"
    assert members_api.arrived.is_set() and not members_api.release.is_set()
    assert lookups(emitter) == [("find", "points", "failed")]


def test_given_source_http_timeout_shorter_than_node_when_slow_then_failed(members_api):
    result, _, _ = run(SLOW, http_sources(members_api, timeout=0.5), timeout=30)
    assert CAUSES[result.hangup_cause] == "failed"


def test_given_post_source_when_looked_up_then_key_sent_in_the_body(members_api):
    source = HttpSource("points", members_api.url.replace("/{key}", "/search"), method="POST",
                        body='{"card": "{key}"}', headers={"Content-Type": "application/json"})
    result, session, _ = run(GOLD, DataSources({"points": source}))
    assert CAUSES[result.hangup_cause] == "found" and session.variables["points"] == "1200"
    assert members_api.paths == ["/members/search"]


def test_given_nothing_listens_when_looked_up_then_failed(members_api):
    url = members_api.url
    members_api.stop()
    sources = DataSources({"points": HttpSource("points", url, timeout=1)})
    result, _, _ = run(GOLD, sources)
    assert CAUSES[result.hangup_cause] == "failed"


def test_given_caller_hangs_up_while_lookup_waits_then_run_ends_at_once(members_api):
    session = ScriptedSession()

    def hang_up_once_asked():
        members_api.arrived.wait(10)
        session.caller_hangs_up("NORMAL_CLEARING")

    gevent.spawn(hang_up_once_asked)
    result, session, emitter = run(SLOW, http_sources(members_api), timeout=60, session=session)
    assert result.outcome is FlowOutcome.CALLER_HUNG_UP and result.node_id == "find"
    assert not members_api.release.is_set()  # the source never answered: the run did not wait
    assert lookups(emitter) == [("find", "points", "hung_up")]
    assert session.hung_up_by_us is None  # nothing was sent to the dead channel


def test_given_engine_without_data_sources_when_looked_up_then_failed():
    emitter = RecordingEmitter()
    flow = parse_flow(FLOW.format(card=GOLD, timeout=1), "lookup.yaml")
    result = FlowRunner(flow, RecordingAcd(), emitter).run(ScriptedSession())
    assert CAUSES[result.hangup_cause] == "failed"


def test_given_unknown_source_name_at_run_time_when_looked_up_then_failed(members_api):
    sources = DataSources({"other": HttpSource("other", members_api.url)})
    result, _, _ = run(GOLD, sources)
    assert CAUSES[result.hangup_cause] == "failed"
    assert members_api.paths == []


@pytest.fixture
def member_table(tmp_path):
    url = f"sqlite:///{tmp_path / 'members.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE member_points (card_number TEXT PRIMARY KEY, "
                                   "points INTEGER, tier TEXT)"))
        connection.execute(sa.text("INSERT INTO member_points VALUES ('62001234', 980, 'silver')"))
    engine.dispose()
    return url


def sql_sources(url, query="SELECT points, tier FROM member_points WHERE card_number = :key"):
    sources = {"points": SqlSource("points", query)}
    return DataSources(sources, default_database=url)


SQL_FLOW_INTO = "into: {points: points, tier: tier}"


def run_sql(card, sources):
    emitter = RecordingEmitter()
    session = ScriptedSession()
    text = FLOW.format(card=card, timeout=5).replace(
        "into: {points: data.points, tier: data.tier}", SQL_FLOW_INTO)
    result = FlowRunner(parse_flow(text, "lookup.yaml"), RecordingAcd(), emitter,
                        services={"data_sources": sources}).run(session)
    return CAUSES[result.hangup_cause], session


def test_given_card_in_sqlite_table_when_looked_up_then_its_row_into_variables(member_table):
    path, session = run_sql(GOLD, sql_sources(member_table))
    assert path == "found"
    assert (session.variables["points"], session.variables["tier"]) == ("980", "silver")


def test_given_card_not_in_table_when_looked_up_then_not_found(member_table):
    path, session = run_sql("62000404", sql_sources(member_table))
    assert path == "not_found" and "points" not in session.variables


def test_given_query_on_missing_table_when_looked_up_then_failed(member_table):
    sources = sql_sources(member_table, "SELECT points, tier FROM nowhere WHERE card_number = :key")
    path, _ = run_sql(GOLD, sources)
    assert path == "failed"


def test_given_key_from_caller_number_when_looked_up_then_asked_with_it(members_api):
    text = FLOW.format(card=GOLD, timeout=5).replace('key: "{card_number}"',
                                                     'key: "{caller_id_number}"')
    emitter = RecordingEmitter()
    FlowRunner(parse_flow(text, "lookup.yaml"), RecordingAcd(), emitter,
               services={"data_sources": http_sources(members_api)}).run(
        ScriptedSession(caller_number="13800138000"))
    assert members_api.paths == ["/members/13800138000"]


def test_given_lookup_node_when_parsed_then_key_template_and_not_found_defaults_to_failed():
    flow = parse_flow(textwrap.dedent("""\
        start: find
        nodes:
          find: {type: lookup, source: points, key: card_number, into: {points: data.points},
                 next: bye, failed: sorry}
          sorry: {type: hangup, cause: CALL_REJECTED}
          bye: {type: hangup}
        """), "f.yaml")
    node = flow.node("find")
    assert isinstance(node, LookupNode)
    assert (node.key, node.not_found, node.timeout) == ("{card_number}", "sorry", None)
    assert [t.label for t in node.targets()] == ["next", "failed"]


@pytest.mark.parametrize("field, line, message", [
    ("key: 'card number'", 5, "'key' must name a variable or be a text with {variables}"),
    ("key: {card_number}", 5, "write the key in quotes, e.g. key: \"{card_number}\""),
    ("into: [points]", 6, "'into' must map variables to fields of the record"),
    ("into: {'bad name': data.points}", 6, "'into': 'bad name' is not a variable name"),
    ("timeout: 0", 7, "'timeout' must be a number above 0"),
    ("colour: red", 7, "unknown field 'colour'"),
])
def test_given_bad_lookup_field_when_loaded_then_error_at_its_line(field, line, message):
    lines = ["start: find", "nodes:", "  find:", "    type: lookup", "    key: card_number",
             "    into: {points: data.points}", "    source: points", "    next: bye",
             "    failed: bye", "  bye: {type: hangup}"]
    key = field.split(":")[0]
    index = {"key": 4, "into": 5}.get(key)
    if index is None:
        lines.insert(6, f"    {field}")
    else:
        lines[index] = f"    {field}"
    with pytest.raises(ConfigError) as caught:
        parse_flow("\n".join(lines) + "\n", "bad.yaml")
    assert caught.value.line == line and message in caught.value.message


def test_given_record_paths_when_read_then_nested_keys_and_list_indexes():
    record = {"data": {"items": [{"id": 5}, {"id": 6}], "ok": True, "tags": ["a"]}}
    assert field_value(record, "data.items.1.id") == "6"
    assert field_value(record, "data.ok") == "true"
    assert field_value(record, "data.tags") == '["a"]'
    with pytest.raises(KeyError):
        field_value(record, "data.items.2.id")


@pytest.mark.parametrize("text, line, message", [
    ("sources:\n  a: {kind: ldap}\n", 2, "'kind' must be one of http, sql, crm, not 'ldap'"),
    ("sources:\n  a: {kind: crm, region: 86}\n", 2, "'region' must be a country code"),
    ("sources:\n  a:\n    kind: http\n    url: ftp://x/{key}\n", 4,
     "'url' must be an http:// or https:// address"),
    ("sources:\n  a:\n    kind: http\n    url: http://x/{key}\n    method: PUT\n", 5,
     "'method' must be GET or POST"),
    ("sources:\n  a:\n    kind: sql\n    query: DELETE FROM t WHERE k = :key\n", 4,
     "'query' must be a SELECT"),
    ("sources:\n  a:\n    kind: sql\n    query: SELECT 1\n", 4, "must use the parameter :key"),
    ("sources:\n  a:\n    kind: sql\n    query: SELECT :key\n    timout: 3\n", 5,
     "unknown field 'timout'"),
    ("a: {kind: sql}\n", 1, "a data sources file holds one mapping, 'sources:'"),
])
def test_given_bad_data_sources_file_when_parsed_then_error_at_file_line(text, line, message):
    with pytest.raises(ConfigError) as caught:
        parse_sources(text, "sources.yaml")
    assert (caught.value.path, caught.value.line) == ("sources.yaml", line)
    assert message in caught.value.message


def test_given_shipped_data_sources_when_parsed_then_http_and_sql_sources():
    path = sources_path(pathlib.Path(__file__).resolve().parents[2] / "ivr_flows")
    sources = parse_sources(pathlib.Path(path).read_text(encoding="utf-8"), path)
    assert {name: source.kind for name, source in sources.items()} == {
        "points_by_card": "http", "points_by_card_sql": "sql"}


def test_given_lookup_on_the_emulator_when_card_keyed_then_points_set_on_the_channel(
        switch, members_api):
    text = textwrap.dedent("""\
        start: card
        nodes:
          card: {type: collect, prompt: "tone_stream://%(200,0,800)", variable: card_number,
                 min_length: 8, max_length: 8, next: find, default: bye}
          find: {type: lookup, source: points, key: card_number, into: {points: data.points},
                 timeout: 5, next: bye, failed: bye}
          bye: {type: hangup}
        """)
    emitter = RecordingEmitter()
    runner = FlowRunner(parse_flow(text, "lookup.yaml"), RecordingAcd(), emitter,
                        services={"data_sources": http_sources(members_api)})
    stack = Stack(switch, lambda did: runner, emitter)
    try:
        stack.call(dtmf=f"{GOLD}#", talk_seconds=5)
    finally:
        stack.stop()
    assert stack.sessions[0].get_var("points") == "1200"
    assert [e.result for e in emitter.of_type(events.IvrLookup)] == ["found"]


def test_given_engine_settings_when_services_built_then_shipped_sources_and_gateway_dial(
        tmp_path):
    flows = pathlib.Path(__file__).resolve().parents[2] / "ivr_flows"
    settings = types.SimpleNamespace(ivr_flow=flows / "main.yaml",
                                     database_url=f"sqlite:///{tmp_path / 'app.sqlite'}",
                                     callback_dial="sofia/gateway/pstn/{number}")
    engine = types.SimpleNamespace(settings=settings)
    assert BUILDERS["data_sources"] is build_data_sources
    assert BUILDERS["dial_strings"] is build_dial_strings
    services = {"data_sources": build_data_sources(engine),
                "dial_strings": build_dial_strings(engine)}
    assert sorted(services["data_sources"].sources) == ["points_by_card", "points_by_card_sql"]
    assert services["data_sources"].default_database == settings.database_url
    assert services["dial_strings"] == DialStrings(number="sofia/gateway/pstn/{number}")
    assert services["dial_strings"].dial("number", "13800138000") == \
        "sofia/gateway/pstn/13800138000"
    assert services["dial_strings"].dial("extension", "1010") == "user/1010"
