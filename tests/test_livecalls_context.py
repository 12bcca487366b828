"""LiveCalls folds the engine's events into each call's context (the agent desktop's screen pop)."""

import datetime

from fs_cc import events
from fs_cc.events import HangupSide, OfferFailure, QueueOutcome
from fs_cc.livecalls import KEEP_IVR, CallbackCustomer, LiveCalls

UUID = "a3f1c2d4-0000-4000-8000-000000000001"
T0 = datetime.datetime(2024, 5, 6, 9, 0, 0, tzinfo=datetime.timezone.utc)


class Clock:
    """The events' time: T0, moved on by the test."""

    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now

    def at(self, seconds):
        """Set the time to T0 + seconds."""
        self.now = T0 + datetime.timedelta(seconds=seconds)


class Feed:
    """Stamps events as the engine's emitter does and hands each to a LiveCalls."""

    def __init__(self, live):
        self.live = live
        self.clock = Clock()
        self.sequencer = events.EventSequencer("engine-t", clock=self.clock)

    def __call__(self, seconds, event_class, **fields):
        self.clock.at(seconds)
        event = self.sequencer.make(event_class, **fields)
        self.live(event)
        return event


def iso(seconds):
    return (T0 + datetime.timedelta(seconds=seconds)).isoformat()


def test_given_a_call_through_ivr_queue_and_two_offers_when_folded_then_the_exact_context():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallStarted, call_uuid=UUID, did="5901", caller_number="5551234",
         caller_name="Ada Lovelace")
    feed(0.1, events.FlowStarted, call_uuid=UUID, flow="main", sha256="ab" * 32, version=3)
    feed(0.2, events.IvrNodeEntered, call_uuid=UUID, flow="main", node="welcome")
    feed(2, events.IvrNodeLeft, call_uuid=UUID, flow="main", node="welcome", input=None,
         outcome="next")
    feed(2, events.IvrNodeEntered, call_uuid=UUID, flow="main", node="account")
    # a secret collect node: the runner masks the keys before they become an event
    feed(6, events.IvrInput, call_uuid=UUID, flow="main", node="account", input="xxxx",
         result="valid")
    feed(6, events.IvrNodeLeft, call_uuid=UUID, flow="main", node="account", input="xxxx",
         outcome="valid")
    feed(6, events.IvrNodeEntered, call_uuid=UUID, flow="main", node="menu")
    feed(11, events.IvrInput, call_uuid=UUID, flow="main", node="menu", input=None,
         result="timeout")
    feed(13, events.IvrInput, call_uuid=UUID, flow="main", node="menu", input="1",
         result="option")
    feed(13, events.IvrNodeLeft, call_uuid=UUID, flow="main", node="menu", input="1",
         outcome="option")
    feed(13, events.IvrNodeEntered, call_uuid=UUID, flow="main", node="sales")
    feed(13.5, events.CallQueued, call_uuid=UUID, queue="sales", priority=0, skills={},
         position=1)
    feed(20, events.OfferedToAgent, call_uuid=UUID, agent="1000", leg_uuid="leg-1",
         queue="sales")
    assert live.context(UUID)["offered_to"] == "1000"
    assert live.context(UUID)["waited"] == 6.5
    feed(25, events.OfferFailed, call_uuid=UUID, agent="1000", leg_uuid="leg-1",
         cause=OfferFailure.NO_ANSWER, hangup_cause="NO_ANSWER")
    assert (live.context(UUID)["offered_to"], live.context(UUID)["state"]) == (None, "queued")
    feed(26, events.OfferedToAgent, call_uuid=UUID, agent="1001", leg_uuid="leg-2",
         queue="sales")
    ringing = live.context(UUID)
    feed(29.25, events.AnsweredByAgent, call_uuid=UUID, agent="1001", leg_uuid="leg-2")
    feed(29.25, events.QueueLeft, call_uuid=UUID, queue="sales", outcome=QueueOutcome.ANSWERED,
         waited=15.74)

    ivr = {"flow": "main", "path": ["welcome", "account", "menu", "sales"],
           "inputs": [{"node": "account", "input": "xxxx", "result": "valid"},
                      {"node": "menu", "input": None, "result": "timeout"},
                      {"node": "menu", "input": "1", "result": "option"}]}
    assert ringing == {
        "uuid": UUID, "caller": "5551234", "caller_name": "Ada Lovelace", "did": "5901",
        "state": "offering", "queue": "sales", "agent": None, "offered_to": "1001",
        "started_at": iso(0), "queued_at": iso(13.5), "waited": 12.5, "ivr": ivr,
        "origin": "inbound"}
    assert live.context(UUID) == dict(ringing, state="connected", agent="1001", waited=15.75)

    feed(90, events.CallEnded, call_uuid=UUID, side=HangupSide.CALLER, cause="NORMAL_CLEARING")

    # the desktop still shows the pop in wrap-up: the last view, ended
    assert UUID not in live and live.get(UUID) is None
    assert live.context(UUID) == dict(ringing, state="ended", agent="1001", waited=15.75)
    assert live.ended(UUID) == {"uuid": UUID, "caller": "5551234", "did": "5901",
                                "started_at": iso(0), "state": "ended", "queue": "sales",
                                "agent": "1001"}


