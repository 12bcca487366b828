"""The IVR statistics for a scripted set of calls: exact numbers per node, per version and over a
period, on SQLite and PostgreSQL, from events stored through the worker's own path
(web.facts.services.FactService), then the JSON API, the CSV download and the page."""

import csv
import datetime
import io
import itertools

import pytest

from fs_cc import events
from fs_cc.events import HangupSide
from tests.web.support import (BASE_TIME, app_on, create_user, csrf_token, database_url_for,
                               dispose, login)
from web.extensions import db
from web.facts.services import FactService
from web.ivr.stats import flow_stats

FLOW = "hotline"
DAY = datetime.timedelta(days=1)
PERIOD = (BASE_TIME - datetime.timedelta(hours=1), BASE_TIME + datetime.timedelta(hours=2))


class Calls:
    """Stamps one engine's events: its next seq, at BASE_TIME + seconds (+ a call's offset)."""

    def __init__(self):
        self.seq = itertools.count(1)
        self.batch = []

    def call(self, uuid, offset=0.0):
        """A function adding events of call ``uuid``: at(seconds, EventClass, **fields)."""

        def at(seconds, event_class, **fields):
            self.batch.append(event_class(
                engine="engine-a", seq=next(self.seq), call_uuid=uuid,
                ts=BASE_TIME + datetime.timedelta(seconds=offset + seconds), **fields))
        return at


def enter(at, seconds, node, flow=FLOW):
    at(seconds, events.IvrNodeEntered, flow=flow, node=node)


def leave(at, seconds, node, outcome, flow=FLOW):
    at(seconds, events.IvrNodeLeft, flow=flow, node=node, input=None, outcome=outcome)


def key(at, seconds, node, digits, result):
    at(seconds, events.IvrInput, flow=FLOW, node=node, input=digits, result=result)


def start(at, version=3, flow=FLOW):
    at(0, events.CallStarted, did="4008001234", caller_number="13900000001")
    at(0, events.FlowStarted, flow=flow, sha256="ab" * 32, version=version)


