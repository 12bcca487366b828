"""A customer's attachments (upload, list, download byte for byte, the size limit naming the field,
names that cannot choose where a file goes, private files, permissions by role, soft removal in
the history, merging) and the recording link of a call on the timeline."""

import hashlib
import io
import os
import re
import stat

import pytest

from tests.web.support import (app_on, create_record, create_token, create_user,
                               database_url_for, dispose, login, post_form)
from tests.web.test_crm_api import create
from tests.web.test_openapi import fits
from web.audit.services import AuditLog
from web.crm.attachments import FOLDER, CustomerAttachment, shown_filename
from web.crm.models import HistoryEntry
from web.extensions import db
from web.recordings.models import Recording, RecordingStatus
from web.types import utcnow
from web.users.roles import RoleService

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40  # 10 KB, every byte value
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(200))


@pytest.fixture(scope="module")
def app(tmp_path_factory, migrated_databases):
    """One app for the module (each test makes customers of its own)."""
    app = app_on(tmp_path_factory.mktemp("attachments"),
                 database_url_for(migrated_databases, "sqlite"))
    yield app
    dispose(app)


@pytest.fixture(scope="module")
def heads(app):
    """{role: bearer headers}: a manager, an agent (crm.edit), a viewer (crm.view only) and a
    supervisor (crm.edit and recordings.listen)."""
    with app.app_context():
        RoleService(db.session, AuditLog(db.session, actor="test")).create(
            {"name": "crm-viewer", "permissions": ["crm.view"]})
    headers = {}
    for role in ("manager", "agent", "crm-viewer", "supervisor"):
        _, username, _ = create_user(app, role=role)
        headers[role] = {"Authorization": f"Bearer {create_token(app, username)}"}
    return headers


def customer(client, headers, **body):
    """A new customer's id."""
    return create(client, headers, **body)["id"]


def upload(client, headers, customer_id, data=PDF, filename="合同.pdf",
           content_type="application/pdf"):
    return client.post(f"/api/crm/customers/{customer_id}/attachments", headers=headers,
                       data={"file": (io.BytesIO(data), filename, content_type)})


