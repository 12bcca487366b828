"""The CRM pages: the list with its search and filters, the forms with each field's error and
CSRF, the record with its timeline, merging, the bin, the custom field admin, by role."""

import re

import pytest

from tests.web.support import create_record, create_user, login, post_form
from web.audit.services import AuditLog
from web.crm.models import Customer
from web.extensions import db
from web.users.roles import RoleService


@pytest.fixture
def manager(app, client):
    """``client`` logged in as a manager (crm.manage)."""
    _, username, password = create_user(app, role="manager")
    login(client, username, password)
    return client


def new_customer(client, **form):
    form.setdefault("name", "王秀英")
    response = post_form(client, "/crm/customers/new", form)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_given_the_form_then_a_customer_is_created_and_shown_with_phones(app, manager):
    customer_id = new_customer(manager, phones="+86 138 0013 8000\n010-12345678",
                               source="tv", tags="老客户, vip", consent_gifts="on")

    page = manager.get(f"/crm/customers/{customer_id}").get_data(as_text=True)

    assert "王秀英" in page and "01012345678" in page and "+8613800138000" in page
    assert "vip, 老客户" in page and "gifts: yes" in page
    with app.app_context():
        assert db.session.get(Customer, customer_id).source == "tv"


def test_given_bad_values_then_the_form_comes_back_with_each_fields_error(manager):
    response = post_form(manager, "/crm/customers/new", {
        "name": "", "phones": "13800138000\n123", "email": "nope", "source": "fax"})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    for field in ("name", "phones.1", "email", "source"):
        assert f'data-field="{field}"' in page, field
    assert "13800138000\n123" in page  # what was typed is kept


def test_given_no_csrf_token_then_the_form_is_refused(manager):
    response = manager.post("/crm/customers/new", data={"name": "A"})

    assert response.status_code == 400


def listed(client, url):
    """The names in the list page's rows."""
    page = client.get(url).get_data(as_text=True)
    return re.findall(r'<a href="/crm/customers/\d+">([^<]+)</a>', page)


def test_given_the_list_then_the_box_and_filters_find_customers(manager):
    new_customer(manager, name="王秀英", phones="13800138000", source="tv")
    new_customer(manager, name="李娜", phones="021-55550000", source="web")

    by_phone = listed(manager, "/crm/customers?q=0013")
    by_name = listed(manager, "/crm/customers?q=李")
    by_source = listed(manager, "/crm/customers?source=web")
    bad = manager.get("/crm/customers?created_from=soon")
    unknown = manager.get("/crm/customers?colour=red")

    assert (by_phone, by_name, by_source) == (["王秀英"], ["李娜"], ["李娜"])
    assert bad.status_code == 400 and 'data-field="created_from"' in bad.get_data(as_text=True)
    assert unknown.status_code == 400


def test_given_a_customer_with_calls_and_a_note_then_the_timeline_shows_them(app, manager):
    customer_id = new_customer(manager, phones="13800138000")
    create_record(app, caller_number="13800138000", queue="support")
    post_form(manager, f"/crm/customers/{customer_id}/notes", {"text": "想换 SUV"})

    page = manager.get(f"/crm/customers/{customer_id}").get_data(as_text=True)

    assert "想换 SUV" in page and "call to support" in page and "timeline-call" in page


def test_given_an_edit_then_saved_and_the_change_is_in_the_timeline(manager):
    customer_id = new_customer(manager, level="normal")

    response = post_form(manager, f"/crm/customers/{customer_id}/edit",
                         {"name": "王秀英", "level": "vip"})
    page = manager.get(f"/crm/customers/{customer_id}").get_data(as_text=True)

    assert response.status_code == 302
    assert "level: normal → vip" in page


def test_given_a_duplicate_then_merged_field_by_field_and_deleted_then_restored(app, manager):
    kept = new_customer(manager, name="李娜", phones="13800138000")
    dup = new_customer(manager, name="李 娜", phones="010-12345678", email="ln@example.cn")

    plan = manager.get(f"/crm/customers/{kept}/merge?source_id={dup}").get_data(as_text=True)
    merged = post_form(manager, f"/crm/customers/{kept}/merge",
                       {"source_id": str(dup), "choose-name": "target",
                        "choose-email": "source"})
    post_form(manager, f"/crm/customers/{kept}/delete")
    in_bin = listed(manager, "/crm/customers?deleted=only")
    post_form(manager, f"/crm/customers/{kept}/restore")

    assert 'name="choose-email"' in plan and "ln@example.cn" in plan
    assert merged.status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, kept)
        assert (customer.email, customer.deleted) == ("ln@example.cn", False)
        assert sorted(p.digits for p in customer.phones) == ["01012345678", "13800138000"]
        assert db.session.get(Customer, dup).merged_into_id == kept
    assert sorted(in_bin) == ["李 娜", "李娜"]  # the merged duplicate and the deleted one


def test_given_the_custom_field_page_then_fields_are_defined_and_shown_in_forms(manager):
    defined = post_form(manager, "/crm/fields", {"key": "vehicle", "label": "车型",
                                                "kind": "choice", "choices": "轿车, SUV",
                                                "required": "on", "active": "on"})
    refused = post_form(manager, "/crm/fields", {"key": "bad key", "label": "x",
                                                "kind": "text", "active": "on"})
    form = manager.get("/crm/customers/new").get_data(as_text=True)
    missing = post_form(manager, "/crm/customers/new", {"name": "A"})

    assert defined.status_code == 302
    assert refused.status_code == 400 and 'data-field="key"' in refused.get_data(as_text=True)
    assert 'name="cf_vehicle"' in form and "SUV" in form
    assert 'data-field="custom.vehicle"' in missing.get_data(as_text=True)
    assert new_customer(manager, cf_vehicle="SUV") > 0
    assert listed(manager, "/crm/customers?cf_vehicle=SUV") == ["王秀英"]
    assert listed(manager, "/crm/customers?cf_vehicle=轿车") == []


@pytest.mark.parametrize("role, fields_page, new_page, listing", [
    ("agent", 403, 200, 200), ("supervisor", 403, 200, 200), ("manager", 200, 200, 200)])
def test_given_a_role_then_the_pages_it_may_open(app, client, role, fields_page, new_page,
                                                 listing):
    _, username, password = create_user(app, role=role)
    login(client, username, password)

    assert client.get("/crm/fields").status_code == fields_page
    assert client.get("/crm/customers/new").status_code == new_page
    assert client.get("/crm/customers").status_code == listing
    assert re.search(r'href="/crm/customers"', client.get("/crm/customers").get_data(
        as_text=True))


def test_given_a_custom_role_without_crm_then_the_list_is_forbidden(app, client):
    with app.app_context():
        RoleService(db.session, AuditLog(db.session, actor="test")).create(
            {"name": "listener", "permissions": ["recordings.listen"]})
    _, username, password = create_user(app, role="listener")
    login(client, username, password)

    assert client.get("/crm/customers").status_code == 403
    assert client.get("/api/crm/lookup?number=13800138000").status_code == 403
