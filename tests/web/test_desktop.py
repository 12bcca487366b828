"""The agent desktop's API: the screen pop for a known and an unknown caller, only to the agent
it concerns; moves of the agent's own extension; wrap-up with a required disposition of the
queue's list; drafts kept server-side; no going available while a call waits to be filed.

The engine is a stand-in behind the real control server and client (real HTTP, the secret
checked), holding calls as the engine's call_context gives them.
"""

import datetime

import pytest

from fs_cc.control import ControlServer, commands
from fs_cc.control.commands import UnknownTarget
from fs_cc.events import TransferKind
from tests.web.support import (CONTROL_SECRET, app_on, create_record, create_token, create_user,
                               database_url_for, dispose)
from tests.web.test_crm_api import create
from web.desktop.models import CallDisposition, DesktopDraft
from web.extensions import db
from web.types import utcnow

CALLER = "13800138000"


def recently():
    """Five minutes ago: within the hours a call stays owed its disposition."""
    return utcnow() - datetime.timedelta(minutes=5)


def context(uuid, agent=None, offered_to=None, caller=CALLER, queue="support", state="offering"):
    """A call as the engine's call_context gives it."""
    return {"uuid": uuid, "caller": caller, "caller_name": "", "did": "4000", "state": state,
            "queue": queue, "agent": agent, "offered_to": offered_to,
            "started_at": "2026-12-08T09:00:00+00:00", "queued_at": "2026-12-08T09:00:20+00:00",
            "waited": 12.5, "origin": "inbound",
            "ivr": {"flow": "main", "path": ["welcome", "menu", "support"],
                    "inputs": [{"node": "menu", "input": "2", "result": "option"}]}}


class DesktopEngine:
    """The engine as the desktop sees it: agents, queues, calls by uuid, the commands sent."""

    def __init__(self):
        self.agent_list = [{"extension": "1001", "name": "李娜", "queues": ["support"],
                            "status": "wrap_up", "status_since": "2026-12-08T09:05:00+00:00",
                            "last_call_ended_at": None, "skills": {}}]
        self.queue_list = [
            {"name": "sales", "strategy": "longest-idle", "waiting": 0, "agents_available": 0,
             "agents_logged_in": 0},
            {"name": "support", "strategy": "longest-idle", "waiting": 3,
             "agents_available": 1, "agents_logged_in": 2}]
        self.contexts = {}
        self.received = []

    def agents(self):
        return self.agent_list

    def queues(self):
        return self.queue_list

    def calls(self):
        return []

    def call_context(self, uuid):
        if uuid not in self.contexts:
            raise UnknownTarget("call", uuid)
        return self.contexts[uuid]

    def execute(self, command):
        self.received.append(command)
        agent = self.agent_list[0]
        if isinstance(command, commands.SetAgentStatus):
            agent["status"] = command.status
        elif isinstance(command, commands.EndWrapUp):
            agent["status"] = "available"
        elif isinstance(command, commands.AgentLogin):
            agent["queues"].append(command.queue)
        elif isinstance(command, commands.AgentLogout):
            agent["queues"].remove(command.queue)
        elif hasattr(command, "call_uuid"):
            return {"call_uuid": command.call_uuid}
        return agent


@pytest.fixture
def world(tmp_path, migrated_databases):
    """An app on the stand-in engine, an agent at 1001 and one at 1002 (tokens), a manager."""
    backend = DesktopEngine()
    server = ControlServer(backend, host="127.0.0.1", port=0, secret=CONTROL_SECRET)
    server.start()
    app = app_on(tmp_path, database_url_for(migrated_databases, "sqlite"),
                 control_port=server.address[1])
    heads = {}
    for name, role, extension in (("agent", "agent", "1001"), ("other", "agent", "1002"),
                                  ("manager", "manager", None)):
        _, username, _ = create_user(app, role=role, extension=extension)
        heads[name] = {"Authorization": f"Bearer {create_token(app, username)}"}
    yield app, backend, heads
    server.stop(timeout=1)
    dispose(app)


