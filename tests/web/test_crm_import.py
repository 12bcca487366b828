"""Importing customers from CSV and XLSX files: each broken row reported with its row number,
column and reason; GBK and UTF-8 (BOM) files; formulas refused; duplicates by phone or card
under each policy; custom fields; all or nothing per batch; a job that continues after a crash;
the pages, the problems' CSV and the JSON API."""

import csv
import datetime
import io
import json
import os

import openpyxl
import pytest
import sqlalchemy as sa

from tests.web.support import (create_token, create_user, database_url_for, dispose,
                               empty_tables, login, make_app, post_form)
from web.audit.models import AuditEntry
from web.crm.fields import FieldDefinitions
from web.crm.import_models import CustomerImport
from web.crm.import_runner import ImportRunner
from web.crm.import_tasks import import_customers, import_jobs, run_job, sweep_imports, var_dir
from web.crm.imports import guess_mapping
from web.crm.models import Customer, CustomValue, HistoryEntry
from web.crm.rules import CustomerRules
from web.crm.services import CustomerService
from web.extensions import db

EAGER = {"broker_url": "memory://", "task_always_eager": True, "task_ignore_result": True}


@pytest.fixture(scope="module")
def module_app(tmp_path_factory, migrated_databases):
    """One app for the module on the session's SQLite database; tasks run at once (eager)."""
    app = make_app(tmp_path_factory.mktemp("imports"),
                   database_url_for(migrated_databases, "sqlite"), CELERY=EAGER)
    yield app
    dispose(app)


@pytest.fixture
def app(module_app):
    """The module's app, emptied, in an app context."""
    empty_tables(module_app)
    with module_app.app_context():
        yield module_app
        db.session.remove()


def csv_bytes(rows, encoding="utf-8"):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def import_file(data, filename="customers.csv", policy="skip", mapping=None, batch_rows=None):
    """Store ``data``, start a job with the guessed (or given) mapping, run it; the job."""
    jobs = import_jobs()
    token = jobs.store_upload(filename, io.BytesIO(data))
    header, _, _ = jobs.preview(token)
    definitions = FieldDefinitions(db.session).active()
    job = jobs.start(token, filename, mapping or guess_mapping(header, definitions), policy,
                     "importer", definitions)
    return run_job(job.id, batch_rows=batch_rows)


def problems(job):
    return [(row.row_number, row.column, row.kind, row.reason)
            for row in import_jobs().problems(job.id)]


def customers():
    return {row.name: row for row in db.session.execute(sa.select(Customer)).scalars()}


def service():
    return CustomerService(db.session, CustomerRules(db.session, "CN"))


def test_given_broken_rows_then_each_is_reported_with_row_column_reason_and_the_rest_imported(
        app):
    FieldDefinitions(db.session).define({"key": "member_type", "label": "会员类型",
                                         "kind": "choice", "choices": ["个人", "企业"],
                                         "required": True})
    data = csv_bytes([
        ["姓名", "手机", "卡号", "生日", "会员类型"],
        ["王秀英", "138 0013 8000", "vip-1", "1980-02-29", "个人"],
        ["李娜", "12345", "", "", "个人"],
        ["", "13900139000", "", "", "企业"],
        ["张伟", "13700137000", "", "=HYPERLINK(\"x\")", "个人"],
        ["刘洋", "+86 138 0013 8000", "", "", "企业"],
        ["陈静", "13600136000", "", "", ""],
        ["赵磊", "010-12345678", "VIP-1", "", "企业"],
    ])

    job = import_file(data)

    found = problems(job)
    assert (3, "手机", "error") == found[0][:3] and "not a valid phone" in found[0][3]
    assert (4, "姓名", "error", "name: a name is required") in found
    assert (5, "生日", "error", 'formula not allowed: =HYPERLINK("x")') in found
    assert (6, "手机", "skipped") == found[3][:3] and "row 2" in found[3][3]
    assert (7, "会员类型", "error", "custom.member_type: 会员类型 is required") in found
    assert (8, "卡号", "skipped") == found[5][:3] and "VIP-1" in found[5][3]
    assert len(found) == 6
    assert (job.status, job.total_rows, job.created, job.skipped, job.failed) == (
        "done", 7, 1, 2, 4)
    saved = customers()
    assert list(saved) == ["王秀英"]
    assert saved["王秀英"].card_number == "VIP-1"
    assert saved["王秀英"].custom == {"member_type": "个人"}
    assert [p.e164 for p in saved["王秀英"].phones] == ["+8613800138000"]
    assert db.session.execute(sa.select(CustomValue.text_value)).scalars().all() == ["个人"]
    history = db.session.execute(sa.select(HistoryEntry.action, HistoryEntry.new_value)).all()
    assert history == [("imported", "customers.csv row 2")]


