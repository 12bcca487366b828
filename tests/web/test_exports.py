"""Export jobs: asked for on the CRM page or the API, handed to the worker through the real
broker, written as CSV (UTF-8 with BOM) and XLSX equal to the search, with formulas
neutralised; refused without the permission; audited; downloaded by their owner (or an
admin) only; purged when expired."""

import csv
import datetime
import io

import openpyxl
import pytest
import sqlalchemy as sa

from tests.polling import wait_until
from tests.web.support import create_token, create_user, login, post_form
from tests.web.test_browser_account import browser, console_errors, log_in, site  # noqa: F401
from web.audit.models import AuditEntry
from web.crm import export_kind
from web.exports import services as export_services
from web.exports.kinds import KINDS, ExportRows, export_kind as register_kind
from web.exports.models import ExportJob
from web.extensions import db

SEARCH = {"q": "王", "custom": ["vehicle=SUV"], "sort": "name"}


def bearer(app, role):
    _, username, _ = create_user(app, role=role)
    return {"Authorization": f"Bearer {create_token(app, username)}"}, username


def work(app, run=True):
    """Run every task waiting in the app's broker, as a worker would (or drop them: a lost
    hand-off); their names."""
    celery_app = app.extensions["celery"]
    ran = []
    with celery_app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            args, kwargs, _ = message.decode()
            name = message.headers["task"]
            if run:
                celery_app.tasks[name].apply(args=args, kwargs=kwargs)
            message.ack()
            ran.append(name)
        queue.close()
    return ran


@pytest.fixture
def world(app, client, monkeypatch):
    """Customers (Chinese names, a custom field, a formula-like tag), an admin token; the
    export reads the search two rows at a time and commits progress every two rows."""
    monkeypatch.setattr(export_kind, "BATCH", 2)
    monkeypatch.setattr(export_services, "PROGRESS_EVERY", 2)
    admin, _ = bearer(app, "admin")
    assert client.post("/api/crm/fields", json={"key": "vehicle", "label": "车型",
                                                "kind": "choice", "choices": ["SUV", "轿车"]},
                       headers=admin).status_code == 201
    for name, vehicle, phone in (("王秀英", "SUV", "13800138000"), ("王芳", "SUV", "13800138001"),
                                 ("王伟", "轿车", "13800138002"), ("=1+1 王", "SUV", "13800138003"),
                                 ("王磊", "SUV", "13800138004"), ("李娜", "SUV", "13800138005")):
        response = client.post("/api/crm/customers", json={
            "name": name, "phones": [phone], "custom": {"vehicle": vehicle},
            "tags": ["+cmd"], "source": "tv"}, headers=admin)
        assert response.status_code == 201, response.get_json()
    yield admin
    if "celery" in app.extensions:
        app.extensions["celery"].close()


def searched(client, headers):
    """The ids and names the API's search gives for SEARCH, every page."""
    rows, offset = [], 0
    while True:
        page = client.get("/api/crm/customers", query_string={**SEARCH, "limit": 2,
                                                              "offset": offset},
                          headers=headers).get_json()
        rows += [(c["id"], c["name"]) for c in page["customers"]]
        if len(page["customers"]) < 2:
            return rows
        offset += 2


def test_given_a_filtered_search_when_exported_as_csv_then_the_file_holds_its_customers(
        app, client, world):
    manager, username = bearer(app, "manager")
    expected = searched(client, manager)

    asked = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv",
                                              "parameters": SEARCH}, headers=manager)
    queued = client.get(f"/api/exports/{asked.get_json()['id']}", headers=manager).get_json()
    ran = work(app)
    done = client.get(f"/api/exports/{queued['id']}", headers=manager).get_json()
    download = client.get(done["download_url"], headers=manager)

    assert asked.status_code == 202 and queued["status"] == "queued"
    assert queued["download_url"] is None and ran == ["fs_cc.exports.run"]
    assert (done["status"], done["done_rows"], done["total"]) == ("done", 4, 4)
    assert download.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["id", "name", "phones"] and "车型" in rows[0]
    assert [(int(row[0]), row[1]) for row in rows[1:]] == [
        (cid, "'" + name if name.startswith("=") else name) for cid, name in expected]
    assert len(expected) == 4 and "李娜" not in dict(expected).values()
    first = dict(zip(rows[0], rows[1]))
    assert first["车型"] == "SUV" and first["tags"] == "'+cmd" and first["source"] == "tv"
    assert first["phones"].startswith("1380013800")  # a manager sees full numbers
    with app.app_context():
        audit = db.session.execute(sa.select(AuditEntry.action, AuditEntry.username).where(
            AuditEntry.action.like("export.%")).order_by(AuditEntry.id)).all()
    assert audit == [("export.requested", username), ("export.downloaded", username)]