def test_given_a_known_caller_offered_then_the_pop_has_the_record_the_ivr_and_the_queue(world):
    app, engine, heads = world
    client = app.test_client()
    customer = create(client, heads["manager"], name="王小明", phones=[CALLER])
    engine.contexts["c-1"] = context("c-1", offered_to="1001")

    pop = client.get("/api/desktop/calls/c-1/pop", headers=heads["agent"])

    assert pop.status_code == 200, pop.get_json()
    data = pop.get_json()
    assert data["known"] is True and data["new_caller"] is None
    assert data["lookup"]["customer"]["id"] == customer["id"]
    assert data["lookup"]["customer"]["name"] == "王小明"
    assert data["call"]["ivr"]["path"] == ["welcome", "menu", "support"]
    assert (data["call"]["queue"], data["call"]["waited"]) == ("support", 12.5)
    assert data["dispositions"][:3] == ["consultation", "complaint", "suggestion"]
    assert data["draft"] is None and data["filed"] is None


def test_given_an_unknown_caller_then_a_new_caller_prefill(world):
    app, engine, heads = world
    engine.contexts["c-2"] = context("c-2", offered_to="1001", caller="02155550123")

    data = app.test_client().get("/api/desktop/calls/c-2/pop", headers=heads["agent"]).get_json()

    assert data["known"] is False and data["lookup"] is None
    assert data["new_caller"] == {"phones": ["02155550123"]}


def test_given_a_call_offered_to_another_agent_then_no_pop_for_this_one(world):
    app, engine, heads = world
    engine.contexts["c-3"] = context("c-3", offered_to="1002")
    client = app.test_client()

    mine = client.get("/api/desktop/calls/c-3/pop", headers=heads["other"])
    theirs = client.get("/api/desktop/calls/c-3/pop", headers=heads["agent"])
    nowhere = client.get("/api/desktop/calls/gone/pop", headers=heads["agent"])

    assert mine.status_code == 200
    assert theirs.status_code == 404 and theirs.get_json()["field"] == "call"
    assert nowhere.status_code == 404 and nowhere.get_json()["field"] == "call"


def test_given_a_manager_without_the_desktop_then_refused(world):
    app, _, heads = world
    assert app.test_client().get("/api/desktop/state",
                                 headers=heads["manager"]).status_code == 403


def test_given_an_answered_call_then_a_disposition_is_required_and_must_be_the_queues(world):
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-4"] = context("c-4", agent="1001", state="connected")

    missing = client.post("/api/desktop/calls/c-4/disposition", json={"notes": "x"},
                          headers=heads["agent"])
    wrong = client.post("/api/desktop/calls/c-4/disposition", json={"disposition": "lunch"},
                        headers=heads["agent"])
    filed = client.post("/api/desktop/calls/c-4/disposition",
                        json={"disposition": "Complaint", "notes": "水压低"},
                        headers=heads["agent"])

    assert missing.status_code == 400 and missing.get_json()["field"] == "disposition"
    assert wrong.status_code == 400 and wrong.get_json()["field"] == "disposition"
    assert "complaint" in wrong.get_json()["error"]
    assert filed.status_code == 200
    assert filed.get_json()["disposition"] == "complaint"  # the queue's own spelling
    with app.app_context():
        [row] = db.session.query(CallDisposition).all()
        assert (row.call_uuid, row.agent, row.queue, row.notes) == ("c-4", "1001", "support",
                                                                   "水压低")


def test_given_a_queue_with_its_own_dispositions_then_only_those_and_none_asked_when_empty(
        world):
    app, engine, heads = world
    client = app.test_client()
    from web.catalog.models import Queue

    with app.app_context():
        db.session.add(Queue(name="support", dispositions=["报修 repair", "投诉 complaint"]))
        db.session.add(Queue(name="sales", dispositions=[]))
        db.session.commit()
    engine.contexts["c-5"] = context("c-5", agent="1001", state="connected")

    pop = client.get("/api/desktop/calls/c-5/pop", headers=heads["agent"]).get_json()
    default = client.post("/api/desktop/calls/c-5/disposition", json={"disposition": "other"},
                          headers=heads["agent"])

    assert pop["dispositions"] == ["报修 repair", "投诉 complaint"]
    assert default.status_code == 400
    create_record(app, uuid="s-1", queue="sales", agent="1001", started=recently())
    # a sales call asks for no disposition: nothing owed
    state = client.get("/api/desktop/state", headers=heads["agent"]).get_json()
    assert [owed["call_uuid"] for owed in state["owed"]] == []