def test_given_a_context_when_the_reader_changes_it_then_the_live_view_is_untouched():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallStarted, call_uuid=UUID, did="5901", caller_number="5551234")
    feed(1, events.IvrNodeEntered, call_uuid=UUID, flow="main", node="welcome")
    feed(2, events.IvrInput, call_uuid=UUID, flow="main", node="menu", input="1",
         result="option")

    context = live.context(UUID)
    context["ivr"]["path"].append("forged")
    context["ivr"]["inputs"][0]["input"] = "9"

    assert live.context(UUID)["ivr"] == {
        "flow": "main", "path": ["welcome"],
        "inputs": [{"node": "menu", "input": "1", "result": "option"}]}


def test_given_a_caller_looping_in_a_menu_when_folded_then_path_and_inputs_keep_the_latest():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallStarted, call_uuid=UUID, did="5901", caller_number="5551234")
    for turn in range(KEEP_IVR + 50):
        feed(1, events.IvrNodeEntered, call_uuid=UUID, flow="main", node=f"menu{turn}")
        feed(1, events.IvrInput, call_uuid=UUID, flow="main", node=f"menu{turn}", input="9",
             result="invalid")

    ivr = live.context(UUID)["ivr"]

    assert len(ivr["path"]) == len(ivr["inputs"]) == KEEP_IVR
    assert ivr["path"][-1] == f"menu{KEEP_IVR + 49}" and ivr["path"][0] == "menu50"
    assert ivr["inputs"][-1]["node"] == f"menu{KEEP_IVR + 49}"


def test_given_a_call_that_never_queued_then_no_queue_time_nor_wait():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallStarted, call_uuid=UUID, did="5901", caller_number="5551234")

    context = live.context(UUID)

    assert (context["state"], context["queued_at"], context["waited"]) == ("ringing", None, None)
    assert context["ivr"] == {"flow": None, "path": [], "inputs": []}
    assert context["caller_name"] == "" and context["origin"] == "inbound"


def test_given_a_call_queued_twice_then_queued_at_is_the_first_queues_and_queue_the_latest():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallStarted, call_uuid=UUID, did="5901", caller_number="5551234")
    feed(5, events.CallQueued, call_uuid=UUID, queue="sales", priority=0, skills={}, position=1)
    feed(35, events.QueueLeft, call_uuid=UUID, queue="sales", outcome=QueueOutcome.TIMEOUT,
         waited=30.0, position=1)
    feed(36, events.CallQueued, call_uuid=UUID, queue="support", priority=0, skills={},
         position=1)
    feed(45, events.OfferedToAgent, call_uuid=UUID, agent="1001", leg_uuid="leg-1",
         queue="support")

    context = live.context(UUID)

    assert (context["queue"], context["queued_at"], context["waited"]) == ("support", iso(5),
                                                                            40.0)


CALLBACK_CALL = "cb-call-0001"
CALLBACK_ID = "cb-request-1"
ASKED = T0 - datetime.timedelta(minutes=10)


def customer_of(callback_id):
    """The engine's lookup: the desk's request of that id."""
    return CallbackCustomer("5557000111", ASKED) if callback_id == CALLBACK_ID else None


