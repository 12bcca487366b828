"""Customers' phone numbers masked for a role without crm.phones (pages, API, lookup, history,
export), shown in full to a supervisor, and to an agent while their agent rings or talks with
that customer, as the engine's control server says (masked when it cannot be asked)."""

import pytest

from fs_cc.control import ControlClient
from tests.web.support import (CONTROL_SECRET, closed_port, create_record, create_token,
                               create_user, login, post_form)
from tests.web.test_calls_in_progress import engine_call
from web.calls.live import LiveCallService
from web.crm.masking import in_call_with, mask_number

MOBILE = "+8613800138000"
LANDLINE = "+861012345678"
MASKED_MOBILE = "138****8000"


@pytest.mark.parametrize("number, masked", [
    ("+8613800138000", "+86 138****8000"), ("13800138000", "138****8000"),
    ("01012345678", "*******5678"), ("+861012345678", "+86 ******5678"),
    ("+33142685300", "+33 *****5300"), ("123", "***")])
def test_given_a_number_then_the_mask_keeps_enough_to_recognise_it(number, masked):
    assert mask_number(number) == masked


def bearer(app, role, extension=None):
    _, username, _ = create_user(app, role=role, extension=extension)
    return {"Authorization": f"Bearer {create_token(app, username)}"}


@pytest.fixture
def customers(app, client):
    """Two customers made by an admin: 王秀英 (a mobile and a landline, one call) and 李娜."""
    admin = bearer(app, "admin")
    made = []
    for name, phones in (("王秀英", ["13800138000", "010-12345678"]), ("李娜", ["13900001111"])):
        response = client.post("/api/crm/customers", json={"name": name, "phones": phones},
                               headers=admin)
        assert response.status_code == 201, response.get_json()
        made.append(response.get_json()["id"])
    create_record(app, caller_number="8613800138000")
    return made


def test_given_an_agent_then_numbers_are_masked_in_the_api_and_lookup(app, client, customers):
    agent = bearer(app, "agent", extension="1001")
    first = customers[0]

    one = client.get(f"/api/crm/customers/{first}", headers=agent).get_json()
    found = client.get("/api/crm/customers", query_string={"q": "13800138000"},
                       headers=agent).get_json()
    phones = client.get(f"/api/crm/customers/{first}/phones", headers=agent).get_json()
    lookup = client.get("/api/crm/lookup?number=13800138000", headers=agent).get_json()
    history = client.get(f"/api/crm/customers/{first}/history", headers=agent).get_json()

    assert [(p["e164"], p["digits"], p["masked"]) for p in one["phones"]] == [
        ("+86 138****8000", MASKED_MOBILE, True), ("+86 ******5678", "*******5678", True)]
    assert [c["id"] for c in found["customers"]] == [first]
    assert found["customers"][0]["phones"] == one["phones"] == phones["phones"]
    assert lookup["number"] == "+86 138****8000" and lookup["customer"]["phones"] == phones[
        "phones"]
    call = next(item for item in history["items"] if item["kind"] == "call")
    assert call["detail"]["caller_number"] == "*********8000"
    changes = [item for item in history["items"] if item["detail"].get("field") == "phones"]
    assert changes and all("13800138000" not in str(item) and MOBILE not in str(item)
                           for item in history["items"] + lookup["contacts"])


def test_given_a_supervisor_then_numbers_are_shown_in_full(app, client, customers):
    supervisor = bearer(app, "supervisor")

    one = client.get(f"/api/crm/customers/{customers[0]}", headers=supervisor).get_json()
    history = client.get(f"/api/crm/customers/{customers[0]}/history",
                         headers=supervisor).get_json()

    assert [(p["e164"], p["masked"]) for p in one["phones"]] == [(MOBILE, False),
                                                                 (LANDLINE, False)]
    assert "8613800138000" in [item["detail"].get("caller_number")
                               for item in history["items"]]


def test_given_an_agent_then_the_pages_mask_and_a_supervisor_sees_the_list_in_full(
        app, customers):
    pages = {}
    for role in ("agent", "supervisor"):
        client = app.test_client()
        _, username, password = create_user(app, role=role)
        login(client, username, password)
        pages[role] = (client.get("/crm/customers").get_data(as_text=True),
                       client.get(f"/crm/customers/{customers[0]}").get_data(as_text=True))

    listing, detail = pages["agent"]
    assert MASKED_MOBILE in listing and "13800138000" not in listing
    assert "+86 138****8000" in detail and "13800138000" not in detail
    assert MOBILE not in detail
    assert "13800138000" in pages["supervisor"][0] and MOBILE in pages["supervisor"][1]


