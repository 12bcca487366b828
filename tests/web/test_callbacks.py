"""The Callbacks page and /api/callbacks: the requests as their events tell, filters, errors, and
cancel/reschedule through the engine (its real callback desk behind the control server)."""

import datetime

import pytest
import sqlalchemy as sa

from fs_cc import events
from fs_cc.acd.callbacks import to_epoch
from fs_cc.callbacks import AttemptOutcome, CallbackState
from fs_cc.control import ControlServer, commands
from tests.polling import wait_until
from tests.web.support import (BASE_TIME, CALLBACK_NUMBER, CONTROL_SECRET, CallbackEngine,
                               CallbackFacts, EngineBackend, app_on, closed_port, create_token,
                               create_user, database_url_for, dispose, login, post_form)
from web.audit import AuditLog
from web.audit.models import AuditEntry
from web.callbacks.models import CallbackEventFact, CallbackRequest
from web.extensions import db
from web.facts.services import FactService, parse_batch
from web.users.roles import RoleService

UTC = datetime.timezone.utc


def at(seconds):
    """BASE_TIME + ``seconds``."""
    return BASE_TIME + datetime.timedelta(seconds=seconds)


@pytest.fixture
def callbacks():
    """The engine's callback side (a real desk, queues sales and support); stopped after."""
    engine = CallbackEngine()
    yield engine
    engine.stop()


@pytest.fixture
def engine(callbacks):
    """The real control server over an EngineBackend whose callback.* go to ``callbacks``."""
    backend = EngineBackend(callbacks=callbacks)
    server = ControlServer(backend, host="127.0.0.1", port=0, secret=CONTROL_SECRET)
    server.start()
    yield backend, server.address[1]
    server.stop(timeout=1)


def store(app, batch):
    """Store a batch of events as the worker does; the StoreResult."""
    with app.app_context():
        facts, rejected = parse_batch(batch)
        assert rejected == []
        return FactService(db.session).store(facts)


def row_of(app, callback_id):
    """The request as the API shows it."""
    with app.app_context():
        return db.session.get(CallbackRequest, callback_id).to_dict()


@pytest.fixture
def lead(app):
    """A supervisor (calls.view_all and callbacks.manage): (username, API headers)."""
    _, username, _ = create_user(app, role="supervisor")
    return username, {"Authorization": f"Bearer {create_token(app, username)}"}


def scene(app):
    """cb-wait: in line since 08:00; cb-retry: busy once, next try 08:20, in line since 07:50;
    cb-ring: an agent rings now; cb-done: completed; cb-gone: failed; cb-stop: cancelled."""
    facts = CallbackFacts()
    store(app, [
        facts.requested(0, "cb-wait", since=at(0)),
        facts.requested(1, "cb-retry", since=at(-600), number="13900139000"),
        facts.at(60, events.CallbackDispatched, "cb-retry", agent="1000", call_uuid="att-1",
                 leg_uuid="leg-1", attempt=1),
        facts.at(70, events.CallbackAttempted, "cb-retry", agent="1000", call_uuid="att-1",
                 outcome=AttemptOutcome.BUSY, cause="USER_BUSY", attempts=1,
                 retry_at=at(1200)),
        facts.requested(2, "cb-ring", since=at(-300), queue="support"),
        facts.at(80, events.CallbackDispatched, "cb-ring", agent="1001", call_uuid="att-2",
                 leg_uuid="leg-2", attempt=1),
        facts.requested(3, "cb-done", since=at(-900)),
        facts.at(90, events.CallbackDispatched, "cb-done", agent="1002", call_uuid="att-3",
                 leg_uuid="leg-3", attempt=1),
        facts.at(95, events.CallbackAttempted, "cb-done", agent="1002", call_uuid="att-3",
                 outcome=AttemptOutcome.CONNECTED, cause="", attempts=1),
        facts.at(95, events.CallbackCompleted, "cb-done", agent="1002", call_uuid="att-3",
                 attempts=1),
        facts.requested(4, "cb-gone", since=at(-800)),
        facts.at(100, events.CallbackFailed, "cb-gone", reason="NO_ANSWER", attempts=3),
        facts.requested(5, "cb-stop", since=at(-700)),
        facts.at(110, events.CallbackCancelled, "cb-stop", by="lead"),
    ])


def ids(response):
    """The callback ids of an /api/callbacks answer, in order."""
    return [callback["id"] for callback in response.get_json()["callbacks"]]


# -- seeing them ------------------------------------------------------------------------------

