"""The CRM's JSON API: customers, phones, notes, search, history and lookup; errors naming the
field; permissions by role; every route in the OpenAPI document, answers fitting it."""

import pytest

from tests.web.support import create_record, create_token, create_user
from tests.web.test_openapi import fits


@pytest.fixture
def tokens(app):
    """{role: bearer headers} for an admin, a manager, an agent and a supervisor."""
    headers = {}
    for role in ("admin", "manager", "agent", "supervisor"):
        _, username, _ = create_user(app, role=role)
        headers[role] = {"Authorization": f"Bearer {create_token(app, username)}"}
    return headers


def create(client, headers, **body):
    body.setdefault("name", "王秀英")
    response = client.post("/api/crm/customers", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_given_a_customer_posted_then_it_reads_back_edits_and_searches(client, tokens):
    admin = tokens["admin"]
    made = create(client, admin, phones=["+86 138 0013 8000", {"number": "010-12345678",
                                                               "label": "办公室"}],
                  card_number="vip1", source="tv", tags=["老客户"], consent_mail=True)

    edited = client.patch(f"/api/crm/customers/{made['id']}", json={"level": "gold"},
                          headers=admin)
    found = client.get("/api/crm/customers", query_string={"q": "+86 10 1234"}, headers=admin)

    assert made["card_number"] == "VIP1" and made["consent_mail"] is True
    assert [p["e164"] for p in made["phones"]] == ["+8613800138000", "+861012345678"]
    assert edited.status_code == 200 and edited.get_json()["level"] == "gold"
    assert [c["id"] for c in found.get_json()["customers"]] == [made["id"]]
    assert found.get_json()["total"] == 1 and found.get_json()["total_exact"] is True


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "A", "phones": ["13800138000", "138"]}, "phones.1"),
    ({"name": "A", "source": "fax"}, "source"),
    ({"name": "A", "birthday": "31/12/1980"}, "birthday"),
    ({"name": "A", "email": "nope"}, "email"),
    ({"name": "A", "custom": {"vehicle": "bus"}}, "custom.vehicle"),
    ({"name": "A", "consent_mail": "maybe"}, "consent_mail"),
    ({"name": "A", "nickname": "x"}, "nickname"),
    ({"gender": "female"}, "name"),
])
def test_given_a_bad_customer_body_then_400_naming_the_field(client, tokens, body, field):
    admin = tokens["admin"]
    client.post("/api/crm/fields", json={"key": "vehicle", "label": "车型", "kind": "choice",
                                         "choices": ["SUV"]}, headers=admin)

    response = client.post("/api/crm/customers", json=body, headers=admin)

    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert response.get_json()["error"].startswith(field)


def test_given_several_bad_fields_then_every_one_is_listed(client, tokens):
    response = client.post("/api/crm/customers", json={"name": "A", "source": "fax",
                                                       "level": "x", "phones": ["1"]},
                           headers=tokens["admin"])

    assert {item["field"] for item in response.get_json()["errors"]} == {
        "source", "level", "phones.0"}


def test_given_a_duplicate_card_then_the_second_is_refused_naming_card_number(client, tokens):
    create(client, tokens["admin"], card_number="C1")

    response = client.post("/api/crm/customers", json={"name": "B", "card_number": "c1"},
                           headers=tokens["admin"])

    assert (response.status_code, response.get_json()["field"]) == (400, "card_number")


def test_given_phones_and_notes_then_added_listed_and_removed(client, tokens):
    headers = tokens["supervisor"]  # crm.edit, and crm.phones: the numbers in full
    made = create(client, headers)
    base = f"/api/crm/customers/{made['id']}"

    phone = client.post(f"{base}/phones", json={"number": "0086 139 1234 5678"},
                        headers=headers)
    again = client.post(f"{base}/phones", json={"number": "13912345678"}, headers=headers)
    bad = client.post(f"{base}/phones", json={"number": "12"}, headers=headers)
    note = client.post(f"{base}/notes", json={"text": "要求周末回电"}, headers=headers)
    empty = client.post(f"{base}/notes", json={"text": " "}, headers=headers)
    removed = client.delete(f"{base}/phones/{phone.get_json()['id']}", headers=headers)

    assert phone.status_code == 201 and phone.get_json()["e164"] == "+8613912345678"
    assert (again.status_code, again.get_json()["field"]) == (409, "number")
    assert (bad.status_code, bad.get_json()["field"]) == (400, "number")
    assert note.status_code == 201 and empty.get_json()["field"] == "text"
    assert removed.get_json() == {"phones": []}
    notes = client.get(f"{base}/notes", headers=headers).get_json()["notes"]
    assert [n["text"] for n in notes] == ["要求周末回电"]
    history = client.get(f"{base}/history", headers=headers).get_json()["items"]
    assert {item["kind"] for item in history} == {"note", "change"}