def test_given_the_crm_page_when_exporting_xlsx_then_the_sheet_equals_the_search(
        app, client, world):
    _, username, password = create_user(app, role="supervisor")
    login(client, username, password)
    expected = searched(client, world)

    page = client.get("/crm/customers", query_string={"q": "王", "cf_vehicle": "SUV",
                                                      "sort": "name"}).get_data(as_text=True)
    asked = post_form(client, "/exports", {"kind": "crm.customers", "format": "xlsx",
                                           "q": "王", "cf_vehicle": "SUV", "sort": "name"})
    work(app)
    mine = client.get("/exports").get_data(as_text=True)
    with app.app_context():
        job_id = db.session.execute(sa.select(ExportJob.id)).scalar_one()
    download = client.get(f"/exports/{job_id}/file")

    assert 'value="xlsx">Export XLSX</button>' in page and 'name="cf_vehicle" value="SUV"' in page
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/exports")
    assert f'href="/exports/{job_id}/file">download</a>' in mine
    sheet = openpyxl.load_workbook(io.BytesIO(download.data), read_only=True).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert [(row[0], row[1]) for row in rows[1:]] == [
        (cid, "'" + name if name.startswith("=") else name) for cid, name in expected]
    formula = next(row for row in rows if str(row[1]).startswith("'="))
    assert formula[1] == "'=1+1 王"  # text, not a formula the sheet would run


def test_given_an_agent_or_bad_parameters_then_the_export_is_refused_naming_why(
        app, client, world):
    agent, _ = bearer(app, "agent")
    manager, _ = bearer(app, "manager")

    refused = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv"},
                          headers=agent)
    answers = {field: client.post("/api/exports", json=body, headers=manager).get_json()
               for field, body in {
                   "kind": {"kind": "nope", "format": "csv"},
                   "format": {"kind": "crm.customers", "format": "pdf"},
                   "colour": {"kind": "crm.customers", "format": "csv",
                              "parameters": {"colour": "red"}},
                   "owner_id": {"kind": "crm.customers", "format": "csv",
                                "parameters": {"owner_id": "x"}}}.items()}

    assert (refused.status_code, refused.get_json()["field"]) == (403, "permission")
    assert {field: answer["field"] for field, answer in answers.items()} == {
        field: field for field in answers}
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(
            ExportJob)).scalar_one() == 0


def test_given_anothers_export_then_not_shown_nor_downloaded_but_an_admin_may(
        app, client, world):
    manager, _ = bearer(app, "manager")
    other, _ = bearer(app, "supervisor")
    job = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv"},
                      headers=manager).get_json()

    early = client.get(f"/api/exports/{job['id']}/file", headers=manager)
    work(app)
    status = client.get(f"/api/exports/{job['id']}", headers=other)
    stolen = client.get(f"/api/exports/{job['id']}/file", headers=other)
    listed = client.get("/api/exports", headers=other).get_json()
    by_admin = client.get(f"/api/exports/{job['id']}/file", headers=world)

    assert (early.status_code, early.get_json()["field"]) == (409, "id")
    assert status.status_code == 403 and stolen.status_code == 403
    assert listed == {"exports": []}
    assert by_admin.status_code == 200 and by_admin.data.count(b"\n") == 7  # header + 6