def test_given_requests_when_listing_the_api_then_open_ones_first_by_place_then_newest(
        app, client, lead):
    scene(app)

    body = client.get("/api/callbacks", headers=lead[1]).get_json()

    # open by their place in line (since); then finished, the newest request first
    assert [c["id"] for c in body["callbacks"]] == [
        "cb-retry", "cb-ring", "cb-wait", "cb-stop", "cb-gone", "cb-done"]
    assert (body["total"], body["limit"], body["offset"]) == (6, 50, 0)
    retry = body["callbacks"][0]
    assert (retry["state"], retry["attempts"], retry["not_before"]) == (
        "pending", 1, at(1200).isoformat())
    assert retry["attempt_list"] == [
        {"number": 1, "agent": "1000", "call_uuid": "att-1", "started_at": at(60).isoformat(),
         "ended_at": at(70).isoformat(), "outcome": "busy", "cause": "USER_BUSY",
         "retry_at": at(1200).isoformat()}]


@pytest.mark.parametrize("query,expected", [
    ({"state": "open"}, ["cb-retry", "cb-ring", "cb-wait"]),
    ({"state": "failed,cancelled"}, ["cb-stop", "cb-gone"]),
    ({"state": "in_progress"}, ["cb-ring"]),
    ({"queue": "support"}, ["cb-ring"]),
    ({"number": "139001"}, ["cb-retry"]),
    ({"number": "%"}, []),  # a LIKE wildcard matches itself only
    ({"state": "open", "limit": "1", "offset": "1"}, ["cb-ring"]),
])
def test_given_filters_when_listing_then_only_those_requests(app, client, lead, query,
                                                             expected):
    scene(app)

    assert ids(client.get("/api/callbacks", query_string=query, headers=lead[1])) == expected


@pytest.mark.parametrize("query,field", [
    ({"state": "waiting"}, "state"),
    ({"state": "open,done"}, "state"),
    ({"limit": "0"}, "limit"),
    ({"limit": "501"}, "limit"),
    ({"offset": "x"}, "offset"),
    ({"queue": "q" * 65}, "queue"),
    ({"number": "1" * 65}, "number"),
])
def test_given_a_bad_filter_when_listing_then_400_naming_the_parameter(app, client, lead, query,
                                                                       field):
    response = client.get("/api/callbacks", query_string=query, headers=lead[1])

    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field and body["error"].startswith(f"{field}: ")


def test_given_an_unknown_state_when_listing_then_the_error_lists_the_states(app, client, lead):
    response = client.get("/api/callbacks?state=waiting", headers=lead[1])

    assert response.get_json()["error"] == (
        "state: 'waiting' is not one of open, pending, in_progress, completed, failed, "
        "cancelled")


def test_given_an_id_when_getting_one_then_the_request_with_attempts_or_404_naming_it(
        app, client, lead):
    scene(app)

    done = client.get("/api/callbacks/cb-done", headers=lead[1]).get_json()
    missing = client.get("/api/callbacks/cb-nope", headers=lead[1])

    assert (done["state"], done["agent"], done["result_call_uuid"]) == ("completed", "1002",
                                                                       "att-3")
    assert [a["outcome"] for a in done["attempt_list"]] == ["connected"]
    assert missing.status_code == 404
    assert missing.get_json() == {"error": "no callback 'cb-nope'", "field": "id"}


def test_given_requests_when_the_page_is_shown_then_each_with_its_attempts_and_last_word(
        app, client):
    scene(app)
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)

    page = client.get("/callbacks").get_data(as_text=True)

    assert "6 callbacks" in page
    order = [page.index(f'id="callback-{callback_id}"') for callback_id in (
        "cb-retry", "cb-ring", "cb-wait", "cb-stop", "cb-gone", "cb-done")]
    assert order == sorted(order)
    assert "USER_BUSY" in page and "busy" in page  # the attempt's outcome and cause
    assert "2026-03-02 08:20:00" in page  # cb-retry's next try (UTC display)
    assert "NO_ANSWER" in page  # why cb-gone failed
    assert "cancelled by lead" in page
    assert "connected to agent 1002" in page
    assert "agent 1001 calling" in page  # the attempt running now
    assert "busy (USER_BUSY)" in page  # cb-retry's last word
    # cancel for the pending ones, reschedule for pending, failed and cancelled ones
    assert page.count("/cancel\"") == 2
    assert page.count("/reschedule\"") == 4


def test_given_a_bad_filter_when_the_page_is_shown_then_400_naming_the_parameter(app, client):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)

    response = client.get("/callbacks?state=waiting")

    assert response.status_code == 400
    assert "Invalid filter state" in response.get_data(as_text=True)


