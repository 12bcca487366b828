"""Customers: validation with every field's error, history of each change, delete and restore,
merging duplicates without losing anything; on SQLite and PostgreSQL."""

import pytest
import sqlalchemy as sa

from tests.web.support import app_on, create_user, database_url_for, dispose
from web.audit.models import AuditEntry
from web.crm.errors import Conflict, CrmError, InvalidCustomer
from web.crm.fields import FieldDefinitions
from web.crm.merge import merge_customers
from web.crm.models import CustomerNote, CustomValue, HistoryEntry
from web.crm.rules import CustomerRules
from web.crm.services import CustomerService
from web.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request, tmp_path, migrated_databases):
    """(CustomerService, FieldDefinitions, app) on each dialect's emptied database, in context."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    with app.app_context():
        yield (CustomerService(db.session, CustomerRules(db.session, "CN")),
               FieldDefinitions(db.session), app)
        db.session.remove()
    dispose(app)


def errors_of(call, *args, **kwargs):
    with pytest.raises(InvalidCustomer) as caught:
        call(*args, **kwargs)
    return dict(caught.value.errors)


def history(customer_id):
    return [(row.action, row.field, row.old_value, row.new_value) for row in db.session.execute(
        sa.select(HistoryEntry).where(HistoryEntry.customer_id == customer_id)
        .order_by(HistoryEntry.id)).scalars()]


def test_given_a_full_customer_then_saved_normalised_with_created_history(crm):
    service, _, _ = crm

    customer = service.save({
        "name": " 张  伟 ", "gender": "男", "birthday": "1980-02-29", "province": "北京",
        "city": "北京", "district": "朝阳区", "street": "建国路 88 号", "email": "zw@example.cn",
        "card_number": " vip-0001 ", "source": "114", "consent_mail": True,
        "consent_gifts": "yes", "level": "gold", "phones": ["+86 138 0013 8000",
                                                            {"number": "010-12345678",
                                                             "label": "office"}],
        "tags": "老客户, 投诉过，老客户"}, by="li")

    assert (customer.name, customer.gender, customer.card_number, customer.consent_gifts) == (
        "张 伟", "male", "VIP-0001", True)
    assert [(p.e164, p.digits, p.label) for p in customer.phones] == [
        ("+8613800138000", "13800138000", ""), ("+861012345678", "01012345678", "office")]
    assert customer.tags == ["投诉过", "老客户"]
    entries = history(customer.id)
    assert entries[0] == ("created", None, None, None)
    assert ("created", "card_number", None, "VIP-0001") in entries
    assert ("phone_added", "phones", None, "+861012345678") in entries
    assert ("created", "tags", None, "投诉过, 老客户") in entries


def test_given_bad_values_then_every_problem_is_named_and_nothing_is_saved(crm):
    service, _, _ = crm

    errors = errors_of(service.save, {
        "name": "", "gender": "x", "birthday": "2026-13-01", "email": "no-at", "source": "fax",
        "level": "platinum", "owner_id": 999, "phones": ["13800138000", "12345"],
        "nickname": "zz"})

    assert set(errors) == {"name", "gender", "birthday", "email", "source", "level", "owner_id",
                           "phones.1", "nickname"}
    assert "fax" in errors["source"] and "not a valid phone" in errors["phones.1"]
    assert db.session.execute(sa.text("select count(*) from crm_customers")).scalar() == 0


def test_given_a_card_number_taken_then_the_second_customer_is_refused_naming_it(crm):
    service, _, _ = crm
    first = service.save({"name": "A", "card_number": "C1"})

    errors = errors_of(service.save, {"name": "B", "card_number": "c1"})

    assert f"customer {first.id}" in errors["card_number"]
    service.save({"name": "C"})  # no card: many customers may have none
    service.save({"name": "D", "card_number": ""})


def test_given_custom_fields_then_required_choice_number_and_date_are_checked(crm):
    service, fields, _ = crm
    fields.define({"key": "vehicle", "label": "车型", "kind": "choice",
                   "choices": ["轿车", "SUV"], "required": True})
    fields.define({"key": "budget", "label": "Budget", "kind": "number"})
    fields.define({"key": "visit", "label": "Visit", "kind": "date"})
    fields.define({"key": "hobbies", "label": "Hobbies", "kind": "multi_choice",
                   "choices": ["golf", "tea"]})

    errors = errors_of(service.save, {"name": "A", "custom": {
        "budget": "lots", "visit": "tomorrow", "hobbies": ["golf", "chess"], "colour": "red"}})
    assert set(errors) == {"custom.vehicle", "custom.budget", "custom.visit", "custom.hobbies",
                           "custom.colour"}
    assert "required" in errors["custom.vehicle"] and "chess" in errors["custom.hobbies"]

    customer = service.save({"name": "A", "custom": {"vehicle": "SUV", "budget": "150000",
                                                     "visit": "2026-05-01",
                                                     "hobbies": "golf，tea"}})
    assert customer.custom == {"vehicle": "SUV", "budget": 150000, "visit": "2026-05-01",
                               "hobbies": ["golf", "tea"]}
    rows = db.session.execute(sa.select(CustomValue.text_value, CustomValue.number_value)
                              .where(CustomValue.customer_id == customer.id)).all()
    assert sorted(rows, key=str) == sorted([("SUV", None), (None, 150000.0), (None, None),
                                            ("golf", None), ("tea", None)], key=str)


def test_given_a_choice_field_without_choices_then_its_definition_is_refused(crm):
    _, fields, _ = crm

    with pytest.raises(CrmError) as caught:
        fields.define({"key": "vehicle", "label": "Vehicle", "kind": "choice"})
    assert caught.value.field == "choices"
    with pytest.raises(CrmError) as caught:
        fields.define({"key": "Bad Key", "label": "x", "kind": "text"})
    assert caught.value.field == "key"


def test_given_an_edit_then_each_changed_field_is_in_history_with_old_and_new(crm):
    service, fields, _ = crm
    fields.define({"key": "budget", "label": "Budget", "kind": "number"})
    customer = service.save({"name": "王芳", "level": "normal", "phones": ["13800138000"]},
                            by="li")
    before = len(history(customer.id))

    service.save({"level": "vip", "phones": ["13900139000"], "custom": {"budget": 5},
                  "name": "王芳"}, customer.id, by="zhao")

    changes = history(customer.id)[before:]
    assert changes == [("updated", "level", "normal", "vip"),
                       ("phone_removed", "phones", "+8613800138000", None),
                       ("phone_added", "phones", None, "+8613900139000"),
                       ("updated", "custom.budget", None, "5")]
    assert {row.username for row in service.changes(customer.id)} == {"li", "zhao"}


def test_given_a_deleted_customer_then_it_cannot_change_until_restored(crm):
    service, _, _ = crm
    customer = service.save({"name": "A"})

    service.delete(customer.id, by="boss")
    with pytest.raises(Conflict):
        service.save({"level": "vip"}, customer.id)
    with pytest.raises(Conflict):
        service.delete(customer.id, by="boss")
    service.restore(customer.id, by="boss")

    assert service.get(customer.id).deleted_at is None
    assert [entry[0] for entry in history(customer.id)][-2:] == ["deleted", "restored"]
    actions = db.session.execute(sa.select(AuditEntry.action).order_by(AuditEntry.id)).scalars()
    assert list(actions) == ["crm.customer_deleted", "crm.customer_restored"]


def test_given_a_duplicate_when_merged_then_chosen_fields_phones_notes_history_move(crm):
    service, fields, app = crm
    owner_id, _, _ = create_user(app)
    fields.define({"key": "budget", "label": "Budget", "kind": "number"})
    kept = service.save({"name": "李娜", "phones": ["13800138000"], "tags": ["vip"],
                         "email": "", "level": "normal", "custom": {"budget": 1}}, by="li")
    dup = service.save({"name": "李 娜", "phones": ["+86 138 0013 8000", "010-12345678"],
                        "tags": ["投诉"], "email": "ln@example.cn", "card_number": "C9",
                        "level": "gold", "owner_id": owner_id, "custom": {"budget": 9}},
                       by="zhao")
    service.add_note(dup.id, "客户要求回电", by="zhao")
    dup_history = len(history(dup.id))

    merged = merge_customers(service, kept.id, dup.id, {"level": "source",
                                                        "custom.budget": "source"}, by="boss")

    assert (merged.name, merged.level, merged.email, merged.card_number, merged.owner_id) == (
        "李娜", "gold", "ln@example.cn", "C9", owner_id)  # empty ones take the duplicate's
    assert merged.custom == {"budget": 9}
    assert sorted(p.e164 for p in merged.phones) == ["+861012345678", "+8613800138000"]
    assert merged.tags == ["vip", "投诉"]
    notes = db.session.execute(sa.select(CustomerNote.customer_id)).scalars().all()
    assert notes == [kept.id]
    source = service.get(dup.id)
    assert (source.merged_into_id, source.deleted, source.card_number, source.phones) == (
        kept.id, True, None, [])
    assert history(dup.id) == [("merged_into", "merged_into_id", None, str(kept.id))]
    assert len(history(kept.id)) > dup_history
    assert ("merged", "merged_from", None, f"#{dup.id} 李 娜") in history(kept.id)
    with pytest.raises(Conflict):
        service.restore(dup.id, by="boss")  # merged stays merged


def test_given_a_merge_into_itself_or_a_bad_choice_then_refused_naming_the_field(crm):
    service, _, _ = crm
    a, b = service.save({"name": "A"}), service.save({"name": "B"})

    with pytest.raises(CrmError) as caught:
        merge_customers(service, a.id, a.id)
    assert caught.value.field == "source_id"
    with pytest.raises(CrmError) as caught:
        merge_customers(service, a.id, b.id, {"name": "both"})
    assert caught.value.field == "choose.name"
    assert service.get(b.id).deleted is False
