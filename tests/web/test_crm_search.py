"""The customer search on tricky input, its filters, and the contact timeline and screen-pop
lookup built from stored calls and callbacks; on SQLite and PostgreSQL."""

import datetime

import pytest

from fs_cc.callbacks import CallbackState
from tests.web.support import (BASE_TIME, app_on, create_record, create_user,
                               database_url_for, dispose)
from web.callbacks.models import CallbackRequest
from web.crm.errors import CrmError
from web.crm.fields import FieldDefinitions
from web.crm.history import customer_for_number, timeline
from web.crm.rules import CustomerRules
from web.crm.search import CustomerQuery, CustomerSearch, custom_filter
from web.crm.services import CustomerService
from web.extensions import db
from web.recordings.models import Recording, RecordingStatus


@pytest.fixture(params=["sqlite", "postgresql"])
def crm(request, tmp_path, migrated_databases):
    """(service, search, fields, app) over four customers, on each dialect, in context."""
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    with app.app_context():
        service = CustomerService(db.session, CustomerRules(db.session, "CN"))
        fields = FieldDefinitions(db.session)
        fields.define({"key": "vehicle", "label": "车型", "kind": "choice",
                       "choices": ["轿车", "SUV"]})
        fields.define({"key": "budget", "label": "预算", "kind": "number"})
        people = {
            "wxy": service.save({"name": "王秀英", "phones": ["13800138000", "010-12345678"],
                                 "card_number": "VIP0001", "source": "tv", "tags": ["老客户"],
                                 "level": "gold", "custom": {"vehicle": "SUV",
                                                             "budget": 200000}}),
            "wf": service.save({"name": "王芳", "phones": ["+86 139 1234 5678"],
                                "source": "web", "custom": {"vehicle": "轿车",
                                                            "budget": 80000}}),
            "oyx": service.save({"name": "欧阳秀", "phones": ["021-55550000"],
                                 "source": "tv", "tags": ["投诉"]}),
            "zw": service.save({"name": "Zhang Wei", "phones": ["+1 650 253 0000"],
                                "source": "referral"}),
        }
        yield service, CustomerSearch(db.session, "CN"), people, app
        db.session.remove()
    dispose(app)


def found(search, text="", **filters):
    page = search.search(CustomerQuery(text=text, **filters))
    return sorted(row.name for row in page.rows)


@pytest.mark.parametrize("text, names", [
    ("王秀英", ["王秀英"]), ("秀英", ["王秀英"]), ("王", ["王秀英", "王芳"]),
    ("王 秀英", ["王秀英"]), ("欧阳", ["欧阳秀"]), ("秀", ["欧阳秀", "王秀英"]), ("英", ["王秀英"]), ("阳秀", ["欧阳秀"]),
    ("zhang", ["Zhang Wei"]), ("WEI", ["Zhang Wei"]), ("李", []),
])
def test_given_chinese_and_latin_name_fragments_then_the_right_customers(crm, text, names):
    _, search, _, _ = crm

    assert found(search, text) == names


@pytest.mark.parametrize("text, names", [
    ("0013", ["王秀英"]), ("1380013", ["王秀英"]), ("8000", ["王秀英"]),
    ("13800138000", ["王秀英"]), ("+86 138 0013 8000", ["王秀英"]),
    ("008613800138000", ["王秀英"]), ("138-0013-8000", ["王秀英"]),
    ("010-12345678", ["王秀英"]), ("+86 10 1234 5678", ["王秀英"]), ("010-1234", ["王秀英"]),
    ("1234", ["王秀英", "王芳"]), ("5555", ["欧阳秀"]), ("021", ["欧阳秀"]),
    ("+1 650 253", ["Zhang Wei"]), ("139 1234 5678", ["王芳"]), ("99999", []),
])
def test_given_numbers_in_any_format_or_part_then_the_right_customers(crm, text, names):
    _, search, _, _ = crm

    assert found(search, text) == names


@pytest.mark.parametrize("text, names", [("1234", ["王秀英", "王芳"]), ("0013", ["王秀英"]),
                                         ("13800138000", ["王秀英"]), ("555", ["欧阳秀"]),
                                         ("王", ["王秀英", "王芳"]), ("秀英", ["王秀英"])])
def test_given_a_common_fragment_then_the_customer_by_customer_test_finds_the_same(
        crm, monkeypatch, text, names):
    _, search, _, _ = crm
    monkeypatch.setattr("web.crm.search.BROAD", 1)  # every fragment counts as common

    page = search.search(CustomerQuery(text=text))

    assert sorted(row.name for row in page.rows) == names
    assert (page.total, page.exact) == (len(names), True)


def test_given_a_card_number_or_a_tag_in_the_box_then_found(crm):
    _, search, _, _ = crm

    assert found(search, "vip0001") == ["王秀英"]
    assert found(search, "投诉") == ["欧阳秀"]