def test_given_a_viewer_without_manage_when_the_page_is_shown_then_no_change_forms(app, client):
    scene(app)
    with app.app_context():
        RoleService(db.session, AuditLog(db.session)).create(
            {"name": "viewer", "permissions": ["calls.view_all"]})
    _, username, password = create_user(app, role="viewer")
    login(client, username, password)

    page = client.get("/callbacks")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "6 callbacks" in text
    assert "/cancel\"" not in text and "/reschedule\"" not in text


# -- what supervisors change --------------------------------------------------------------------

def in_line(app, callbacks, **fields):
    """A request the engine holds in line (the caller asked through the IVR), stored."""
    values = {"since": to_epoch(at(-120)), "priority": 3, "skills": {"fr": 2},
              "call_uuid": "call-9", **fields}
    request = callbacks.desk.request("sales", CALLBACK_NUMBER, **values)
    store(app, callbacks.batch())
    return request.callback_id


def test_given_a_pending_request_when_cancelled_then_the_engine_stops_it_and_the_page_shows_it(
        app, client, engine, callbacks, lead):
    backend, _ = engine
    callback_id = in_line(app, callbacks)
    assert callbacks.acd.store.waiting_callers("sales") == [callback_id]

    response = client.post(f"/api/callbacks/{callback_id}/cancel", headers=lead[1])

    assert response.status_code == 200
    assert (response.get_json()["state"], response.get_json()["reason"]) == (
        "cancelled", f"cancelled by {lead[0]}")
    assert backend.received == [commands.CancelCallback(callback_id=callback_id, by=lead[0])]
    assert callbacks.acd.store.waiting_callers("sales") == []
    # the worker's copy of the same event comes later: a duplicate, nothing changes
    late = store(app, callbacks.batch())
    assert (late.stored, late.duplicates) == (0, 1)
    assert row_of(app, callback_id)["state"] == "cancelled"
    with app.app_context():
        entry = db.session.execute(sa.select(AuditEntry).where(
            AuditEntry.action == "callback.cancelled")).scalar_one()
        assert (entry.target, entry.username) == (callback_id, lead[0])


@pytest.mark.parametrize("callback_id", ["cb-ring", "cb-done", "cb-gone", "cb-stop"])
def test_given_a_request_not_pending_when_cancelled_then_409_naming_the_state_and_nothing_sent(
        app, client, engine, lead, callback_id):
    scene(app)

    response = client.post(f"/api/callbacks/{callback_id}/cancel", headers=lead[1])

    assert response.status_code == 409
    assert response.get_json()["field"] == "state"
    assert engine[0].received == []


def test_given_the_engine_calling_already_when_cancelled_then_409_from_the_engine(
        app, client, engine, lead):
    ringing = CallbackEngine(agents=["1000"], phones={"1000": 10})  # the agent's phone rings
    engine[0].callbacks = ringing
    try:
        callback_id = in_line(app, ringing, skills={})
        ringing.acd.login("1000")
        wait_until(lambda: ringing.desk.requests[callback_id].state is CallbackState.IN_PROGRESS,
                   what="the agent rung")  # its event is not stored yet: pending on the page

        response = client.post(f"/api/callbacks/{callback_id}/cancel", headers=lead[1])

        assert response.status_code == 409
        body = response.get_json()
        assert body["field"] == "callback_id" and "in progress" in body["error"]
        assert row_of(app, callback_id)["state"] == "pending"
    finally:
        ringing.stop()


def test_given_a_failed_request_when_rescheduled_then_held_again_at_its_place_with_fresh_attempts(
        app, client, engine, callbacks, lead):
    backend, _ = engine
    facts = CallbackFacts("engine-old")
    store(app, [facts.requested(0, "cb-1", since=at(-60)),
                facts.at(100, events.CallbackFailed, "cb-1", reason="NO_ANSWER", attempts=3)])
    later = events.utcnow().replace(microsecond=0) + datetime.timedelta(hours=2)

    response = client.post("/api/callbacks/cb-1/reschedule", headers=lead[1],
                           json={"not_before": later.isoformat()})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["state"], body["attempts"], body["not_before"], body["reason"]) == (
        "pending", 0, later.isoformat(), None)
    sent, = backend.received
    assert isinstance(sent, commands.RescheduleCallback)
    assert (sent.since, sent.priority, dict(sent.skills), sent.call_uuid) == (
        at(-60), 2, {"fr": 3}, "call-1")
    assert (sent.attempts, sent.not_before, sent.by) == (0, later, lead[0])
    held = callbacks.desk.requests["cb-1"]
    assert (held.since, held.not_before) == (to_epoch(at(-60)), to_epoch(later))