def folder(app):
    return app.extensions["fs_cc_settings"].var_dir / FOLDER


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_given_a_file_uploaded_then_listed_and_downloaded_byte_for_byte_as_an_attachment(
        app, client, heads):
    customer_id = customer(client, heads["manager"])

    made = upload(client, heads["agent"], customer_id)
    listed = client.get(f"/api/crm/customers/{customer_id}/attachments",
                        headers=heads["crm-viewer"])
    got = client.get(made.get_json()["url"], headers=heads["crm-viewer"])
    document = client.get("/api/openapi.json", headers=heads["manager"]).get_json()

    body = made.get_json()
    assert made.status_code == 201
    assert (body["filename"], body["content_type"], body["size_bytes"], body["sha256"]) == (
        "合同.pdf", "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest())
    assert [row["id"] for row in listed.get_json()["attachments"]] == [body["id"]]
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert "UTF-8''%E5%90%88%E5%90%8C.pdf" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Security-Policy"].startswith("sandbox")
    assert fits(document, "CustomerAttachment", body) == []
    assert fits(document, "CustomerAttachmentList", listed.get_json()) == []
    assert "post" in document["paths"]["/api/crm/customers/{customer_id}/attachments"]


@pytest.mark.parametrize("size", [10 * 1024 + 1, 200 * 1024])  # past the limit by 1 B, by far
def test_given_a_file_past_the_limit_then_400_naming_file_and_nothing_kept(
        app, client, heads, monkeypatch, size):
    monkeypatch.setitem(app.config, "CRM_ATTACHMENT_MAX_MB", 10 / 1024)  # 10 KB
    customer_id = customer(client, heads["manager"])
    before = sorted(os.listdir(folder(app))) if folder(app).exists() else []

    response = upload(client, heads["manager"], customer_id, data=b"x" * size)
    exact = upload(client, heads["manager"], customer_id, data=b"x" * 10 * 1024)

    assert response.status_code == 400
    assert response.get_json()["field"] == "file"
    assert "CRM_ATTACHMENT_MAX_MB" in response.get_json()["error"]
    assert exact.status_code == 201
    assert sorted(os.listdir(folder(app))) == sorted(
        before + [exact_stored_name(app, exact.get_json()["id"])])


def exact_stored_name(app, attachment_id):
    with app.app_context():
        return db.session.get(CustomerAttachment, attachment_id).stored_name


@pytest.mark.parametrize("data, field_text", [(None, "choose a file"), (b"", "empty")])
def test_given_no_file_or_an_empty_one_then_400_naming_file(client, heads, data, field_text):
    customer_id = customer(client, heads["manager"])

    if data is None:
        response = client.post(f"/api/crm/customers/{customer_id}/attachments",
                               headers=heads["manager"], data={"other": "x"})
    else:
        response = upload(client, heads["manager"], customer_id, data=data)

    assert response.status_code == 400 and response.get_json()["field"] == "file"
    assert field_text in response.get_json()["error"]


@pytest.mark.parametrize("name, shown", [("../../../evil.sh", "evil.sh"),
                                         ("/etc/cron.d/win.bat", "win.bat"), ("..", "attachment")])
def test_given_a_name_with_folders_then_the_file_goes_under_our_name_in_a_private_folder(
        app, client, heads, name, shown):
    customer_id = customer(client, heads["manager"])
    var_dir = app.extensions["fs_cc_settings"].var_dir

    response = upload(client, heads["manager"], customer_id, data=b"#!/bin/sh\n",
                      filename=name, content_type="text/x-sh")

    assert response.status_code == 201 and response.get_json()["filename"] == shown
    stored = exact_stored_name(app, response.get_json()["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", stored)
    assert (folder(app) / stored).read_bytes() == b"#!/bin/sh\n"
    assert mode(folder(app)) == 0o700 and mode(folder(app) / stored) == 0o600
    everything = {path.name for path in var_dir.parent.rglob("*")}
    assert not {"evil.sh", "win.bat"} & everything


@pytest.mark.parametrize("raw, kept", [
    ("C:\\Users\\王\\报价单.xlsx", "报价单.xlsx"), ("a\x00b\n.txt", "ab.txt"),
    ("x" * 300 + ".pdf", "x" * 251 + ".pdf"), ("  ", "attachment")])
def test_given_an_uploaded_name_then_only_its_last_part_without_control_characters_is_kept(
        raw, kept):
    assert shown_filename(raw) == kept


def test_given_each_role_then_who_may_upload_download_and_remove(client, heads):
    customer_id = customer(client, heads["manager"])
    made = upload(client, heads["agent"], customer_id).get_json()
    url = f"/api/crm/customers/{customer_id}/attachments/{made['id']}"

    assert upload(client, heads["crm-viewer"], customer_id).status_code == 403
    assert client.get(url, headers=heads["crm-viewer"]).status_code == 200
    assert client.delete(url, headers=heads["agent"]).status_code == 403
    assert client.get(url, headers={}).status_code == 401
    other = customer(client, heads["manager"])
    assert client.get(f"/api/crm/customers/{other}/attachments/{made['id']}",
                      headers=heads["manager"]).status_code == 404


def test_given_an_attachment_removed_then_soft_kept_on_disk_and_in_the_history(
        app, client, heads):
    customer_id = customer(client, heads["manager"])
    made = upload(client, heads["agent"], customer_id, filename="photo.jpg",
                  content_type="image/jpeg").get_json()
    url = f"/api/crm/customers/{customer_id}/attachments/{made['id']}"

    removed = client.delete(url, headers=heads["manager"])
    again = client.get(url, headers=heads["manager"])
    listed = client.get(f"/api/crm/customers/{customer_id}/attachments",
                        headers=heads["manager"]).get_json()["attachments"]
    timeline = client.get(f"/api/crm/customers/{customer_id}/history",
                          headers=heads["manager"]).get_json()["items"]

    assert removed.status_code == 200 and removed.get_json()["deleted_at"] is not None
    assert again.status_code == 404 and again.get_json()["field"] == "attachment_id"
    assert listed == []
    with app.app_context():
        row = db.session.get(CustomerAttachment, made["id"])
        assert row.deleted_by is not None and (folder(app) / row.stored_name).is_file()
        entries = [(e.action, e.old_value, e.new_value) for e in db.session.query(
            HistoryEntry).filter_by(customer_id=customer_id, field="attachments")
            .order_by(HistoryEntry.id)]
    assert entries == [("attachment_added", None, "photo.jpg"),
                       ("attachment_deleted", "photo.jpg", None)]
    assert [item["kind"] for item in timeline if "photo.jpg" in item["title"]] == [
        "change", "change"]  # the upload's own item is gone with it


def test_given_a_duplicate_with_attachments_when_merged_then_they_move_to_the_kept_one(
        client, heads):
    manager = heads["manager"]
    kept, duplicate = customer(client, manager), customer(client, manager, name="王秀英 2")
    made = upload(client, manager, duplicate, filename="id-card.png",
                  content_type="image/png").get_json()

    merged = client.post(f"/api/crm/customers/{kept}/merge", json={"source_id": duplicate},
                         headers=manager)
    listed = client.get(f"/api/crm/customers/{kept}/attachments",
                        headers=manager).get_json()["attachments"]
    got = client.get(f"/api/crm/customers/{kept}/attachments/{made['id']}", headers=manager)
    timeline = client.get(f"/api/crm/customers/{kept}/history",
                          headers=manager).get_json()["items"]

    assert merged.status_code == 200
    assert [row["filename"] for row in listed] == ["id-card.png"] and got.data == PDF
    assert client.get(f"/api/crm/customers/{duplicate}/attachments",
                      headers=manager).get_json()["attachments"] == []
    assert any(item["kind"] == "change" and item["detail"]["action"] == "merged"
               and item["detail"]["field"] == "attachments" for item in timeline)


def test_given_the_page_then_a_file_is_attached_with_csrf_and_shown_with_its_links(
        app, client, heads):
    _, username, password = create_user(app, role="agent")
    login(client, username, password)
    customer_id = customer(client, heads["manager"])
    page_url = f"/crm/customers/{customer_id}"

    refused = client.post(f"{page_url}/attachments",
                          data={"file": (io.BytesIO(b"abc"), "a.txt")})
    done = post_form(client, f"{page_url}/attachments",
                     {"file": (io.BytesIO(b"<script>alert(1)</script>"), "page.html",
                               "text/html")})
    page = client.get(page_url).get_data(as_text=True)
    link = re.search(r'<a href="(/crm/customers/\d+/attachments/\d+)" download>page.html', page)
    got = client.get(link.group(1))

    assert refused.status_code == 400
    assert done.status_code == 302 and done.headers["Location"].endswith("#attachments")
    assert 'id="attachments"' in page and 'enctype="multipart/form-data"' in page
    assert re.search(r'class="timeline-attachment">.*?attachment page\.html \(25 B\) by '
                     + username, page, re.S)
    assert got.data == b"<script>alert(1)</script>" and got.mimetype == "text/html"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert ">Remove<" not in page.split('id="attachments"')[1].split("</table>")[0]


@pytest.fixture
def recorded_call(app, client, heads):
    """A customer whose call has a stored recording: (customer id, recording id, recording of a
    file outside the recordings folder's id)."""
    customer_id = customer(client, heads["manager"], phones=["13911112222"])
    record = create_record(app, caller_number="13911112222")
    root = app.extensions["fs_cc_settings"].recordings_root
    path = root / "2026-03-02" / "sales" / f"{record['uuid']}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(WAV)
    outside = root.parent / f"{record['uuid']}.wav"
    outside.write_bytes(WAV)
    with app.app_context():
        rows = [Recording(path=str(where), call_uuid=record["uuid"], engine="e1",
                          status=status, started_at=utcnow())
                for where, status in ((path, RecordingStatus.STORED),
                                      (outside, RecordingStatus.STORED),
                                      (root / f"{record['uuid']}-gone.wav",
                                       RecordingStatus.DELETED))]
        db.session.add_all(rows)
        db.session.commit()
        return customer_id, rows[0].id, rows[1].id, rows[2].id


def test_given_a_call_with_a_recording_then_the_timeline_links_a_player_for_listeners_only(
        app, client, heads, recorded_call):
    customer_id, recording_id, outside_id, deleted_id = recorded_call
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)

    page = client.get(f"/crm/customers/{customer_id}").get_data(as_text=True)
    href = re.search(r'<a class="recording-link" href="([^"]+)"', page).group(1)
    heard = client.get(href)
    api = client.get(f"/api/crm/customers/{customer_id}/history",
                     headers=heads["agent"]).get_json()["items"]
    urls = {rec["id"]: rec["url"] for item in api if item["kind"] == "call"
            for rec in item["detail"]["recordings"]}

    assert href == f"/recordings/{recording_id}/audio"
    assert f'<audio controls preload="none" src="{href}">' in page
    assert heard.status_code == 200 and heard.data == WAV and heard.mimetype == "audio/wav"
    assert urls == {recording_id: href, outside_id: f"/recordings/{outside_id}/audio",
                    deleted_id: None}
    assert client.get(f"/recordings/{outside_id}/audio").status_code == 404
    assert client.get(f"/recordings/{deleted_id}/audio").status_code == 404
    assert client.get(href, headers=heads["agent"]).status_code == 403
    assert client.get(href, headers=heads["supervisor"]).data == WAV


def test_given_an_agent_without_recordings_listen_then_no_player_on_the_timeline(
        app, client, recorded_call):
    customer_id = recorded_call[0]
    _, username, password = create_user(app, role="agent")
    login(client, username, password)

    page = client.get(f"/crm/customers/{customer_id}").get_data(as_text=True)

    assert "recording: " in page and "recording-link" not in page and "<audio" not in page


def test_given_attachments_removed_when_the_keep_days_pass_then_the_worker_deletes_their_files(
        app, client, heads):
    import datetime

    from web.crm.attachment_tasks import purge_attachments

    customer_id = customer(client, heads["manager"])
    made = [upload(client, heads["agent"], customer_id, filename=f"{n}.pdf").get_json()
            for n in ("old", "recent", "kept")]
    for attachment in made[:2]:
        url = f"/api/crm/customers/{customer_id}/attachments/{attachment['id']}"
        assert client.delete(url, headers=heads["manager"]).status_code == 200
    with app.app_context():
        old = db.session.get(CustomerAttachment, made[0]["id"])
        old.deleted_at = utcnow() - datetime.timedelta(days=31)  # past CRM_ATTACHMENT_KEEP_DAYS
        db.session.commit()
        rows = [db.session.get(CustomerAttachment, a["id"]) for a in made]
        paths = [folder(app) / row.stored_name for row in rows]

        first, second = purge_attachments(), purge_attachments()

        assert first == {"purged": 1} and second == {"purged": 0}
        assert [path.is_file() for path in paths] == [False, True, True]
        assert db.session.get(CustomerAttachment, made[0]["id"]).sha256 == rows[0].sha256
    listed = client.get(f"/api/crm/customers/{customer_id}/attachments",
                        headers=heads["manager"]).get_json()["attachments"]
    assert [a["filename"] for a in listed] == ["kept.pdf"]
