"""Messages and notices: who may message whom (own team and its supervisors only), read
receipts, notices posted by supervisors to their teams and by admins to everyone, acknowledged
and expiring, the field at fault named in a 400, on SQLite and PostgreSQL; the live stream
delivering a new message and resuming after Last-Event-ID; the panel on the desktop."""

import datetime
import time

import pytest

from fs_cc.control import sse
from tests.web.support import (
    app_on,
    create_token,
    create_user,
    database_url_for,
    dispose,
    login,
)
from web.extensions import db
from web.teams.services import TeamService


def bearer(app, username):
    """The Authorization header of a new token of ``username``."""
    return {"Authorization": f"Bearer {create_token(app, username)}"}


def build_people(app):
    """Team A (supervisor lead, agents ann and bob), Team B (supervisor boss, agent cid), an
    admin; {name: (username, headers)}."""
    people = {}
    for name, role in (("lead", "supervisor"), ("boss", "supervisor"), ("ann", "agent"),
                       ("bob", "agent"), ("cid", "agent"), ("admin", "admin")):
        username = create_user(app, role=role)[1]
        people[name] = (username, bearer(app, username))
    with app.app_context():
        teams = TeamService(db.session)
        teams.create("Team A", supervisors=[people["lead"][0]],
                     members=[people["ann"][0], people["bob"][0]])
        teams.create("Team B", supervisors=[people["boss"][0]], members=[people["cid"][0]])
    return people


@pytest.fixture(params=["sqlite", "postgresql"])
def chat_app(request, tmp_path, migrated_databases):
    """(app, people) on each database."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param),
                 CHAT_POLL_SECONDS=0.05, CHAT_HEARTBEAT_SECONDS=0.2)
    yield app, build_people(app)
    dispose(app)


def send(client, people, sender, recipient, body="hello"):
    return client.post("/api/messages", headers=people[sender][1],
                       json={"to": people[recipient][0] if recipient in people else recipient,
                             "body": body})


def test_given_an_agent_then_they_message_their_teammate_and_supervisor_and_the_lead_replies(
        chat_app):
    app, people = chat_app
    client = app.test_client()

    answers = [send(client, people, "ann", "bob"), send(client, people, "ann", "lead"),
               send(client, people, "lead", "bob")]
    bob = client.get("/api/messages", headers=people["bob"][1]).get_json()

    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[0].get_json()["from"]["username"] == people["ann"][0]
    unread = {c["with"]["username"]: c["unread"] for c in bob["conversations"]}
    assert unread == {people["lead"][0]: 1, people["ann"][0]: 1}


@pytest.mark.parametrize("sender, recipient", [("ann", "cid"), ("ann", "boss"),
                                               ("lead", "cid"), ("cid", "lead")])
def test_given_someone_outside_ones_team_then_a_message_is_refused_naming_to(
        chat_app, sender, recipient):
    app, people = chat_app

    answer = send(app.test_client(), people, sender, recipient)

    assert (answer.status_code, answer.get_json()["field"]) == (403, "to")


@pytest.mark.parametrize("body, field", [({"body": "hi"}, "to"), ({"to": "x"}, "body"),
                                         ({"to": "BOB", "body": "  "}, "body"),
                                         ({"to": "BOB", "body": "x" * 2001}, "body"),
                                         ({"to": "nobody", "body": "hi"}, "to"),
                                         ({"to": "BOB", "body": "hi", "urgent": 1}, "urgent")])
def test_given_a_bad_message_then_400_names_the_field(chat_app, body, field):
    app, people = chat_app
    body = {key: people["bob"][0] if value == "BOB" else value for key, value in body.items()}

    answer = app.test_client().post("/api/messages", headers=people["ann"][1], json=body)

    assert (answer.status_code, answer.get_json()["field"]) == (400, field)


def test_given_messages_read_then_each_earlier_one_of_the_sender_has_its_receipt(chat_app):
    app, people = chat_app
    client = app.test_client()
    first = send(client, people, "ann", "bob", "one").get_json()
    second = send(client, people, "ann", "bob", "two").get_json()

    wrong = client.post(f"/api/messages/{second['id']}/read", headers=people["ann"][1])
    read = client.post(f"/api/messages/{second['id']}/read", headers=people["bob"][1])
    thread = client.get(f"/api/messages?with={people['bob'][0]}",
                        headers=people["ann"][1]).get_json()["messages"]

    assert (wrong.status_code, wrong.get_json()["field"]) == (404, "message_id")
    assert read.get_json()["read_at"] is not None
    assert [(m["id"], m["read_at"] is not None) for m in thread] == [(first["id"], True),
                                                                     (second["id"], True)]


def test_given_notices_then_a_team_sees_its_own_and_everyones_and_acks_them(chat_app):
    app, people = chat_app
    client = app.test_client()

    to_a = client.post("/api/notices", headers=people["lead"][1],
                       json={"title": "Queue sales is long", "team": "Team A"})
    to_all = client.post("/api/notices", headers=people["admin"][1],
                         json={"title": "Fire drill at 3", "body": "Leave by the stairs"})
    ack = client.post(f"/api/notices/{to_a.get_json()['id']}/ack", headers=people["ann"][1])
    ann = client.get("/api/notices", headers=people["ann"][1]).get_json()["notices"]
    cid = client.get("/api/notices", headers=people["cid"][1]).get_json()["notices"]
    cid_ack = client.post(f"/api/notices/{to_a.get_json()['id']}/ack", headers=people["cid"][1])

    assert (to_a.status_code, to_all.status_code) == (201, 201)
    assert [(n["title"], n["acked_at"] is not None) for n in ann] == [
        ("Fire drill at 3", False), ("Queue sales is long", True)]
    assert ack.get_json()["acked_at"] is not None
    assert [n["title"] for n in cid] == ["Fire drill at 3"]
    assert (cid_ack.status_code, cid_ack.get_json()["field"]) == (404, "notice_id")


@pytest.mark.parametrize("poster, body, status, field", [
    ("ann", {"title": "t", "team": "Team A"}, 403, "team"),
    ("ann", {"title": "t"}, 403, "team"),
    ("lead", {"title": "t"}, 403, "team"),
    ("lead", {"title": "t", "team": "Team B"}, 403, "team"),
    ("lead", {"title": "t", "team": "Team Q"}, 400, "team"),
    ("lead", {"team": "Team A"}, 400, "title"),
    ("lead", {"title": "t", "team": "Team A", "expires_at": "tomorrow"}, 400, "expires_at"),
    ("lead", {"title": "t", "team": "Team A", "expires_at": "2020-01-01T00:00:00+00:00"},
     400, "expires_at"),
])
def test_given_a_notice_one_may_not_post_then_refused_naming_the_field(chat_app, poster, body,
                                                                       status, field):
    app, people = chat_app

    answer = app.test_client().post("/api/notices", headers=people[poster][1], json=body)

    assert (answer.status_code, answer.get_json()["field"]) == (status, field)


def test_given_a_notice_past_its_expiry_then_it_is_no_longer_shown(chat_app):
    app, people = chat_app
    client = app.test_client()
    soon = (datetime.datetime.now(datetime.UTC)
            + datetime.timedelta(minutes=5)).isoformat()
    posted = client.post("/api/notices", headers=people["lead"][1],
                         json={"title": "Brief", "team": "Team A", "expires_at": soon})

    before = client.get("/api/notices", headers=people["bob"][1]).get_json()["notices"]
    with app.app_context():  # its expiry passes (set in the past, not waited for)
        from web.chat.models import Notice

        notice = db.session.get(Notice, posted.get_json()["id"])
        notice.expires_at = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=1)
        db.session.commit()
    after = client.get("/api/notices", headers=people["bob"][1]).get_json()["notices"]

    assert [n["title"] for n in before] == ["Brief"]
    assert after == []


def next_frame(chunks, deadline=5.0):
    """The next message or notice frame of a streaming response's chunks."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        chunk = next(chunks).decode("utf-8")
        found = list(sse.read_frames(chunk.splitlines() + [""]))
        if found:
            return found[0]
    raise AssertionError("no frame in time")