def test_given_an_agent_editing_then_masked_lines_keep_their_numbers(app, client, customers):
    _, username, password = create_user(app, role="agent")
    login(client, username, password)
    first = customers[0]

    form = client.get(f"/crm/customers/{first}/edit").get_data(as_text=True)
    saved = post_form(client, f"/crm/customers/{first}/edit", {
        "name": "王秀英", "phones": "+86 138****8000\n13700001234"})
    admin = bearer(app, "admin")
    after = client.get(f"/api/crm/customers/{first}", headers=admin).get_json()

    assert "+86 138****8000" in form and MOBILE not in form
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert [p["e164"] for p in after["phones"]] == [MOBILE, "+8613700001234"]


def live_engine(engine, monkeypatch, calls):
    backend, port = engine
    monkeypatch.setattr(backend, "calls", lambda: calls)
    return LiveCallService(ControlClient(f"http://127.0.0.1:{port}", CONTROL_SECRET,
                                         timeout=2.0))


def test_given_the_engines_calls_then_in_call_with_matches_the_agent_and_any_number_form(
        engine, monkeypatch):
    live = live_engine(engine, monkeypatch, [
        engine_call("talking", "8613800138000", "2026-03-02T08:00:00+00:00", agent="1001"),
        engine_call("ringing", "013900001111", "2026-03-02T08:01:00+00:00", agent="1002",
                    agent_phase="ringing"),
        engine_call("in-ivr", "13700001234", "2026-03-02T08:02:00+00:00")]).in_progress()

    assert in_call_with(live, "1001", [MOBILE, LANDLINE], "CN")
    assert not in_call_with(live, "1000", [MOBILE], "CN")  # another agent's call
    assert in_call_with(live, "1002", ["+8613900001111"], "CN")  # ringing counts
    assert not in_call_with(live, "1001", ["+8613900001111"], "CN")
    assert not in_call_with(live, None, [MOBILE], "CN")  # a user without an agent
    assert not in_call_with(live, "1000", ["+8613700001234"], "CN")  # still in the IVR


def test_given_an_agent_in_a_call_with_the_customer_then_that_customer_is_shown_in_full(
        engine, monkeypatch, app, client, customers):
    monkeypatch.setattr(engine[0], "calls", lambda: [engine_call(
        "talking", "+86 138 0013 8000", "2026-03-02T08:00:00+00:00", agent="1001")])
    agent = bearer(app, "agent", extension="1001")
    other_agent = bearer(app, "agent", extension="1000")

    mine = client.get(f"/api/crm/customers/{customers[0]}", headers=agent).get_json()
    other_customer = client.get(f"/api/crm/customers/{customers[1]}", headers=agent).get_json()
    not_mine = client.get(f"/api/crm/customers/{customers[0]}", headers=other_agent).get_json()
    lookup = client.get("/api/crm/lookup?number=13800138000", headers=agent).get_json()

    assert [p["e164"] for p in mine["phones"]] == [MOBILE, LANDLINE]
    assert lookup["number"] == MOBILE
    assert other_customer["phones"][0]["masked"] is True
    assert not_mine["phones"][0]["masked"] is True


def test_given_no_engine_then_numbers_stay_masked(tmp_path, migrated_databases):
    from tests.web.support import app_on, database_url_for, dispose

    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=closed_port())
    try:
        client = app.test_client()
        admin, agent = bearer(app, "admin"), bearer(app, "agent", extension="1001")
        made = client.post("/api/crm/customers", json={"name": "王秀英",
                                                       "phones": ["13800138000"]},
                           headers=admin).get_json()
        shown = client.get(f"/api/crm/customers/{made['id']}", headers=agent)
    finally:
        dispose(app)

    assert shown.status_code == 200
    assert shown.get_json()["phones"][0]["digits"] == MASKED_MOBILE


def test_given_a_note_with_numbers_then_an_agent_sees_them_masked_and_a_supervisor_in_full(
        app, client, customers):
    admin = bearer(app, "admin")
    text = "新号码 13912345678，座机 010-87654321；订单 20261206 明天回电"
    response = client.post(f"/api/crm/customers/{customers[0]}/notes", json={"text": text},
                           headers=admin)
    assert response.status_code == 201, response.get_json()
    agent, supervisor = bearer(app, "agent", extension="1002"), bearer(app, "supervisor")

    seen = {}
    for who, headers in (("agent", agent), ("supervisor", supervisor)):
        notes = client.get(f"/api/crm/customers/{customers[0]}/notes", headers=headers).get_json()
        history = client.get(f"/api/crm/customers/{customers[0]}/history",
                             headers=headers).get_json()
        note = next(item for item in history["items"] if item["kind"] == "note")
        seen[who] = (notes["notes"][0]["text"], note["detail"]["text"])

    assert seen["agent"] == ("新号码 139****5678，座机 *******4321；订单 20261206 明天回电",) * 2
    assert seen["supervisor"] == (text, text)


def test_given_a_text_then_only_the_valid_numbers_in_it_are_masked():
    from web.crm.masking import mask_text

    assert mask_text("call +44 20 7946 0958 or 13800138000; ref 12345, 2026-12-06", "CN") == (
        "call +44 ******0958 or 138****8000; ref 12345, 2026-12-06")
