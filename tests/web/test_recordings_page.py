"""The Recordings page and /api/recordings: each filter, paging newest first, own-only access for
``recordings.listen_own``, the audio and download routes and their audit entries (one a
playback, not one a range), bad filters named, and a real browser playing and seeking a row."""

import datetime
import math
import re
import struct
import wave

import pytest
import sqlalchemy as sa

from tests.polling import wait_until
from tests.web.browser import chromium_or_skip
from tests.web.support import (app_on, create_record, create_token, create_user,
                               database_url_for, dispose, login)
from tests.web.test_events_stream import web_server
from tests.web.test_openapi import fits
from web.audit import AuditLog, actions
from web.audit.models import AuditEntry
from web.desktop.models import CallDisposition
from web.extensions import db
from web.recordings.models import Recording, RecordingStatus
from web.users.roles import RoleService

UTC = datetime.timezone.utc
RATE = 8000  # L16 at 8 kHz, mono: what the switch writes for a mixed recording
# A to F (the times in UTC; the page's time zone is Asia/Shanghai, UTC+8)
CALLS = {
    "A": dict(at=datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC), caller="13900001111",
              queue="sales", agent="1000", seconds=30.0, disposition="sale"),
    # 01:00 on 3 March in Shanghai, 17:00 on 2 March in UTC
    "B": dict(at=datetime.datetime(2026, 3, 2, 17, 0, tzinfo=UTC), caller="13900002222",
              queue="support", agent="1001", seconds=125.0, disposition="complaint"),
    "C": dict(at=datetime.datetime(2026, 3, 4, 9, 0, tzinfo=UTC), caller="02155556666",
              queue="sales", agent="1001", seconds=12.4, disposition=None),
    # past its retention: the row stays, the file is gone
    "D": dict(at=datetime.datetime(2026, 3, 5, 10, 0, tzinfo=UTC), caller="13900001111",
              queue="support", agent="1000", seconds=40.0, disposition="sale",
              status=RecordingStatus.DELETED),
    # recorded, its call record not stored yet: no caller to show
    "E": dict(at=datetime.datetime(2026, 3, 6, 11, 0, tzinfo=UTC), caller=None,
              queue="sales", agent="1002", seconds=60.0, disposition=None),
}
STORED = ["E", "C", "B", "A"]  # newest first


def write_wav(path, seconds, frequency=440.0):
    """A real WAV file: a tone of ``seconds`` (L16, 8 kHz, mono)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = int(seconds * RATE)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * frequency * n / RATE)))
            for n in range(frames)))
    return path.read_bytes()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def app(request, tmp_path_factory, migrated_databases):
    """One app for the module on each database, its pages in Shanghai time."""
    app = app_on(tmp_path_factory.mktemp("recordings"),
                 database_url_for(migrated_databases, request.param),
                 DISPLAY_TIMEZONE="Asia/Shanghai")
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    """A test client of the module's app."""
    return app.test_client()


def root_of(app):
    return app.extensions["fs_cc_settings"].recordings_root


def add_recording(app, name, at, caller, queue, agent, seconds, disposition,
                  status=RecordingStatus.STORED, call_uuid=None, path=None, wav_seconds=1.0):
    """A call record (unless no caller), its recording row and file, its disposition; the
    recording's id."""
    if caller is not None:
        call_uuid = create_record(app, started=at, caller_number=caller, queue=queue,
                                  agent=agent)["uuid"]
    call_uuid = call_uuid or f"call-{name}"
    path = path or root_of(app) / at.date().isoformat() / queue / f"{call_uuid}.wav"
    if status is RecordingStatus.STORED:
        write_wav(path, wav_seconds)
    with app.app_context():
        row = Recording(path=str(path), call_uuid=call_uuid, engine="e1", queue=queue,
                        agent=agent, status=status, started_at=at,
                        stopped_at=at + datetime.timedelta(seconds=seconds),
                        duration_ms=round(seconds * 1000))
        db.session.add(row)
        if disposition:
            db.session.add(CallDisposition(call_uuid=call_uuid, agent=agent, queue=queue,
                                           disposition=disposition))
        db.session.commit()
        return row.id