def test_given_a_gbk_file_then_its_chinese_is_read_and_the_encoding_noted(app):
    data = csv_bytes([["姓名", "电话", "地址"], ["欧阳娜娜", "(010) 1234 5678", "北京市朝阳区"]],
                     encoding="gbk")

    job = import_file(data)

    assert (job.encoding, job.created) == ("gb18030", 1)
    customer = customers()["欧阳娜娜"]
    assert customer.street == "北京市朝阳区" and customer.phones[0].digits == "01012345678"


def test_given_a_utf8_file_with_bom_and_semicolons_then_the_first_header_is_still_matched(app):
    data = "\ufeff姓名;Phone;Email\n周杰;13800138000;zj@example.cn\n".encode("utf-8")

    job = import_file(data)

    assert job.mapping == ["name", "phones", "email"]
    assert (job.encoding, job.created, customers()["周杰"].email) == (
        "utf-8-sig", 1, "zj@example.cn")


def test_given_bytes_of_no_known_encoding_then_the_upload_is_refused_naming_the_file(app):
    from web.crm.imports import ImportFileError

    with pytest.raises(ImportFileError) as caught:
        import_jobs().store_upload("bad.csv", io.BytesIO(b"name\n\xff\xfe\x80abc\n"))

    assert caught.value.field == "file" and "GB18030" in caught.value.message