def test_given_an_expired_export_then_the_sweep_deletes_its_file(app, client, world):
    manager, _ = bearer(app, "manager")
    job = client.post("/api/exports", json={"kind": "crm.customers", "format": "xlsx"},
                      headers=manager).get_json()
    work(app)
    folder = app.extensions["fs_cc_settings"].var_dir / "exports"
    with app.app_context():
        row = db.session.get(ExportJob, job["id"])
        path = folder / row.file_path
        assert path.is_file()
        row.expires_at = row.finished_at - datetime.timedelta(seconds=1)
        db.session.commit()

    app.extensions["celery"].tasks["fs_cc.exports.purge"].apply()
    after = client.get(f"/api/exports/{job['id']}", headers=manager).get_json()
    gone = client.get(f"/api/exports/{job['id']}/file", headers=manager)

    assert not path.exists() and list(folder.iterdir()) == []
    assert after["status"] == "done" and after["download_url"] is None
    assert (gone.status_code, gone.get_json()["error"]) == (
        409, f"id: export {job['id']} has no file (expired)")


def test_given_a_kind_that_fails_then_the_job_is_failed_with_its_error(
        app, client, world, monkeypatch):
    def broken(session, context):
        def rows():
            yield [1]
            raise OSError("disk full")
        return ExportRows(["n"], rows(), None)

    monkeypatch.setitem(KINDS, "test.broken", None)
    register_kind("test.broken", "crm.view", lambda parameters, user: ({}, {}))(broken)
    manager, _ = bearer(app, "manager")
    job = client.post("/api/exports", json={"kind": "test.broken", "format": "csv"},
                      headers=manager).get_json()
    work(app)
    after = client.get(f"/api/exports/{job['id']}", headers=manager).get_json()

    assert (after["status"], after["error"]) == ("failed", "OSError: disk full")
    assert list((app.extensions["fs_cc_settings"].var_dir / "exports").iterdir()) == []


def test_given_a_custom_role_without_crm_phones_then_its_export_masks_numbers(
        app, client, world):
    from web.audit.services import AuditLog
    from web.users.roles import RoleService

    with app.app_context():
        RoleService(db.session, AuditLog(db.session, actor="test")).create(
            {"name": "exporter", "permissions": ["crm.view", "crm.export"]})
    exporter, _ = bearer(app, "exporter")
    job = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv",
                                            "parameters": SEARCH}, headers=exporter).get_json()
    work(app)
    text = client.get(f"/api/exports/{job['id']}/file", headers=exporter).data.decode(
        "utf-8-sig")

    assert job["parameters"]["options"] == {"full_phones": False}
    assert "138****8000" in text and "13800138000" not in text


def test_given_a_job_whose_hand_off_was_lost_then_the_sweep_hands_it_over_again(
        app, client, world):
    manager, _ = bearer(app, "manager")
    job = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv"},
                      headers=manager).get_json()
    work(app, run=False)
    app.extensions["celery"].tasks["fs_cc.exports.purge"].apply()
    young = work(app)  # asked a moment ago: maybe still on its way, left alone
    with app.app_context():
        row = db.session.get(ExportJob, job["id"])
        row.created_at -= datetime.timedelta(minutes=11)
        db.session.commit()

    swept = app.extensions["celery"].tasks["fs_cc.exports.purge"].apply().get()
    ran = work(app)
    after = client.get(f"/api/exports/{job['id']}", headers=manager).get_json()

    assert young == [] and swept == {"purged": 0, "requeued": 1}
    assert ran == ["fs_cc.exports.run"] and after["status"] == "done"


def test_given_my_exports_open_in_a_browser_then_progress_turns_into_a_download_link(
        app, client, world, site, browser):  # noqa: F811
    from selenium.webdriver.common.by import By

    app.config["EXPORTS_REFRESH_MS"] = 100
    _, username, password = create_user(app, role="manager")
    token = {"Authorization": f"Bearer {create_token(app, username)}"}
    job = client.post("/api/exports", json={"kind": "crm.customers", "format": "csv"},
                      headers=token).get_json()
    log_in(browser, site, username, password)
    browser.get(f"{site.url}/exports")
    status = browser.find_element(By.CSS_SELECTOR, "tr.export .export-status").text

    work(app)
    link = wait_until(lambda: browser.find_elements(By.CSS_SELECTOR, ".export-file a"), 10,
                      "the download link")

    assert status == "queued"
    assert link[0].get_attribute("href") == f"{site.url}/exports/{job['id']}/file"
    assert browser.find_element(By.CSS_SELECTOR, ".export-rows").text == "6 / 6 rows"
    assert console_errors(browser) == []