@pytest.fixture(scope="module")
def recs(app):
    """{name: recording id} of A to E, and B's call also filed by the agent it went to first."""
    ids = {name: add_recording(app, name, **values) for name, values in CALLS.items()}
    with app.app_context():
        call_uuid = db.session.get(Recording, ids["B"]).call_uuid
        db.session.add(CallDisposition(call_uuid=call_uuid, agent="1000", queue="support",
                                       disposition="transferred"))
        db.session.commit()
    return ids


def names(recs, body):
    by_id = {value: key for key, value in recs.items()}
    return [by_id[row["id"]] for row in body["recordings"]]


def bearer(app, role, extension=None):
    _, username, _ = create_user(app, role=role, extension=extension)
    return {"Authorization": f"Bearer {create_token(app, username)}"}


@pytest.fixture(scope="module")
def manager(app):
    """A manager's API headers (recordings.listen)."""
    return bearer(app, "manager")


@pytest.fixture(scope="module")
def own_role(app):
    """A custom role that hears only its own calls."""
    with app.app_context():
        RoleService(db.session, AuditLog(db.session, actor="test")).create(
            {"name": "own-listener", "permissions": ["recordings.listen_own", "calls.view_own"]})
    return "own-listener"


def audit_entries(app, action, recording_id):
    with app.app_context():
        return db.session.execute(
            sa.select(AuditEntry).where(AuditEntry.action == action,
                                        AuditEntry.target == f"recording {recording_id}")
            .order_by(AuditEntry.id)).scalars().all()


# -- search ---------------------------------------------------------------------------------

@pytest.mark.parametrize("query, expected", [
    ("", STORED),
    ("status=any", ["E", "D", "C", "B", "A"]),
    ("status=deleted", ["D"]),
    # dates in the display time zone: B is on 3 March there
    ("from=2026-03-03", ["E", "C", "B"]),
    ("to=2026-03-02", ["A"]),
    ("from=2026-03-03T00:30&to=2026-03-03T02:00", ["B"]),
    ("from=2026-03-02T17:00:00Z&to=2026-03-02T17:00:01Z", ["B"]),
    ("agent=1001", ["C", "B"]),
    ("queue=support", ["B"]),
    ("queue=support&status=any", ["D", "B"]),
    ("caller=1111", ["A"]),
    ("caller=0215", ["C"]),
    ("caller=%25", []),  # a LIKE wildcard is a character like any other
    ("disposition=complaint", ["B"]),
    ("disposition=sale", ["A"]),
    ("disposition=transferred", []),  # filed by 1000, the recording is of 1001's talk
    ("min_seconds=30", ["E", "B", "A"]),
    ("max_seconds=12", ["C"]),  # 12.4 s is within 12 whole seconds
    ("max_seconds=11", []),
    ("min_seconds=13&max_seconds=30", ["A"]),
    ("agent=1001&min_seconds=100", ["B"]),
])
def test_given_recordings_when_filtering_then_exactly_the_matching_ones_newest_first(
        client, recs, manager, query, expected):
    response = client.get(f"/api/recordings?{query}", headers=manager)

    assert response.status_code == 200, response.get_json()
    assert names(recs, response.get_json()) == expected
    assert response.get_json()["total"] == len(expected)


def test_given_a_recording_then_its_row_holds_its_call_disposition_and_links(
        client, recs, manager):
    body = client.get("/api/recordings?queue=support", headers=manager).get_json()
    deleted = client.get("/api/recordings?status=deleted", headers=manager).get_json()
    document = client.get("/api/openapi.json", headers=manager).get_json()

    [row] = body["recordings"]
    assert {key: row[key] for key in ("caller", "queue", "agent", "disposition", "duration_ms",
                                      "status", "started_at")} == {
        "caller": "13900002222", "queue": "support", "agent": "1001",
        "disposition": "complaint", "duration_ms": 125000, "status": "stored",
        "started_at": "2026-03-02T17:00:00+00:00"}
    assert row["audio_url"] == f"/recordings/{recs['B']}/audio"
    assert row["download_url"] == f"/recordings/{recs['B']}/download"
    assert deleted["recordings"][0]["audio_url"] is None
    assert fits(document, "RecordingPage", body) == []
    assert "recordings" in [tag["name"] for tag in document["tags"]]
    assert document["paths"]["/api/recordings"]["get"]["tags"] == ["recordings"]