def test_given_a_callback_attempt_when_the_agents_phone_rings_then_the_customer_is_known():
    live = LiveCalls(callback_customer=customer_of)
    feed = Feed(live)
    # fs_cc.acd.callback_offer: dispatch and offer first; the call starts once the agent answers
    feed(0, events.CallbackDispatched, callback_id=CALLBACK_ID, agent="1000",
         call_uuid=CALLBACK_CALL, leg_uuid="leg-a", attempt=1)
    feed(0, events.OfferedToAgent, call_uuid=CALLBACK_CALL, agent="1000", leg_uuid="leg-a",
         queue="sales")

    ringing = live.context(CALLBACK_CALL)

    assert ringing == {
        "uuid": CALLBACK_CALL, "caller": "5557000111", "caller_name": "", "did": "callback",
        "state": "offering", "queue": "sales", "agent": None, "offered_to": "1000",
        "started_at": iso(0), "queued_at": ASKED.isoformat(), "waited": 600.0,
        "ivr": {"flow": None, "path": [], "inputs": []}, "origin": "callback"}
    assert CALLBACK_CALL in live

    feed(2, events.CallStarted, call_uuid=CALLBACK_CALL, did="callback",
         caller_number="5557000111")
    feed(2, events.QueueLeft, call_uuid=CALLBACK_CALL, queue="sales",
         outcome=QueueOutcome.ANSWERED, waited=602.0)
    feed(5, events.AnsweredByAgent, call_uuid=CALLBACK_CALL, agent="1000", leg_uuid="leg-a")

    assert live.context(CALLBACK_CALL) == dict(ringing, state="connected", agent="1000",
                                               waited=605.0)
    feed(60, events.CallEnded, call_uuid=CALLBACK_CALL, side=HangupSide.CALLER,
         cause="NORMAL_CLEARING")
    assert live.context(CALLBACK_CALL)["state"] == "ended"


def test_given_a_callback_attempt_the_agent_misses_then_its_view_ends_without_a_call_end():
    live = LiveCalls(callback_customer=customer_of)
    feed = Feed(live)
    feed(0, events.CallbackDispatched, callback_id=CALLBACK_ID, agent="1000",
         call_uuid=CALLBACK_CALL, leg_uuid="leg-a", attempt=1)
    feed(0, events.OfferedToAgent, call_uuid=CALLBACK_CALL, agent="1000", leg_uuid="leg-a",
         queue="sales")
    feed(20, events.OfferFailed, call_uuid=CALLBACK_CALL, agent="1000", leg_uuid="leg-a",
         cause=OfferFailure.NO_ANSWER, hangup_cause="NO_ANSWER")

    assert CALLBACK_CALL not in live and live.all() == []
    context = live.context(CALLBACK_CALL)
    assert (context["state"], context["offered_to"], context["caller"]) == ("ended", None,
                                                                            "5557000111")


def test_given_no_lookup_when_a_callback_is_dispatched_then_its_number_comes_with_its_start():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallbackDispatched, callback_id=CALLBACK_ID, agent="1000",
         call_uuid=CALLBACK_CALL, leg_uuid="leg-a", attempt=1)
    feed(0, events.OfferedToAgent, call_uuid=CALLBACK_CALL, agent="1000", leg_uuid="leg-a",
         queue="sales")
    assert (live.context(CALLBACK_CALL)["caller"], live.context(CALLBACK_CALL)["waited"]) == (
        "", None)

    feed(2, events.CallStarted, call_uuid=CALLBACK_CALL, did="callback",
         caller_number="5557000111")
    feed(2, events.QueueLeft, call_uuid=CALLBACK_CALL, queue="sales",
         outcome=QueueOutcome.ANSWERED, waited=602.0)

    context = live.context(CALLBACK_CALL)
    assert (context["caller"], context["origin"], context["waited"]) == ("5557000111",
                                                                         "callback", 602.0)


def test_given_a_callback_originated_by_command_then_its_origin_is_callback():
    live = LiveCalls()
    feed = Feed(live)
    # fs_cc.actions.originate_callback starts the call first, then queues it like a caller
    feed(0, events.CallStarted, call_uuid=CALLBACK_CALL, did="callback",
         caller_number="5557000111")

    assert live.context(CALLBACK_CALL)["origin"] == "callback"


def test_given_an_adopted_call_then_its_origin_is_adopted_and_queue_kept():
    live = LiveCalls()
    feed = Feed(live)
    feed(0, events.CallAdopted, call_uuid=UUID, previous_engine="engine-old", queue="sales")

    context = live.context(UUID)

    assert (context["origin"], context["state"], context["queue"]) == ("adopted", "adopted",
                                                                       "sales")


def test_given_an_unknown_call_then_no_context():
    live = LiveCalls()
    Feed(live)(0, events.OfferedToAgent, call_uuid=UUID, agent="1000", leg_uuid="leg-1",
               queue="sales")

    assert live.context(UUID) is None and live.context("nobody") is None
