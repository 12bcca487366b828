"""The desktop's transfer into an IVR flow: the flows it offers, and the command it sends.

The engine is test_desktop's stand-in behind the real control server and client.
"""

from fs_cc.control import commands
from fs_cc.events import TransferKind
from tests.web.test_desktop import context, world  # noqa: F401 (the fixture)
from web.catalog.models import DidRoute
from web.extensions import db
from web.ivr.models import IvrFlow


def test_given_stored_and_routed_flows_then_the_state_offers_each_once_by_name(world):  # noqa: F811
    app, _, heads = world
    with app.app_context():
        db.session.add_all([IvrFlow(name="survey", current_version=1),
                            IvrFlow(name="main", current_version=3),
                            DidRoute(number="4000", flow="main", enabled=True),
                            DidRoute(number="4001", flow="hotel", enabled=True),
                            DidRoute(number="4002", flow="retired", enabled=False)])
        db.session.commit()

    state = app.test_client().get("/api/desktop/state", headers=heads["agent"]).get_json()

    assert state["flows"] == ["hotel", "main", "survey"]


def test_given_the_agents_connected_call_when_sent_to_a_flow_then_the_engine_gets_kind_ivr(
        world):  # noqa: F811
    app, engine, heads = world
    engine.contexts["c-11"] = context("c-11", agent="1001", state="connected")

    answer = app.test_client().post("/api/desktop/calls/c-11/transfer",
                                    json={"kind": "ivr", "target": " survey "},
                                    headers=heads["agent"])

    assert answer.status_code == 200
    assert engine.received == [commands.TransferCall(call_uuid="c-11",
                                                     target_kind=TransferKind.IVR,
                                                     target="survey", by_agent="1001")]


def test_given_the_desktop_page_then_the_transfer_target_lists_choices_for_its_kind(world):  # noqa: F811
    app, _, heads = world
    page = app.test_client().get("/desktop", headers=heads["agent"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<option value="ivr">IVR flow</option>' in html
    assert 'list="transfer-targets"' in html and '<datalist id="transfer-targets">' in html