def test_given_a_naive_time_when_rescheduled_then_read_in_the_display_time_zone(
        tmp_path, migrated_databases, engine, callbacks):
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=engine[1], DISPLAY_TIMEZONE="Asia/Shanghai")
    try:
        _, username, _ = create_user(app, role="supervisor")
        callback_id = in_line(app, callbacks)

        response = app.test_client().post(
            f"/api/callbacks/{callback_id}/reschedule", json={"not_before": "2030-01-02T09:30"},
            headers={"Authorization": f"Bearer {create_token(app, username)}"})

        assert response.status_code == 200, response.get_json()
        assert response.get_json()["not_before"] == "2030-01-02T01:30:00+00:00"
        assert callbacks.acd.store.waiting_callers("sales") == []  # out of line until then
    finally:
        dispose(app)


@pytest.mark.parametrize("body,status,field", [
    ({}, 400, "not_before"),
    ({"not_before": ""}, 400, "not_before"),
    ({"not_before": 5}, 400, "not_before"),
    ({"not_before": "tomorrow"}, 400, "not_before"),
    ({"not_before": "2030-01-02T09:30", "queue": "support"}, 400, "queue"),
    ([], 400, None),
])
def test_given_a_bad_reschedule_body_when_sent_then_refused_naming_the_field(
        app, client, engine, callbacks, lead, body, status, field):
    callback_id = in_line(app, callbacks)

    response = client.post(f"/api/callbacks/{callback_id}/reschedule", headers=lead[1],
                           json=body)

    assert response.status_code == status
    assert response.get_json()["field"] == field
    assert engine[0].received == []


def test_given_a_completed_or_running_request_when_rescheduled_then_409_naming_the_state(
        app, client, engine, lead):
    scene(app)

    for callback_id in ("cb-done", "cb-ring"):
        response = client.post(f"/api/callbacks/{callback_id}/reschedule", headers=lead[1],
                               json={"not_before": "2030-01-02T09:30"})
        assert response.status_code == 409
        assert response.get_json()["field"] == "state"
    assert engine[0].received == []


def test_given_its_queue_gone_when_rescheduled_then_refused_naming_the_queue(
        app, client, engine, callbacks, lead):
    store(app, [CallbackFacts("engine-old").requested(0, "cb-1", queue="billing")])

    response = client.post("/api/callbacks/cb-1/reschedule", headers=lead[1],
                           json={"not_before": "2030-01-02T09:30"})

    assert response.status_code == 404
    assert response.get_json()["field"] == "queue"
    assert row_of(app, "cb-1")["state"] == "pending"


def test_given_the_engine_down_when_cancelling_then_503_and_nothing_changed(
        tmp_path, migrated_databases):
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=closed_port())
    try:
        _, username, _ = create_user(app, role="supervisor")
        store(app, [CallbackFacts().requested(0, "cb-1")])

        response = app.test_client().post("/api/callbacks/cb-1/cancel", headers={
            "Authorization": f"Bearer {create_token(app, username)}"})

        assert response.status_code == 503
        assert "nothing was changed" in response.get_json()["error"]
        assert row_of(app, "cb-1")["state"] == "pending"
    finally:
        dispose(app)


def test_given_the_page_forms_when_posted_then_changed_and_back_to_the_filtered_list(
        app, client, engine, callbacks):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)
    first, second = in_line(app, callbacks), in_line(app, callbacks)

    cancelled = post_form(client, f"/callbacks/{first}/cancel", {"state": "open"})
    rescheduled = post_form(client, f"/callbacks/{second}/reschedule",
                            {"not_before": "2030-01-02T09:30", "queue": "sales"})
    refused = post_form(client, f"/callbacks/{first}/cancel", {})

    assert cancelled.status_code == 302 and cancelled.location.endswith("/callbacks?state=open")
    assert rescheduled.location.endswith("/callbacks?queue=sales")
    assert row_of(app, first)["state"] == "cancelled"
    assert row_of(app, second)["not_before"] == "2030-01-02T09:30:00+00:00"
    page = client.get(refused.location).get_data(as_text=True)
    assert "Not cancelled" in page and "only a pending callback can be cancelled" in page
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(
            CallbackEventFact).where(CallbackEventFact.type == "callback.rescheduled")
        ).scalar_one() == 1