def test_given_filters_then_they_narrow_the_box(crm):
    service, search, people, app = crm
    owner_id, _, _ = create_user(app)
    service.save({"owner_id": owner_id}, people["wf"].id)
    definitions = {row.key: row for row in FieldDefinitions(db.session).active()}

    assert found(search, source="tv") == ["欧阳秀", "王秀英"]
    assert found(search, "秀", source="tv", tag="投诉") == ["欧阳秀"]
    assert found(search, level="gold") == ["王秀英"]
    assert found(search, owner_id=owner_id) == ["王芳"]
    assert found(search, "王", custom=[custom_filter(definitions["vehicle"], "轿车", "cf")]) == [
        "王芳"]
    assert found(search, custom=[custom_filter(definitions["budget"], "100000..", "cf")]) == [
        "王秀英"]
    assert found(search, custom=[custom_filter(definitions["budget"], "..100000", "cf")]) == [
        "王芳"]
    tomorrow = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert found(search, created_from=tomorrow) == []
    assert len(found(search, created_to=tomorrow)) == 4
    with pytest.raises(CrmError) as caught:
        custom_filter(definitions["vehicle"], "bus", "cf_vehicle")
    assert caught.value.field == "cf_vehicle"


def test_given_deleted_customers_then_only_the_bin_shows_them(crm):
    service, search, people, _ = crm
    service.delete(people["wf"].id, by="boss")

    assert found(search, "王") == ["王秀英"]
    assert found(search, "王", deleted="only") == ["王芳"]


def test_given_pages_and_orders_then_each_page_holds_its_slice(crm):
    _, search, _, _ = crm

    first = search.search(CustomerQuery(sort="name", limit=3))
    second = search.search(CustomerQuery(sort="name", limit=3, offset=3))

    assert (first.total, first.exact) == (4, True)
    assert [row.name for row in first.rows + second.rows] == sorted(
        ["王秀英", "王芳", "欧阳秀", "Zhang Wei"])
    with pytest.raises(CrmError) as caught:
        search.search(CustomerQuery(sort="phone"))
    assert caught.value.field == "sort"


def add_history(app, customer_number):
    """Two calls (one from the landline with a recording) and a callback of a customer."""
    early = create_record(app, caller_number=customer_number, queue="sales", agent="1000",
                          started=BASE_TIME)
    late = create_record(app, caller_number="01012345678", queue="support", agent="1001",
                         started=BASE_TIME + datetime.timedelta(hours=2))
    create_record(app, caller_number="13900000000")  # somebody else
    db.session.add(Recording(path="/rec/late.wav", call_uuid=late["uuid"], engine="e",
                             status=RecordingStatus.STORED, started_at=BASE_TIME))
    db.session.add(CallbackRequest(
        id="cb-1", queue="sales", number="008613800138000", caller_number="", call_uuid="x",
        since=BASE_TIME, state=CallbackState.PENDING, attempts=0, engine="e",
        requested_at=BASE_TIME + datetime.timedelta(hours=1)))
    db.session.commit()
    return early, late


def test_given_calls_callbacks_and_notes_then_one_timeline_newest_first(crm):
    service, _, people, app = crm
    early, late = add_history(app, "+8613800138000")
    service.add_note(people["wxy"].id, "想换 SUV", by="li")

    items = timeline(db.session, people["wxy"], "CN")

    kinds = [item.kind for item in items]
    assert kinds[0] == "note" and set(kinds) == {"note", "change", "call", "callback"}
    calls = [item for item in items if item.kind == "call"]
    assert [item.detail["uuid"] for item in calls] == [late["uuid"], early["uuid"]]
    assert calls[0].detail["queue"] == "support" and calls[0].detail["agent"] == "1001"
    (recording,) = calls[0].detail["recordings"]
    assert recording == {"id": recording["id"], "path": "/rec/late.wav", "status": "stored",
                         "duration_ms": None, "url": None}  # no URL outside a request
    ats = [item.at for item in items]
    assert ats == sorted(ats, reverse=True)


def test_given_a_known_caller_then_the_lookup_gives_the_customer_and_last_contacts(crm):
    _, _, people, app = crm
    add_history(app, "13800138000")

    result = customer_for_number(db.session, "0086 138 0013 8000", "CN")

    assert result.customer.id == people["wxy"].id and result.number == "+8613800138000"
    assert 0 < len(result.contacts) <= 5
    assert result.others == []
    assert customer_for_number(db.session, "01012345678", "CN").customer.id == people["wxy"].id


@pytest.mark.parametrize("number", ["13700000000", "not a number", "", "0013"])
def test_given_an_unknown_caller_then_the_lookup_gives_none(crm, number):
    assert customer_for_number(db.session, number, "CN") is None


def test_given_a_deleted_customer_then_the_lookup_does_not_pop_them(crm):
    service, _, people, _ = crm
    service.delete(people["wf"].id, by="boss")

    assert customer_for_number(db.session, "13912345678", "CN") is None


def test_given_a_number_fragment_then_its_pages_are_sorted_and_sliced(crm):
    service, search, people, _ = crm
    service.save({"name": "王二", "phones": ["13712340000"]})
    service.delete(people["wf"].id, by="boss")

    pages = [search.search(CustomerQuery(text="1234", sort="-name", limit=1, offset=offset))
             for offset in (0, 1, 2)]

    assert [[row.name for row in page.rows] for page in pages] == [["王秀英"], ["王二"], []]
    assert {(page.total, page.exact) for page in pages} == {(2, True)}