def scripted_calls():
    """The calls of the statistics below (the numbers each assertion expects come from here)."""
    calls = Calls()
    # c1: welcome, a timeout, then 1: the balance is read out, the flow hangs up (self-service)
    at = calls.call("c1", offset=0)
    start(at)
    enter(at, 0, "welcome"), leave(at, 5, "welcome", "menu")
    enter(at, 5, "menu"), key(at, 10, "menu", None, "timeout"), key(at, 14, "menu", "1", "option")
    leave(at, 14, "menu", "balance")
    enter(at, 14, "balance"), leave(at, 20, "balance", "bye")
    enter(at, 20, "bye")
    at(21, events.CallEnded, side=HangupSide.SYSTEM, cause="NORMAL_CLEARING")
    # c2: a wrong key, then 2: sales answers, the caller hangs up after talking (no drop-off)
    at = calls.call("c2", offset=60)
    start(at)
    enter(at, 0, "welcome"), leave(at, 4, "welcome", "menu")
    enter(at, 4, "menu"), key(at, 8, "menu", "9", "invalid"), key(at, 10, "menu", "2", "option")
    leave(at, 10, "menu", "sales")
    enter(at, 10, "sales")
    at(10, events.CallQueued, queue="sales", priority=5, skills={}, position=1)
    at(38, events.OfferedToAgent, agent="1000", leg_uuid="c2-agent", queue="sales")
    at(40, events.AnsweredByAgent, agent="1000", leg_uuid="c2-agent")
    at(100, events.CallEnded, side=HangupSide.CALLER, cause="NORMAL_CLEARING")
    # c3: two timeouts in the menu, then the caller gives up there
    at = calls.call("c3", offset=120)
    start(at)
    enter(at, 0, "welcome"), leave(at, 5, "welcome", "menu")
    enter(at, 5, "menu"), key(at, 10, "menu", None, "timeout"), key(at, 15, "menu", None, "timeout")
    at(17, events.CallEnded, side=HangupSide.CALLER, cause="ORIGINATOR_CANCEL")
    # c4: hangs up during the welcome (version 4 of the flow)
    at = calls.call("c4", offset=180)
    start(at, version=4)
    enter(at, 0, "welcome")
    at(2, events.CallEnded, side=HangupSide.CALLER, cause="ORIGINATOR_CANCEL")
    # c5: 2, then gives up waiting in the sales queue
    at = calls.call("c5", offset=240)
    start(at)
    enter(at, 0, "welcome"), leave(at, 5, "welcome", "menu")
    enter(at, 5, "menu"), key(at, 7, "menu", "2", "option"), leave(at, 7, "menu", "sales")
    enter(at, 7, "sales")
    at(7, events.CallQueued, queue="sales", priority=5, skills={}, position=2)
    at(67, events.QueueLeft, queue="sales", outcome=events.QueueOutcome.TIMEOUT, waited=60.0)
    at(67, events.CallEnded, side=HangupSide.CALLER, cause="NORMAL_CLEARING")
    # c6: a day before the period; c7: another flow, in the period
    at = calls.call("c6", offset=-DAY.total_seconds())
    start(at)
    enter(at, 0, "welcome")
    at(3, events.CallEnded, side=HangupSide.CALLER, cause="ORIGINATOR_CANCEL")
    at = calls.call("c7", offset=300)
    start(at, flow="main")
    enter(at, 0, "welcome", flow="main")
    at(3, events.CallEnded, side=HangupSide.CALLER, cause="ORIGINATOR_CANCEL")
    return calls.batch


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, migrated_databases):
    """A testing app on each dialect's migrated database, holding the scripted calls' events."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    with app.app_context():
        result = FactService(db.session).store(scripted_calls())
        assert result.stored == len(scripted_calls()) and result.rejected == 0
    yield app
    dispose(app)


def stats_of(app, version=None, period=PERIOD, flow=FLOW):
    with app.app_context():
        return flow_stats(db.session, flow, *period, version=version).to_dict()


def by_node(stats):
    return {node.pop("node"): node for node in stats["nodes"]}


def test_given_the_scripted_calls_then_each_node_counts_what_its_callers_did(app):
    stats = stats_of(app)

    assert {key: stats[key] for key in ("calls", "self_service", "queued", "answered",
                                        "hung_up", "versions")} == {
        "calls": 5, "self_service": 1, "queued": 2, "answered": 1, "hung_up": 2,
        "versions": ["3", "4"]}
    assert by_node(stats) == {
        "welcome": {"visits": 5, "choices": {}, "timeouts": 0, "invalid": 0, "hangups": 1,
                    "self_service": 0, "queued": 0, "avg_seconds": 4.2},
        "menu": {"visits": 4, "choices": {"1": 1, "2": 2}, "timeouts": 3, "invalid": 1,
                 "hangups": 1, "self_service": 0, "queued": 0, "avg_seconds": 7.25},
        "balance": {"visits": 1, "choices": {}, "timeouts": 0, "invalid": 0, "hangups": 0,
                    "self_service": 0, "queued": 0, "avg_seconds": 6.0},
        "bye": {"visits": 1, "choices": {}, "timeouts": 0, "invalid": 0, "hangups": 0,
                "self_service": 1, "queued": 0, "avg_seconds": 1.0},
        "sales": {"visits": 2, "choices": {}, "timeouts": 0, "invalid": 0, "hangups": 1,
                  "self_service": 0, "queued": 2, "avg_seconds": 45.0},
    }
    assert [node["node"] for node in stats_of(app)["nodes"]] == [
        "welcome", "menu", "balance", "bye", "sales"]  # in the order callers met them


def test_given_a_version_then_only_the_calls_that_ran_it_count(app):
    four = by_node(stats_of(app, version="4"))
    three = stats_of(app, version="3")

    assert four == {"welcome": {"visits": 1, "choices": {}, "timeouts": 0, "invalid": 0,
                                "hangups": 1, "self_service": 0, "queued": 0,
                                "avg_seconds": 2.0}}
    assert (three["calls"], by_node(three)["welcome"]["visits"],
            by_node(stats_of(app, version="3"))["welcome"]["hangups"]) == (4, 4, 0)
    assert stats_of(app, version="9")["calls"] == 0


def test_given_a_period_then_calls_outside_it_and_other_flows_are_left_out(app):
    day_before = (BASE_TIME - DAY - datetime.timedelta(hours=1), BASE_TIME - DAY / 2)
    # c3 entered at BASE_TIME+120 s: a period ending there leaves c3, c4 and c5 out
    first_two = (BASE_TIME, BASE_TIME + datetime.timedelta(seconds=120))

    assert stats_of(app, period=day_before)["calls"] == 1
    assert by_node(stats_of(app, period=day_before))["welcome"]["hangups"] == 1
    assert stats_of(app, period=first_two)["calls"] == 2
    assert by_node(stats_of(app, flow="main"))["welcome"]["visits"] == 1
    assert stats_of(app, flow="hot%")["calls"] == 0  # LIKE's wildcards are the name's letters


@pytest.fixture
def manager(app):
    """A logged-in client of a manager (calls.view_all)."""
    _, username, password = create_user(app, role="manager")
    client = app.test_client()
    login(client, username, password)
    return client


QUERY = "from=2026-03-02T07:00:00%2B00:00&to=2026-03-02T10:00:00%2B00:00"


def test_given_the_api_then_it_answers_the_numbers_and_the_csv_names_flow_version_period(
        app, manager):
    answer = manager.get(f"/api/ivr/flows/{FLOW}/stats?{QUERY}&version=3")
    download = manager.get(f"/api/ivr/flows/{FLOW}/stats.csv?{QUERY}")
    same = manager.get(f"/api/ivr/flows/{FLOW}/stats?{QUERY}&format=csv")

    assert answer.status_code == 200
    assert answer.json["calls"] == 4 and answer.json["version"] == "3"
    assert manager.get(f"/api/ivr/flows/{FLOW}/stats?{QUERY}&version=all").json["calls"] == 5
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert same.get_data(as_text=True) == download.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[:4] == [["flow", FLOW], ["version", "all"],
                        ["from", "2026-03-02T07:00:00+00:00"], ["to", "2026-03-02T10:00:00+00:00"]]
    header = rows.index(["node", "visits", "timeouts", "invalid", "hangups", "self_service",
                         "queued", "avg_seconds", "key_1", "key_2"])
    assert rows[header + 1:header + 3] == [
        ["welcome", "5", "0", "0", "1", "0", "0", "4.2", "0", "0"],
        ["menu", "4", "3", "1", "1", "0", "0", "7.25", "1", "2"]]


def test_given_bad_parameters_then_the_api_names_them(app, manager):
    backwards = manager.get(f"/api/ivr/flows/{FLOW}/stats?from=2026-03-03&to=2026-03-01")
    garbled = manager.get(f"/api/ivr/flows/{FLOW}/stats?from=yesterday")
    unknown = manager.get(f"/api/ivr/flows/{FLOW}/stats?flow=main")

    assert (backwards.status_code, backwards.json["field"]) == (400, "from")
    assert (garbled.status_code, garbled.json["field"]) == (400, "from")
    assert (unknown.status_code, unknown.json["field"]) == (400, "flow")


def test_given_an_agent_then_the_statistics_are_refused(app):
    _, username, password = create_user(app, role="agent")
    client = app.test_client()
    login(client, username, password)

    assert client.get(f"/api/ivr/flows/{FLOW}/stats").status_code == 403
    assert client.get(f"/ivr/{FLOW}/stats").status_code == 403


def test_given_the_page_then_it_shows_the_table_and_links_the_csv(app, manager):
    page = manager.get(f"/ivr/{FLOW}/stats?{QUERY}")
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert '<tr class="ivr-node-stats" data-node="menu">' in text
    assert "1: 1, 2: 2" in text
    assert f"/api/ivr/flows/{FLOW}/stats.csv?from=" in text
    assert csrf_token(manager, f"/ivr/{FLOW}/stats")  # the graph's script posts with it
    assert manager.get(f"/ivr/{FLOW}/stats?from=nonsense").status_code == 400