def xlsx_bytes(rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_given_an_xlsx_with_a_formula_and_numeric_phones_then_the_formula_row_is_refused(app):
    data = xlsx_bytes([["Name", "Mobile", "Company"], ["Li Lei", 13800138000, "ACME"],
                       ["Han Meimei", 13900139000, "=A2&B2"]])

    job = import_file(data, filename="people.xlsx")

    assert problems(job) == [(3, "Company", "error", "formula not allowed: =A2&B2")]
    assert customers()["Li Lei"].phones[0].e164 == "+8613800138000"
    assert job.format == "xlsx" and job.created == 1


@pytest.fixture
def existing(app):
    """A live customer with a phone and a card number."""
    return service().save({"name": "老客户", "phones": ["13800138000"], "card_number": "C-1",
                           "email": "old@example.cn", "tags": "老"}, by="li").id


DUPLICATES = [["姓名", "手机", "卡号", "邮箱", "标签"],
              ["新名字", "+86 138-0013-8000", "", "new@example.cn", "回访"],
              ["另一个", "13900139000", "c-1", "", ""],
              ["第三个", "13700137000", "", "", ""]]


def test_given_duplicates_under_skip_then_they_are_reported_skipped_and_nothing_changes(
        app, existing):
    job = import_file(csv_bytes(DUPLICATES), policy="skip")

    assert [(row, column, kind) for row, column, kind, _ in problems(job)] == [
        (2, "手机", "skipped"), (3, "卡号", "skipped")]
    assert f"customer {existing}" in problems(job)[0][3]
    assert (job.created, job.skipped, job.updated) == (1, 2, 0)
    assert db.session.get(Customer, existing).email == "old@example.cn"


def test_given_duplicates_under_update_then_the_customer_gets_the_values_with_history(
        app, existing):
    job = import_file(csv_bytes(DUPLICATES), policy="update")

    assert (job.created, job.updated, job.skipped, job.failed) == (1, 2, 0, 0)
    customer = db.session.get(Customer, existing)
    db.session.refresh(customer)
    assert (customer.name, customer.email, customer.card_number) == ("另一个", "new@example.cn",
                                                                    "C-1")
    assert sorted(p.e164 for p in customer.phones) == ["+8613800138000", "+8613900139000"]
    assert customer.tags == ["回访", "老"]
    changes = db.session.execute(sa.select(HistoryEntry.field, HistoryEntry.old_value,
                                           HistoryEntry.new_value).where(
        HistoryEntry.customer_id == existing, HistoryEntry.action == "updated")).all()
    assert ("email", "old@example.cn", "new@example.cn") in changes


def test_given_duplicates_under_create_then_new_customers_but_a_taken_card_is_an_error(
        app, existing):
    job = import_file(csv_bytes(DUPLICATES), policy="create")

    found = problems(job)
    assert [(row, column, kind) for row, column, kind, _ in found] == [(3, "卡号", "error")]
    assert f"C-1 is customer {existing}'s" in found[0][3]
    assert (job.created, job.failed) == (2, 1)
    assert {"老客户", "新名字", "第三个"} == set(customers())


def test_given_the_same_number_twice_in_a_file_under_update_then_one_customer_across_batches(
        app):
    rows = [["name", "phone", "company"], ["甲", "13800138000", ""], ["乙", "13900139000", ""],
            ["甲二", "138 0013 8000", "ACME"], ["乙二", "13900139000", "Initech"]]

    job = import_file(csv_bytes(rows), policy="update", batch_rows=3)

    assert (job.created, job.updated) == (2, 2)
    saved = customers()
    assert (saved["甲二"].company, saved["乙二"].company) == ("ACME", "Initech")
    assert len(saved) == 2


def test_given_a_batch_the_database_refuses_then_none_of_it_is_written_and_the_job_says_so(
        app):
    # a real refusal no check foresees: a trigger aborting the insert of one name
    db.session.execute(sa.text(
        "CREATE TRIGGER refuse_boom BEFORE INSERT ON crm_customers WHEN NEW.name = 'BOOM' "
        "BEGIN SELECT RAISE(ABORT, 'boom refused'); END"))
    db.session.commit()
    try:
        rows = [["name", "phone"]] + [[f"客户{n}", f"1380013{n:04d}"] for n in range(6)]
        rows[5][0] = "BOOM"  # the second batch of three: rows 5, 6, 7
        job = import_file(csv_bytes(rows), batch_rows=3)
    finally:
        db.session.execute(sa.text("DROP TRIGGER refuse_boom"))
        db.session.commit()

    assert set(customers()) == {"客户0", "客户1", "客户2"}
    assert (job.status, job.created, job.failed) == ("done", 3, 3)
    assert "rows 5-7 not imported" in job.message and "boom refused" in job.message
    assert [row for row, _, _, _ in problems(job)] == [5, 6, 7]


def test_given_a_worker_dying_mid_import_when_run_again_then_it_continues_after_the_batch(
        app, monkeypatch):
    rows = [["name", "phone"]] + [[f"客户{n}", f"1380013{n:04d}"] for n in range(5)]
    jobs = import_jobs()
    token = jobs.store_upload("a.csv", io.BytesIO(csv_bytes(rows)))
    job = jobs.start(token, "a.csv", ["name", "phones"], "skip", "importer", [])
    original = ImportRunner._row

    def dying(self, row):
        if row.number == 5:
            raise SystemExit("worker killed")
        return original(self, row)

    monkeypatch.setattr(ImportRunner, "_row", dying)
    with pytest.raises(SystemExit):
        run_job(job.id, batch_rows=2)
    db.session.rollback()
    monkeypatch.setattr(ImportRunner, "_row", original)
    interrupted = db.session.get(CustomerImport, job.id)
    assert (interrupted.status, interrupted.batches_done, interrupted.created) == (
        "running", 1, 2)

    finished = run_job(job.id, batch_rows=2)

    assert (finished.status, finished.created, finished.skipped) == ("done", 5, 0)
    assert len(customers()) == 5


@pytest.fixture
def web_app(module_app):
    """The module's app, emptied, without an app context (each request pushes its own)."""
    empty_tables(module_app)
    return module_app


def manager_client(app):
    client = app.test_client()
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    return client, username


def test_given_the_pages_then_upload_preview_mapping_template_start_and_errors_csv(web_app):
    app = web_app
    client, _ = manager_client(app)
    data = csv_bytes([["客户姓名", "联系电话", "备注"], ["王芳", "13800138000", "x"],
                      ["", "13900139000", "y"]], encoding="gbk")

    upload = post_form(client, "/crm/imports", {"file": (io.BytesIO(data), "名单.csv")},
                       content_type="multipart/form-data")
    assert upload.status_code == 302, upload.get_data(as_text=True)[-3000:]
    page = client.get(upload.headers["Location"]).get_data(as_text=True)
    assert "王芳" in page and "gb18030" in page
    assert '<option value="name" selected>' in page and '<option value="phones" selected>' in page
    mapping_url = upload.headers["Location"].split("?")[0]
    saved = post_form(client, mapping_url, {"column_0": "name", "column_1": "phones",
                                            "column_2": "", "action": "save_template",
                                            "template_name": "名单"})
    assert saved.status_code == 200 and "Template 名单 saved." in saved.get_data(as_text=True)

    started = post_form(client, mapping_url, {"column_0": "name", "column_1": "phones",
                                              "column_2": "", "policy": "skip",
                                              "action": "start", "name": "名单.csv"})
    assert started.status_code == 302
    job_page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "done" in job_page and "name: a name is required" in job_page
    errors = client.get(started.headers["Location"] + "/errors.csv")
    assert errors.headers["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(errors.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines == [["row", "column", "kind", "reason"],
                     ["3", "客户姓名", "error", "name: a name is required"]]
    with app.app_context():
        actions = db.session.execute(sa.select(AuditEntry.action)).scalars().all()
    assert actions[-1] == "crm.customers_imported"


def test_given_a_bad_mapping_then_the_page_names_the_problem(web_app):
    app = web_app
    client, _ = manager_client(app)
    upload = post_form(client, "/crm/imports",
                       {"file": (io.BytesIO(csv_bytes([["a", "b"], ["x", "y"]])), "f.csv")},
                       content_type="multipart/form-data")
    mapping_url = upload.headers["Location"].split("?")[0]

    answer = post_form(client, mapping_url, {"column_0": "phones", "column_1": "",
                                             "action": "start"})

    assert answer.status_code == 400
    assert "no column is mapped to name" in answer.get_data(as_text=True)


def test_given_an_agent_then_the_import_pages_are_refused(web_app):
    app = web_app
    client = app.test_client()
    _, username, password = create_user(app, role="agent")
    login(client, username, password)

    assert client.get("/crm/imports").status_code == 403


def test_given_the_api_then_202_with_the_job_and_its_status_and_errors(web_app):
    app = web_app
    _, username, _ = create_user(app, role="manager")
    headers = {"Authorization": f"Bearer {create_token(app, username)}"}
    data = csv_bytes([["name", "phone"], ["A", "13800138000"], ["B", "bad"]])

    answer = app.test_client().post("/api/crm/imports", headers=headers, data={
        "file": (io.BytesIO(data), "a.csv"), "mapping": json.dumps(["name", "phones"]),
        "policy": "update"}, content_type="multipart/form-data")

    assert answer.status_code == 202, answer.get_json()
    job_id = answer.get_json()["id"]
    status = app.test_client().get(f"/api/crm/imports/{job_id}", headers=headers).get_json()
    assert (status["status"], status["created"], status["failed"], status["policy"]) == (
        "done", 1, 1, "update")
    listed = app.test_client().get(f"/api/crm/imports/{job_id}/errors",
                                   headers=headers).get_json()
    assert listed["problems"][0]["row"] == 3 and listed["problems"][0]["column"] == "phone"
    refused = app.test_client().post("/api/crm/imports", headers=headers, data={
        "file": (io.BytesIO(data), "a.csv"), "mapping": json.dumps(["name"])},
        content_type="multipart/form-data")
    assert refused.status_code == 400 and refused.get_json()["field"] == "mapping"


@pytest.fixture
def pg_app(tmp_path, migrated_databases):
    """An app on the session's PostgreSQL database, emptied, in an app context."""
    app = make_app(tmp_path, database_url_for(migrated_databases, "postgresql"))
    empty_tables(app)
    with app.app_context():
        yield app
        db.session.remove()
    dispose(app)


def test_given_postgresql_then_bulk_rows_duplicates_and_custom_values_are_stored(pg_app):
    FieldDefinitions(db.session).define({"key": "vehicle", "label": "车型",
                                         "kind": "multi_choice", "choices": ["轿车", "SUV"]})
    old = service().save({"name": "老客户", "phones": ["13800138000"]}).id
    rows = [["姓名", "手机", "车型", "卡号"], ["甲", "13900139000", "轿车，SUV", "a-1"],
            ["乙", "+86 138 0013 8000", "SUV", ""], ["丙", "13700137000", "", "A-1"]]

    job = import_file(csv_bytes(rows), policy="update", batch_rows=2)

    assert (job.created, job.updated, job.failed) == (1, 2, 0)
    saved = customers()  # 丙's card is 甲's (the batch before): 甲 renamed 丙, phone added
    assert set(saved) == {"乙", "丙"} and saved["乙"].id == old
    assert saved["丙"].custom == {"vehicle": ["轿车", "SUV"]}
    assert sorted(db.session.execute(sa.select(CustomValue.text_value).where(
        CustomValue.customer_id == saved["丙"].id)).scalars()) == ["SUV", "轿车"]
    assert saved["乙"].custom == {"vehicle": ["SUV"]}
    assert sorted(p.e164 for p in saved["丙"].phones) == ["+8613700137000", "+8613900139000"]


def test_given_an_update_with_a_bad_second_number_then_the_error_names_that_column(
        app, existing):
    rows = [["姓名", "手机", "电话"], ["老客户", "13800138000", "12345"]]

    job = import_file(csv_bytes(rows), policy="update")

    found = problems(job)
    assert [(row, column) for row, column, _, _ in found] == [(2, "电话")]
    assert "'12345' is not a valid phone" in found[0][3]
    assert (job.updated, job.failed) == (0, 1)
    assert [p.e164 for p in db.session.get(Customer, existing).phones] == ["+8613800138000"]


def test_given_two_deliveries_of_one_job_running_at_once_then_its_rows_are_imported_once(
        app, monkeypatch):
    # the sweep hands a job over again while the first delivery is still at it: the second
    # run stops at its first write of the job row, and every customer exists once
    rows = [["name", "phone"]] + [[f"客户{n}", f"1390013{n:04d}"] for n in range(6)]
    jobs = import_jobs()
    token = jobs.store_upload("a.csv", io.BytesIO(csv_bytes(rows)))
    job_id = jobs.start(token, "a.csv", ["name", "phones"], "skip", "importer", []).id
    db.session.remove()
    original, runs = ImportRunner._batch, []

    def batch_with_a_rival(self, batch):
        if not runs:  # during the first batch of the first run, a second run does it all
            runs.append("rival")
            with app.app_context():  # its own session, as another worker process would have
                assert import_customers.run(job_id) == "done"
        return original(self, batch)

    monkeypatch.setattr(ImportRunner, "_batch", batch_with_a_rival)
    assert import_customers.run(job_id) is None  # the first run found the row moved on: stops
    db.session.remove()

    job = db.session.get(CustomerImport, job_id)
    assert (job.status, job.created, job.processed) == ("done", 6, 6)
    assert sorted(customers()) == sorted(f"客户{n}" for n in range(6))


def test_given_a_job_left_queued_and_old_files_when_swept_then_it_is_handed_over_and_they_go(
        app):
    jobs = import_jobs()
    for left in jobs.folder.glob("*"):  # the uploads of the module's earlier tests
        left.unlink()
    rows = csv_bytes([["name", "phone"], ["王芳", "13800138000"]])
    queued = jobs.start(jobs.store_upload("q.csv", io.BytesIO(rows)), "q.csv",
                        ["name", "phones"], "skip", "importer", [])  # its hand-off was lost
    finished = import_file(rows, "f.csv")
    unstarted = jobs.path_of(jobs.store_upload("u.csv", io.BytesIO(rows)))
    fresh = jobs.path_of(jobs.store_upload("n.csv", io.BytesIO(rows)))
    now = datetime.datetime.now(datetime.timezone.utc)
    day_old = (now - datetime.timedelta(days=1, seconds=1)).timestamp()
    os.utime(unstarted, (day_old, day_old))

    assert jobs.sweep(now) == ([], 1)  # queued a moment ago: not stale yet; the old upload goes
    assert not unstarted.exists() and fresh.exists()
    assert (var_dir() / finished.stored_path).exists()

    later = now + datetime.timedelta(days=8)
    stale, removed = jobs.sweep(later)
    assert stale == [queued.id]
    assert removed == 2  # the finished job's file (kept 7 days) and the upload left unstarted
    assert not (var_dir() / finished.stored_path).exists()
    assert (var_dir() / queued.stored_path).exists()  # still to be imported

    assert sweep_imports.run() == {"requeued": 0, "removed": 0}  # nothing stale right now