def test_given_a_recording_whose_call_is_not_stored_then_listed_without_a_caller(
        client, recs, manager):
    body = client.get("/api/recordings?agent=1002", headers=manager).get_json()

    assert [(row["caller"], row["queue"]) for row in body["recordings"]] == [(None, "sales")]


def test_given_limit_and_offset_then_that_slice_and_the_whole_total(client, recs, manager):
    body = client.get("/api/recordings?limit=2&offset=1", headers=manager).get_json()

    assert names(recs, body) == ["C", "B"]
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 1)


def test_given_two_a_page_when_opening_page_two_then_the_older_ones_and_links_keep_filters(
        app, client, recs, monkeypatch):
    monkeypatch.setitem(app.config, "RECORDINGS_PER_PAGE", 2)
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)

    text = client.get("/recordings?page=2&queue=sales").get_data(as_text=True)
    first = client.get("/recordings?queue=sales").get_data(as_text=True)

    assert re.findall(r'data-recording-id="(\d+)"', text) == [str(recs["A"])]
    assert "Page 2 of 2" in text and 'href="/recordings?page=1&amp;queue=sales"' in text
    assert re.findall(r'data-recording-id="(\d+)"', first) == [str(recs["E"]), str(recs["C"])]
    assert client.get("/recordings?page=9").status_code == 302


def test_given_the_page_then_each_row_has_its_time_call_player_and_download_link(
        app, client, recs):
    _, username, password = create_user(app, role="manager")
    login(client, username, password)

    text = client.get("/recordings?queue=support&status=any").get_data(as_text=True)

    b = recs["B"]
    row = text[text.index(f'data-recording-id="{b}"'):]
    row = row[:row.index("</tr>")]
    assert "2026-03-03 01:00" in row  # Shanghai time
    assert "13900002222" in row and "support" in row and "1001" in row
    assert "complaint" in row and "2:05" in row
    assert f'<audio controls preload="none" src="/recordings/{b}/audio"></audio>' in row
    assert f'href="/recordings/{b}/download"' in row
    deleted = text[text.index(f'data-recording-id="{recs["D"]}"'):]
    assert "deleted" in deleted[:deleted.index("</tr>")]
    assert "<audio" not in deleted[:deleted.index("</tr>")]
    assert '<a href="/recordings">Recordings</a>' in text
    assert "<script>" not in text  # CSP: no inline scripts


# -- who hears what ---------------------------------------------------------------------------

def test_given_only_listen_own_then_the_list_holds_only_ones_own_calls(
        app, client, recs, own_role):
    headers = bearer(app, own_role, extension="1001")

    mine = client.get("/api/recordings", headers=headers).get_json()
    asked_for_another = client.get("/api/recordings?agent=1000", headers=headers).get_json()
    everything = client.get("/api/recordings?status=any", headers=headers).get_json()

    assert names(recs, mine) == ["C", "B"] and mine["total"] == 2
    assert names(recs, asked_for_another) == [] and asked_for_another["total"] == 0
    assert names(recs, everything) == ["C", "B"]


def test_given_only_listen_own_when_opening_the_page_then_own_rows_and_the_nav_link(
        app, client, recs, own_role):
    _, username, password = create_user(app, role=own_role, extension="1001")
    login(client, username, password)

    text = client.get("/recordings").get_data(as_text=True)

    assert re.findall(r'data-recording-id="(\d+)"', text) == [str(recs["C"]), str(recs["B"])]
    assert '<a href="/recordings">Recordings</a>' in text
    assert "extension 1001" in text


def test_given_only_listen_own_then_others_audio_and_download_are_404_own_are_served(
        app, client, recs, own_role):
    headers = bearer(app, own_role, extension="1001")

    for kind in ("audio", "download"):
        own = client.get(f"/recordings/{recs['C']}/{kind}", headers=headers)
        other = client.get(f"/recordings/{recs['A']}/{kind}", headers=headers)
        missing = client.get(f"/recordings/999999/{kind}", headers=headers)
        assert own.status_code == 200 and own.data.startswith(b"RIFF")
        # another's recording answers as one that does not exist
        assert other.status_code == missing.status_code == 404
        assert f"no recording {recs['A']}" in other.get_data(as_text=True)


