"""The desktop's click-to-dial and mute: the agent's own extension and call, fields named."""

from fs_cc.control import commands
from fs_cc.events import TransferKind
from tests.web.test_desktop import context, world  # noqa: F401 - the fixture


def test_given_a_number_when_the_agent_dials_then_its_own_extension_dials_it(world):  # noqa: F811
    app, engine, heads = world
    client = app.test_client()

    answer = client.post("/api/desktop/dial", json={"number": " +4930123*# "},
                         headers=heads["agent"])

    assert answer.status_code == 200
    assert engine.received == [commands.DialNumber(agent="1001", number="+4930123*#")]


def test_given_bad_numbers_when_dialled_then_refused_naming_the_number(world):  # noqa: F811
    app, engine, heads = world
    client = app.test_client()
    for body in ({"number": "12ab"}, {"number": "1" * 33}, {"number": ""}, {},
                 {"number": "030 1234"}):
        answer = client.post("/api/desktop/dial", json=body, headers=heads["agent"])
        assert answer.status_code == 400, body
        assert answer.get_json()["field"] == "number", body
    assert engine.received == []


def test_given_a_manager_without_the_desktop_when_dialling_then_refused(world):  # noqa: F811
    app, engine, heads = world
    answer = app.test_client().post("/api/desktop/dial", json={"number": "123"},
                                    headers=heads["manager"])
    assert answer.status_code == 403
    assert engine.received == []


def test_given_the_agents_connected_call_then_mute_and_unmute_go_to_the_engine(world):  # noqa: F811
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-9"] = context("c-9", agent="1001", state="connected")
    engine.contexts["c-10"] = context("c-10", agent="1002", state="connected")

    answers = [client.post("/api/desktop/calls/c-9/mute", headers=heads["agent"]),
               client.post("/api/desktop/calls/c-9/unmute", headers=heads["agent"])]
    not_mine = client.post("/api/desktop/calls/c-10/mute", headers=heads["agent"])

    assert [answer.status_code for answer in answers] == [200, 200]
    assert engine.received == [commands.MuteCall(call_uuid="c-9", by_agent="1001"),
                               commands.UnmuteCall(call_uuid="c-9", by_agent="1001")]
    assert not_mine.status_code in (404, 409)


def test_given_the_desktop_page_then_it_has_the_dial_field_and_the_mute_button(world):  # noqa: F811
    app, _, heads = world
    page = app.test_client().get("/desktop", headers=heads["agent"]).get_data(as_text=True)
    assert 'id="dial-number"' in page and 'id="dial-call"' in page
    assert 'id="call-mute"' in page and 'id="pop-phones"' in page
    assert 'id="call-consult"' in page and 'id="consult-conference"' in page


def test_given_the_agents_connected_call_then_consult_cancel_complete_conference_go_to_engine(
        world):  # noqa: F811
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-9"] = context("c-9", agent="1001", state="connected")
    base = "/api/desktop/calls/c-9"

    answers = [client.post(f"{base}/consult", json={"kind": "agent", "target": "1002"},
                           headers=heads["agent"]),
               client.post(f"{base}/consult/cancel", headers=heads["agent"]),
               client.post(f"{base}/consult", json={"kind": "number", "target": "5551234"},
                           headers=heads["agent"]),
               client.post(f"{base}/consult/complete", headers=heads["agent"]),
               client.post(f"{base}/conference", headers=heads["agent"])]
    bad_kind = client.post(f"{base}/consult", json={"kind": "queue", "target": "sales"},
                           headers=heads["agent"])
    to_self = client.post(f"{base}/consult", json={"kind": "agent", "target": "1001"},
                          headers=heads["agent"])

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 200]
    assert engine.received == [
        commands.ConsultCall(call_uuid="c-9", target_kind=TransferKind.AGENT, target="1002",
                             by_agent="1001"),
        commands.CancelConsult(call_uuid="c-9", by_agent="1001"),
        commands.ConsultCall(call_uuid="c-9", target_kind=TransferKind.NUMBER,
                             target="5551234", by_agent="1001"),
        commands.CompleteConsult(call_uuid="c-9", by_agent="1001"),
        commands.ConferenceCall(call_uuid="c-9", by_agent="1001")]
    assert bad_kind.status_code == 400 and bad_kind.get_json()["field"] == "kind"
    assert to_self.status_code == 400 and to_self.get_json()["field"] == "target"


def test_given_a_customers_masked_phone_when_the_agent_calls_it_from_the_record_then_dialled_unseen(
        world):  # noqa: F811
    from tests.web.test_crm_api import create

    app, engine, heads = world
    client = app.test_client()
    customer = create(client, heads["manager"], name="周杰", phones=["13912345678"])
    phone_id = customer["phones"][0]["id"]
    shown = client.get(f"/api/crm/customers/{customer['id']}", headers=heads["agent"]).get_json()
    assert shown["phones"][0]["masked"] is True  # the agent may not see the number

    answer = client.post("/api/desktop/dial", json={"phone_id": phone_id}, headers=heads["agent"])
    unknown = client.post("/api/desktop/dial", json={"phone_id": 999999}, headers=heads["agent"])
    both = client.post("/api/desktop/dial", json={"phone_id": phone_id, "number": "123"},
                       headers=heads["agent"])

    assert answer.status_code == 200 and "13912345678" not in answer.get_data(as_text=True)
    assert engine.received == [commands.DialNumber(agent="1001", number="13912345678")]
    assert (unknown.status_code, unknown.get_json()["field"]) == (404, "phone_id")
    assert (both.status_code, both.get_json()["field"]) == (400, "number")


def test_given_an_agent_on_a_customer_record_then_each_phone_has_a_call_button(world):  # noqa: F811
    from tests.web.support import create_user, login
    from tests.web.test_crm_api import create

    app, engine, heads = world
    client = app.test_client()
    customer = create(client, heads["manager"], name="李娜", phones=["13900001111"])
    _, username, password = create_user(app, role="agent", extension="1003")
    login(client, username, password)

    page = client.get(f"/crm/customers/{customer['id']}").get_data(as_text=True)

    assert f'data-phone-id="{customer["phones"][0]["id"]}"' in page and "crm_dial.js" in page
    assert "13900001111" not in page