def test_given_a_known_caller_then_lookup_answers_the_customer_and_contacts(app, client,
                                                                            tokens):
    made = create(client, tokens["agent"], phones=["13800138000"])
    create_record(app, caller_number="+8613800138000")

    known = client.get("/api/crm/lookup", query_string={"number": "138 0013 8000"},
                       headers=tokens["agent"])
    unknown = client.get("/api/crm/lookup", query_string={"number": "13700000000"},
                         headers=tokens["agent"])
    missing = client.get("/api/crm/lookup", headers=tokens["agent"])

    assert known.status_code == 200
    assert known.get_json()["customer"]["id"] == made["id"]
    assert "call" in [item["kind"] for item in known.get_json()["contacts"]]
    assert (unknown.status_code, unknown.get_json()["field"]) == (404, "number")
    assert (missing.status_code, missing.get_json()["field"]) == (400, "number")


def test_given_roles_then_agents_edit_but_only_managers_delete_merge_and_define(client,
                                                                                tokens):
    made = create(client, tokens["agent"])
    other = create(client, tokens["agent"], name="王 秀英")

    agent_delete = client.delete(f"/api/crm/customers/{made['id']}", headers=tokens["agent"])
    agent_field = client.post("/api/crm/fields", json={"key": "x", "label": "X",
                                                       "kind": "text"},
                              headers=tokens["supervisor"])
    merged = client.post(f"/api/crm/customers/{made['id']}/merge",
                         json={"source_id": other["id"], "choose": {"name": "source"}},
                         headers=tokens["manager"])
    deleted = client.delete(f"/api/crm/customers/{made['id']}", headers=tokens["manager"])
    restored = client.post(f"/api/crm/customers/{made['id']}/restore",
                           headers=tokens["manager"])
    anonymous = client.get("/api/crm/customers")

    assert (agent_delete.status_code, agent_delete.get_json()["field"]) == (403, "permission")
    assert agent_field.status_code == 403
    assert merged.status_code == 200 and merged.get_json()["name"] == "王 秀英"
    assert client.get(f"/api/crm/customers/{other['id']}", headers=tokens["agent"]).get_json()[
        "merged_into_id"] == made["id"]
    assert deleted.get_json()["deleted_at"] is not None
    assert restored.get_json()["deleted_at"] is None
    assert anonymous.status_code == 401


def test_given_search_parameters_then_bad_ones_are_named(client, tokens):
    admin = tokens["admin"]
    cases = {"sort": {"sort": "phone"}, "created_from": {"created_from": "yesterday"},
             "custom": {"custom": "nothing"}, "quee": {"quee": "x"},
             "deleted": {"deleted": "maybe"}}

    answers = {name: client.get("/api/crm/customers", query_string=args, headers=admin)
               for name, args in cases.items()}

    assert {name: (r.status_code, r.get_json()["field"]) for name, r in answers.items()} == {
        name: (400, name) for name in cases}


def test_given_custom_fields_then_defined_filtered_and_in_the_document(client, tokens):
    admin = tokens["admin"]
    defined = client.post("/api/crm/fields", json={"key": "budget", "label": "预算",
                                                   "kind": "number"}, headers=admin)
    twice = client.post("/api/crm/fields", json={"key": "budget", "label": "预算",
                                                 "kind": "number"}, headers=admin)
    create(client, admin, name="A", custom={"budget": 10})
    create(client, admin, name="B", custom={"budget": 500})

    found = client.get("/api/crm/customers", query_string={"custom": "budget=100.."},
                       headers=admin)
    document = client.get("/api/openapi.json", headers=admin).get_json()

    assert defined.status_code == 201 and (twice.status_code, twice.get_json()["field"]) == (
        409, "key")
    assert [c["name"] for c in found.get_json()["customers"]] == ["B"]
    for path in ("/api/crm/customers", "/api/crm/customers/{customer_id}", "/api/crm/lookup",
                 "/api/crm/customers/{customer_id}/history", "/api/crm/fields"):
        assert path in document["paths"], path
    assert fits(document, "CustomerPage", found.get_json()) == []
    assert fits(document, "CustomField", defined.get_json()) == []


def test_given_real_answers_then_they_fit_the_documents_schemas(app, client, tokens):
    admin = tokens["admin"]
    made = create(client, admin, phones=["13800138000"], tags=["vip"])
    create_record(app, caller_number="13800138000")
    base = f"/api/crm/customers/{made['id']}"
    client.post(f"{base}/notes", json={"text": "hi"}, headers=admin)
    document = client.get("/api/openapi.json", headers=admin).get_json()
    answers = {
        "Customer": client.get(base, headers=admin),
        "PhoneList": client.get(f"{base}/phones", headers=admin),
        "NoteList": client.get(f"{base}/notes", headers=admin),
        "Timeline": client.get(f"{base}/history", headers=admin),
        "Lookup": client.get("/api/crm/lookup?number=13800138000", headers=admin),
        "CustomerError": client.post("/api/crm/customers", json={"name": "x", "level": "z"},
                                     headers=admin),
    }

    assert {name: fits(document, name, r.get_json()) for name, r in answers.items()} == {
        name: [] for name in answers}