def open_stream(client, headers, last_event_id=None, after=None):
    """The chunks of /api/chat/stream."""
    if last_event_id is not None:
        headers = {**headers, "Last-Event-ID": last_event_id}
    url = "/api/chat/stream" + (f"?after={after}" if after else "")
    response = client.get(url, headers=headers, buffered=False)
    assert response.status_code == 200
    assert response.content_type.startswith("text/event-stream")
    return response, iter(response.response)


def test_given_a_stream_then_a_new_message_arrives_and_a_reconnect_resumes_after_its_id(
        chat_app):
    app, people = chat_app
    client = app.test_client()
    response, chunks = open_stream(client, people["bob"][1])
    next(chunks)  # retry and the opening comment

    first = send(client, people, "ann", "bob", "one").get_json()
    frame = next_frame(chunks)
    response.close()
    send(client, people, "ann", "bob", "two")
    client.post("/api/notices", headers=people["lead"][1],
                json={"title": "Huddle", "team": "Team A"})
    again, chunks = open_stream(client, people["bob"][1], last_event_id=frame.id)
    missed = [next_frame(chunks), next_frame(chunks)]
    again.close()

    assert frame.event == "message" and '"one"' in frame.data
    assert frame.id.startswith(f"{first['id']}.")
    assert [(f.event, '"two"' in f.data or '"Huddle"' in f.data) for f in missed] == [
        ("message", True), ("notice", True)]


def test_given_a_stream_of_someone_else_then_their_messages_do_not_arrive(chat_app):
    app, people = chat_app
    client = app.test_client()
    response, chunks = open_stream(client, people["cid"][1])
    next(chunks)

    send(client, people, "ann", "bob", "private")
    send(client, people, "boss", "cid", "yours")
    frame = next_frame(chunks)
    response.close()

    assert '"yours"' in frame.data and "private" not in frame.data


def test_given_a_bad_last_event_id_then_400_names_it(chat_app):
    app, people = chat_app

    answer = app.test_client().get("/api/chat/stream", headers={
        **people["bob"][1], "Last-Event-ID": "engine-1:4"})

    assert (answer.status_code, answer.get_json()["field"]) == (400, "Last-Event-ID")


def test_given_the_desktop_and_the_wallboard_then_the_panel_and_its_script_are_on_them(app):
    _, username, password = create_user(app, role="supervisor")
    client = app.test_client()
    login(client, username, password)

    pages = [client.get(url).get_data(as_text=True) for url in ("/desktop", "/supervisor")]

    for page in pages:
        assert 'id="chat"' in page and "chat.js" in page and 'id="chat-notices"' in page
    assert 'id="team-select"' in pages[1]