def test_given_a_draft_then_kept_across_reloads_and_gone_once_filed(world):
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-6"] = context("c-6", agent="1001", state="connected")

    saved = client.put("/api/desktop/calls/c-6/draft",
                       json={"disposition": "order", "notes": "两箱"}, headers=heads["agent"])
    pop = client.get("/api/desktop/calls/c-6/pop", headers=heads["agent"]).get_json()

    assert saved.status_code == 200
    assert (pop["draft"]["disposition"], pop["draft"]["notes"]) == ("order", "两箱")
    # the call is owed before its record is stored: going available is refused
    refused = client.post("/api/desktop/status", json={"status": "available"},
                          headers=heads["agent"])
    assert refused.status_code == 409 and refused.get_json()["field"] == "disposition"
    assert engine.received == []

    client.post("/api/desktop/calls/c-6/disposition", json={"disposition": "order"},
                headers=heads["agent"])
    with app.app_context():
        assert db.session.query(DesktopDraft).count() == 0
    ready = client.post("/api/desktop/status", json={"status": "available"},
                        headers=heads["agent"])
    assert ready.status_code == 200
    assert engine.received == [commands.DispositionFiled(agent="1001", call_uuid="c-6"),
                               commands.SetAgentStatus(agent="1001", status="available")]


def test_given_an_answered_call_stored_without_disposition_then_wrap_up_cannot_end(world):
    app, engine, heads = world
    client = app.test_client()
    create_record(app, uuid="r-1", queue="support", agent="1001", caller_number=CALLER,
                  started=recently())

    state = client.get("/api/desktop/state", headers=heads["agent"]).get_json()
    refused = client.post("/api/desktop/end-wrap-up", headers=heads["agent"])
    # the engine forgot the call (restarted): filed from the stored record
    filed = client.post("/api/desktop/calls/r-1/disposition",
                        json={"disposition": "consultation"}, headers=heads["agent"])
    ended = client.post("/api/desktop/end-wrap-up", headers=heads["agent"])

    assert [owed["call_uuid"] for owed in state["owed"]] == ["r-1"]
    assert state["agent"]["status"] == "wrap_up"
    assert [queue["name"] for queue in state["queues"]] == ["support", "sales"]  # theirs first
    assert refused.status_code == 409 and CALLER in refused.get_json()["error"]
    assert filed.status_code == 200 and ended.status_code == 200
    assert engine.received == [commands.DispositionFiled(agent="1001", call_uuid="r-1"),
                               commands.EndWrapUp(agent="1001")]


def test_given_another_agents_call_then_it_cannot_be_filed_or_drafted(world):
    app, engine, heads = world
    client = app.test_client()
    create_record(app, uuid="r-2", queue="support", agent="1002", started=recently())

    filed = client.post("/api/desktop/calls/r-2/disposition", json={"disposition": "other"},
                        headers=heads["agent"])
    draft = client.put("/api/desktop/calls/r-2/draft", json={"notes": "x"},
                       headers=heads["agent"])

    assert filed.status_code == 404 and draft.status_code == 404


def test_given_queue_moves_then_the_agents_own_extension_is_moved(world):
    app, engine, heads = world
    client = app.test_client()

    login = client.post("/api/desktop/login", json={"queue": "sales"}, headers=heads["agent"])
    logout = client.post("/api/desktop/logout", json={"queue": "support"},
                         headers=heads["agent"])
    away = client.post("/api/desktop/status", json={"status": "not_ready", "reason": "lunch"},
                       headers=heads["agent"])

    assert login.status_code == logout.status_code == away.status_code == 200
    assert engine.received == [commands.AgentLogin(agent="1001", queue="sales"),
                               commands.AgentLogout(agent="1001", queue="support"),
                               commands.SetAgentStatus(agent="1001", status="not_ready",
                                                       reason="lunch")]