def test_given_listen_own_but_no_extension_then_nothing_listed_nor_served(
        app, client, recs, own_role):
    headers = bearer(app, own_role)

    body = client.get("/api/recordings?status=any", headers=headers).get_json()

    assert body["recordings"] == [] and body["total"] == 0
    assert client.get(f"/recordings/{recs['E']}/audio", headers=headers).status_code == 404


def test_given_an_agent_of_the_built_in_role_then_no_recordings_at_all(app, client, recs):
    headers = bearer(app, "agent", extension="1001")
    _, username, password = create_user(app, role="agent", extension="1001")
    login(client, username, password)

    assert client.get("/api/recordings", headers=headers).status_code == 403
    assert client.get(f"/recordings/{recs['C']}/audio", headers=headers).status_code == 403
    assert client.get(f"/recordings/{recs['C']}/download", headers=headers).status_code == 403
    assert client.get("/recordings").status_code == 403
    assert '<a href="/recordings">' not in client.get("/calls").get_data(as_text=True)


def test_given_a_stored_row_whose_path_leaves_the_folder_then_404(app, client, manager):
    outside = root_of(app).parent / "elsewhere.wav"
    at = datetime.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    recording_id = add_recording(app, "X", at, None, "sales", "1000", 1.0, None,
                                 call_uuid="call-outside", path=outside)
    try:
        response = client.get(f"/recordings/{recording_id}/audio", headers=manager)
    finally:
        with app.app_context():
            db.session.execute(sa.delete(Recording).where(Recording.id == recording_id))
            db.session.commit()

    assert response.status_code == 404
    assert "is not in the recordings folder" in response.get_data(as_text=True)


# -- the audit log ------------------------------------------------------------------------------

def test_given_a_playback_in_ranges_then_one_played_entry_a_new_playback_another(
        app, client, recs, manager):
    recording_id = recs["C"]
    before = len(audit_entries(app, actions.RECORDING_PLAYED, recording_id))

    first = client.get(f"/recordings/{recording_id}/audio", headers={
        **manager, "Range": "bytes=0-"})
    seek = client.get(f"/recordings/{recording_id}/audio", headers={
        **manager, "Range": "bytes=4000-"})
    tail = client.get(f"/recordings/{recording_id}/audio", headers={
        **manager, "Range": "bytes=8000-8999"})
    head = client.head(f"/recordings/{recording_id}/audio", headers=manager)
    after_one = audit_entries(app, actions.RECORDING_PLAYED, recording_id)
    again = client.get(f"/recordings/{recording_id}/audio", headers=manager)
    after_two = audit_entries(app, actions.RECORDING_PLAYED, recording_id)

    assert (first.status_code, seek.status_code, tail.status_code) == (206, 206, 206)
    assert head.status_code == 200 and again.status_code == 200
    assert len(after_one) == before + 1
    assert len(after_two) == before + 2
    entry = after_one[-1]
    assert entry.username is not None and entry.detail["agent"] == "1001"
    assert entry.detail["call_uuid"] == after_two[-1].detail["call_uuid"]


def test_given_a_refused_request_then_nothing_audited(app, client, recs, own_role):
    headers = bearer(app, own_role, extension="1001")
    before = len(audit_entries(app, actions.RECORDING_PLAYED, recs["A"]))

    assert client.get(f"/recordings/{recs['A']}/audio", headers=headers).status_code == 404

    assert len(audit_entries(app, actions.RECORDING_PLAYED, recs["A"])) == before


def test_given_a_download_then_an_attachment_named_by_date_queue_caller_call_and_audited(
        app, client, recs, manager):
    recording_id = recs["B"]
    with app.app_context():
        row = db.session.get(Recording, recording_id)
        call_uuid, data = row.call_uuid, open(row.path, "rb").read()

    response = client.get(f"/recordings/{recording_id}/download", headers=manager)
    entries = audit_entries(app, actions.RECORDING_DOWNLOADED, recording_id)

    assert response.status_code == 200 and response.data == data
    assert response.mimetype == "audio/wav"
    # the date where the page is read (Shanghai), as the page shows the call
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=2026-03-03_support_13900002222_{call_uuid}.wav")
    assert len(entries) == 1
    assert entries[0].detail["call_uuid"] == call_uuid
    assert actions.RECORDING_DOWNLOADED in actions.ACTIONS


