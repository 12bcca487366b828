"""A call adopted by a restarted engine while it talked to an agent keeps its survey: the survey's
visit reaches the IVR statistics (of the flow and version the call started on) and the call's IVR
path, from the events both engines emitted, stored through the worker's own path."""

import datetime

import pytest

from fs_cc import events, journal
from fs_cc.events import HangupSide
from tests.ivr.test_survey import SurveySession
from tests.polling import wait_until
from tests.test_adoption_survey import ADOPTION, FLOW, adopter, agent_hangs_up
from tests.web.support import app_on, database_url_for, dispose
from web.extensions import db
from web.facts.services import FactService
from web.ivr.stats import flow_stats

HOUR = datetime.timedelta(hours=1)


def earlier_run(now):
    """What the engine that died had emitted of call c1: flow ``f`` version 3, queue node
    ``support``, answered by agent 1001 (and nothing after: it died during the talk)."""
    made = []

    def at(seconds, event_class, **fields):
        made.append(event_class(engine=ADOPTION.previous_engine, seq=len(made) + 1,
                                call_uuid="c1", ts=now + datetime.timedelta(seconds=seconds),
                                **fields))

    at(-90, events.CallStarted, did=ADOPTION.did, caller_number="13900000001")
    at(-90, events.FlowStarted, flow="f", sha256="ab" * 32, version=3)
    at(-90, events.IvrNodeEntered, flow="f", node="support")
    at(-90, events.CallQueued, queue="support", priority=0, skills={}, position=1)
    at(-85, events.OfferedToAgent, agent="1001", leg_uuid="leg1", queue="support")
    at(-80, events.AnsweredByAgent, agent="1001", leg_uuid="leg1")
    return made


def adopted_run():
    """The adopting engine's events of c1: the agent hangs up, the caller comes back to the
    socket and presses 4 in the survey."""
    job, engine, ticket = adopter(FLOW, kept=True)
    agent_hangs_up(job, ticket)
    wait_until(lambda: engine.ctl.transfer.called, 5, "the caller sent back to the socket")
    session = SurveySession(uuid="c1", keys=["4"])
    session.variables.update(answered_agent="1001", answered_queue="support")  # set_var's
    ended = engine.handler.handle(session)
    assert (ended.side, ended.cause) == (HangupSide.SYSTEM, "NORMAL_CLEARING")  # the flow's
    return engine.emitter.events


@pytest.fixture(params=["sqlite", "postgresql"])
def stored(request, tmp_path, migrated_databases):
    """An app whose facts hold both engines' events of the adopted call; yields (app, now)."""
    both = adopted_run()
    now = min(event.ts for event in both)
    both = earlier_run(now) + both
    app = app_on(tmp_path, database_url_for(migrated_databases, request.param))
    with app.app_context():
        result = FactService(db.session).store(both)
        assert (result.stored, result.rejected) == (len(both), 0)
    yield app, now
    dispose(app)


def test_given_an_adopted_call_whose_survey_ran_then_the_survey_visit_counts_for_its_version(
        stored):
    app, now = stored
    with app.app_context():
        stats = flow_stats(db.session, "f", now - HOUR, now + HOUR, version="3").to_dict()
    assert (stats["calls"], stats["answered"], stats["versions"]) == (1, 1, ["3"])
    nodes = {node["node"]: node for node in stats["nodes"]}
    assert [(n, nodes[n]["visits"]) for n in nodes] == [("support", 1), ("rate", 1), ("bye", 1)]
    assert nodes["rate"]["choices"] == {"4": 1}
    assert nodes["rate"]["avg_seconds"] is not None  # entered and left on the adopting engine
    assert nodes["bye"]["self_service"] == 0  # an agent answered it: not self-service


def test_given_an_adopted_call_whose_survey_ran_then_its_ivr_path_holds_the_survey():
    call_events = earlier_run(datetime.datetime.now(datetime.timezone.utc)
                              - datetime.timedelta(minutes=5)) + adopted_run()
    record = journal.fold(call_events)
    assert record.ivr_path == ["support", "rate", "rate:4", "bye"]  # as a run never stopped
    assert (record.flow, record.flow_version, record.agent) == ("f", 3, "1001")
    [left] = [e for e in call_events if isinstance(e, events.IvrNodeLeft) and e.node == "support"]
    assert left.outcome == "rate"  # the queue node led to the survey, as in an unbroken run