def test_given_a_filed_call_then_the_customers_timeline_shows_its_disposition(world):
    app, engine, heads = world
    client = app.test_client()
    customer = create(client, heads["manager"], name="李雷", phones=[CALLER])
    create_record(app, uuid="r-3", queue="support", agent="1001", caller_number=CALLER,
                  started=recently())
    client.post("/api/desktop/calls/r-3/disposition",
                json={"disposition": "suggestion", "notes": "延长营业时间",
                      "customer_id": customer["id"]}, headers=heads["agent"])

    items = client.get(f"/api/crm/customers/{customer['id']}/history",
                       headers=heads["manager"]).get_json()["items"]

    [call] = [item for item in items if item["kind"] == "call"]
    assert call["detail"]["disposition"] == {"disposition": "suggestion",
                                              "notes": "延长营业时间", "agent": "1001"}
    assert call["title"].endswith("— suggestion")


def test_given_the_engine_forgot_an_answered_call_then_the_pop_comes_from_its_record(world):
    app, _, heads = world
    client = app.test_client()
    create_record(app, uuid="r-4", queue="support", agent="1001", caller_number=CALLER,
                  started=recently(), ivr_path=["welcome", "menu", "menu:2", "support"])
    client.put("/api/desktop/calls/r-4/draft", json={"notes": "回电"}, headers=heads["agent"])

    pop = client.get("/api/desktop/calls/r-4/pop", headers=heads["agent"])
    theirs = client.get("/api/desktop/calls/r-4/pop", headers=heads["other"])

    assert pop.status_code == 200
    data = pop.get_json()
    assert (data["call"]["state"], data["call"]["origin"], data["call"]["queue"]) == (
        "ended", "stored", "support")
    assert data["call"]["ivr"]["path"] == ["welcome", "menu", "support"]
    assert data["call"]["ivr"]["inputs"] == [{"node": "menu", "input": "2", "result": "option"}]
    assert data["draft"]["notes"] == "回电" and data["dispositions"][0] == "consultation"
    assert theirs.status_code == 404


def test_given_the_agents_connected_call_then_hold_unhold_dtmf_and_transfer_go_to_the_engine(
        world):
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-9"] = context("c-9", agent="1001", state="connected")
    engine.contexts["c-10"] = context("c-10", agent="1002", state="connected")
    base = "/api/desktop/calls/c-9"

    answers = [client.post(f"{base}/hold", headers=heads["agent"]),
               client.post(f"{base}/unhold", headers=heads["agent"]),
               client.post(f"{base}/dtmf", json={"digits": "12#"}, headers=heads["agent"]),
               client.post(f"{base}/transfer", json={"kind": "queue", "target": "sales"},
                           headers=heads["agent"])]
    bad_digits = client.post(f"{base}/dtmf", json={"digits": "12x"}, headers=heads["agent"])
    bad_kind = client.post(f"{base}/transfer", json={"kind": "moon", "target": "x"},
                           headers=heads["agent"])
    to_self = client.post(f"{base}/transfer", json={"kind": "agent", "target": "1001"},
                          headers=heads["agent"])
    not_mine = client.post("/api/desktop/calls/c-10/hold", headers=heads["agent"])

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert engine.received == [
        commands.HoldCall(call_uuid="c-9", by_agent="1001"),
        commands.UnholdCall(call_uuid="c-9", by_agent="1001"),
        commands.SendDtmf(call_uuid="c-9", digits="12#", by_agent="1001"),
        commands.TransferCall(call_uuid="c-9", target_kind=TransferKind.QUEUE, target="sales",
                              by_agent="1001")]
    assert bad_digits.status_code == 400 and bad_digits.get_json()["field"] == "digits"
    assert bad_kind.status_code == 400 and bad_kind.get_json()["field"] == "kind"
    assert to_self.status_code == 400 and to_self.get_json()["field"] == "target"
    assert not_mine.status_code == 404  # another agent's call is not this agent's to see


def test_given_the_engine_down_when_a_call_is_filed_then_it_is_stored_all_the_same(world):
    app, engine, heads = world
    client = app.test_client()
    engine.contexts["c-9"] = context("c-9", agent="1001", state="connected")

    def refuse(command):
        if isinstance(command, commands.DispositionFiled):
            raise commands.CommandRefused("agent", "this engine does not know the agent")
        return DesktopEngine.execute(engine, command)

    engine.execute = refuse
    filed = client.post("/api/desktop/calls/c-9/disposition", json={"disposition": "order"},
                        headers=heads["agent"])

    assert filed.status_code == 200 and filed.get_json()["disposition"] == "order"
    with app.app_context():
        assert db.session.query(CallDisposition).filter_by(call_uuid="c-9").count() == 1