# -- bad filters ----------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field", [
    ("from=yesterday", "from"),
    ("from=2026-03-04&to=2026-03-03", "to"),
    ("min_seconds=abc", "min_seconds"),
    ("max_seconds=-1", "max_seconds"),
    ("min_seconds=30&max_seconds=10", "max_seconds"),
    ("status=lost", "status"),
    ("disposition=" + "x" * 65, "disposition"),
    ("quee=sales", "quee"),
])
def test_given_a_bad_filter_then_400_naming_it_on_the_api_and_the_page(
        app, client, recs, manager, query, field):
    api = client.get(f"/api/recordings?{query}", headers=manager)
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    page = client.get(f"/recordings?{query}")

    assert api.status_code == 400 and api.get_json()["field"] == field
    assert api.get_json()["error"].startswith(f"{field}: ")
    assert page.status_code == 400
    assert f"Invalid filter {field}: {field}: " in page.get_data(as_text=True)


def test_given_paging_parameters_of_the_other_kind_then_refused_naming_them(
        app, client, recs, manager):
    api = client.get("/api/recordings?page=2", headers=manager)
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    page = client.get("/recordings?offset=2")

    assert api.status_code == 400 and api.get_json()["field"] == "page"
    assert page.status_code == 400 and "offset: unknown query parameter" in page.get_data(
        as_text=True)


# -- in a real browser ----------------------------------------------------------------------

@pytest.fixture
def browser():
    """A headless Chromium, quit afterwards."""
    driver = chromium_or_skip()
    yield driver
    driver.quit()


def test_given_the_page_in_a_browser_when_playing_and_seeking_a_row_then_it_plays_and_is_audited(
        app, recs, browser):
    from selenium.webdriver.common.by import By

    at = datetime.datetime(2026, 3, 7, 8, 0, tzinfo=UTC)
    recording_id = add_recording(app, "P", at, "13911112222", "browser-q", "1003", 6.0, None,
                                 wav_seconds=6.0)
    _, username, password = create_user(app, role="supervisor")
    with web_server(app) as web:
        browser.get(f"{web}/auth/login?next=/recordings?queue=browser-q")
        browser.find_element(By.ID, "username").send_keys(username)
        browser.find_element(By.ID, "password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "form.login button").click()
        wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, "tr[data-recording-id] audio"),
                   timeout=15, what="the recordings page with a player")
        audio = "document.querySelector('tr[data-recording-id=\"%d\"] audio')" % recording_id
        # muted: a headless browser lets a script start muted media without a user's gesture
        browser.execute_script(f"var a = {audio}; a.muted = true; window.playError = null;"
                               "a.play().catch(function (e) { window.playError = String(e); });")
        wait_until(lambda: browser.execute_script(
            f"return window.playError || {audio}.currentTime > 0;"), timeout=15,
            what="the player's time to advance")
        state = browser.execute_script(
            f"var a = {audio}; return [a.readyState, a.duration, window.playError];")
        browser.execute_script(f"var a = {audio}; a.pause(); a.currentTime = 4.5;")
        wait_until(lambda: browser.execute_script(
            f"var a = {audio}; return !a.seeking && a.currentTime >= 4.5;"), timeout=15,
            what="the seek to 4.5 s")
        browser.execute_script(f"{audio}.play();")
        wait_until(lambda: browser.execute_script(f"return {audio}.currentTime > 4.6;"),
                   timeout=15, what="playing on from the seek")
        browser.execute_script(f"{audio}.pause();")
        requests = browser.execute_script(
            "return performance.getEntriesByType('resource').filter(function (e) {"
            " return e.name.indexOf('/recordings/%d/audio') >= 0; }).length;" % recording_id)

    assert state[2] is None, state[2]
    assert state[0] > 0 and state[1] == pytest.approx(6.0, abs=0.1)
    assert requests >= 1
    entries = audit_entries(app, actions.RECORDING_PLAYED, recording_id)
    assert [entry.username for entry in entries] == [username]
