"""The journal: a call's events fold into the record the engine wrote before events existed."""

import collections
import datetime
import itertools
import random

import pytest

from fs_cc import events, journal
from fs_cc.calls import CallRecord, HangupSide
from fs_cc.errors import FsCcError

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FLOW = "main"


def iso(seconds):
    """The ISO text of T0 + ``seconds``, as CallRecord.to_dict() writes it."""
    return (T0 + datetime.timedelta(seconds=seconds)).isoformat()


class CallScript:
    """One call's events, each at a number of seconds after T0, stamped per engine in order."""

    def __init__(self, call_uuid="call-1", engine="engine-a"):
        self.call_uuid = call_uuid
        self.engine = engine
        self._seqs = collections.defaultdict(lambda: itertools.count(1))
        self.events = []

    def at(self, seconds, event_class, engine=None, **fields):
        """Add an ``event_class`` event at T0 + ``seconds``; return self."""
        engine = engine or self.engine
        self.events.append(event_class(
            engine=engine, seq=next(self._seqs[engine]),
            ts=T0 + datetime.timedelta(seconds=seconds), call_uuid=self.call_uuid, **fields))
        return self

    def start(self, seconds=0, caller="+32475000111", did="+3222001100"):
        """The call reaches the engine."""
        return self.at(seconds, events.CallStarted, did=did, caller_number=caller,
                       caller_name="Ana")

    def enter(self, seconds, node):
        """The flow enters ``node``."""
        return self.at(seconds, events.IvrNodeEntered, flow=FLOW, node=node)

    def key(self, seconds, node, input, result):
        """One attempt at menu ``node``: the keys read (None: none) and what they meant."""
        return self.at(seconds, events.IvrInput, flow=FLOW, node=node, input=input,
                       result=result)

    def leave(self, seconds, node, outcome, input=None):
        """The flow leaves ``node`` (no effect on the record)."""
        return self.at(seconds, events.IvrNodeLeft, flow=FLOW, node=node, input=input,
                       outcome=outcome)

    def queue(self, seconds, queue):
        """The caller waits in ``queue``."""
        return self.at(seconds, events.CallQueued, queue=queue, priority=0, skills={},
                       position=1)

    def left(self, seconds, queue, outcome, waited=0.0):
        """The caller's time in ``queue`` ended."""
        return self.at(seconds, events.QueueLeft, queue=queue, outcome=outcome, waited=waited)

    def offer(self, seconds, agent, leg="leg-1"):
        """An agent's phone rings."""
        return self.at(seconds, events.OfferedToAgent, agent=agent, leg_uuid=leg, queue=None)

    def answer(self, seconds, agent, leg="leg-1"):
        """The agent answers."""
        return self.at(seconds, events.AnsweredByAgent, agent=agent, leg_uuid=leg)

    def end(self, seconds, side, cause, engine=None):
        """The call is over."""
        return self.at(seconds, events.CallEnded, engine=engine, side=side, cause=cause)


def old_record(**fields):
    """The payload the engine wrote for call-1 before events (CallRecord.to_dict() shape)."""
    payload = {"uuid": "call-1", "caller_number": "+32475000111", "did": "+3222001100",
               "ivr_path": [], "queue": None, "agent": None, "started_at": iso(0),
               "queued_at": None, "answered_at": None, "ended_at": None, "hangup_cause": None,
               "hangup_side": None, "wait_seconds": 0.0, "talk_seconds": 0.0, "flow": None,
               "flow_version": None}
    assert set(fields) <= set(payload)
    payload.update(fields)
    return payload


def sales_call_agent_hangs_up():
    """welcome, menu, key 1 to the sales queue, agent 1000 answers, talks, hangs up."""
    return (CallScript().start(0).enter(0.5, "welcome").leave(3, "welcome", "menu")
            .enter(3, "menu").key(6, "menu", "1", "option").leave(6, "menu", "sales", "1")
            # the runner enters the queue node in the same 20 ms tick: seq keeps them in order
            .enter(6, "sales").queue(6.5, "sales").offer(8, "1000").answer(11.5, "1000")
            .left(11.5, "sales", events.QueueOutcome.ANSWERED, waited=5.0)
            .end(71.5, HangupSide.AGENT, "NORMAL_CLEARING"))


def test_given_a_menu_option_to_a_queue_answered_then_agent_hangs_up_then_the_old_record():
    record = journal.fold(sales_call_agent_hangs_up().events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "menu", "menu:1", "sales"], queue="sales", agent="1000",
        queued_at=iso(6.5), answered_at=iso(11.5), ended_at=iso(71.5),
        hangup_cause="NORMAL_CLEARING", hangup_side="agent", wait_seconds=5.0, talk_seconds=60.0)
    assert record.hangup_side is HangupSide.AGENT


def test_given_a_caller_who_abandons_in_the_queue_then_waited_until_the_end_and_no_agent():
    script = (CallScript().start(0).enter(0.2, "welcome").enter(2, "sales").queue(2.2, "sales")
              .offer(3, "1000").at(23, events.OfferFailed, agent="1000", leg_uuid="leg-1",
                                   cause=events.OfferFailure.NO_ANSWER, hangup_cause="NO_ANSWER")
              .left(42.2, "sales", events.QueueOutcome.HUNG_UP, waited=40.0)
              .end(42.2, HangupSide.CALLER, "NORMAL_CLEARING"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "sales"], queue="sales", queued_at=iso(2.2), ended_at=iso(42.2),
        hangup_cause="NORMAL_CLEARING", hangup_side="caller", wait_seconds=40.0)


def test_given_a_caller_who_hangs_up_in_the_ivr_then_the_path_ends_where_they_were():
    script = (CallScript().start(0).enter(0.1, "welcome").enter(4, "menu")
              .end(5.25, HangupSide.CALLER, "NORMAL_CLEARING"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "menu"], ended_at=iso(5.25), hangup_cause="NORMAL_CLEARING",
        hangup_side="caller")


def test_given_three_timeouts_then_the_default_node_follows_three_timeout_entries():
    script = (CallScript().start(0).enter(0, "welcome").enter(3, "menu")
              .key(8, "menu", None, "timeout").key(13, "menu", None, "timeout")
              .key(18, "menu", None, "timeout").leave(18, "menu", "support")
              .enter(18, "support").queue(18.1, "support").answer(30, "1001")
              .end(90, HangupSide.CALLER, "NORMAL_CLEARING"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "menu", "menu:timeout", "menu:timeout", "menu:timeout", "support"],
        queue="support", agent="1001", queued_at=iso(18.1), answered_at=iso(30),
        ended_at=iso(90), hangup_cause="NORMAL_CLEARING", hangup_side="caller",
        wait_seconds=11.9, talk_seconds=60.0)


def test_given_an_invalid_key_then_an_invalid_entry_before_the_key_that_leads_on():
    script = (CallScript().start(0).enter(0, "welcome").enter(2, "menu")
              .key(4, "menu", "7", "invalid").key(9, "menu", "2", "option")
              .enter(9, "billing").end(15, HangupSide.CALLER, "NORMAL_CLEARING"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "menu", "menu:invalid", "menu:2", "billing"], ended_at=iso(15),
        hangup_cause="NORMAL_CLEARING", hangup_side="caller")


def test_given_a_hangup_node_then_the_system_ended_the_call_with_the_nodes_cause():
    script = (CallScript().start(0).enter(0, "welcome").enter(2.5, "closed")
              .end(2.6, HangupSide.SYSTEM, "CALL_REJECTED"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "closed"], ended_at=iso(2.6), hangup_cause="CALL_REJECTED",
        hangup_side="system")


def test_given_a_queue_refused_at_runtime_then_the_queue_is_named_without_a_queued_time():
    script = (CallScript().start(0).enter(0, "welcome").enter(1, "gone")
              .left(1, "gone", events.QueueOutcome.UNKNOWN_QUEUE)
              .end(1.02, HangupSide.SYSTEM, "NORMAL_TEMPORARY_FAILURE"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "gone"], queue="gone", ended_at=iso(1.02),
        hangup_cause="NORMAL_TEMPORARY_FAILURE", hangup_side="system")


def test_given_a_call_whose_engine_died_when_another_engine_ends_it_then_the_old_lost_record():
    # engine-a saw the call up to the answer and died; engine-b, restarted, ends it as lost at
    # the time engine-a was last alive, as fs_cc.engine.finish_abandoned did with the snapshot
    script = (CallScript().start(0).enter(0, "welcome").enter(2, "menu")
              .key(5, "menu", "1", "option").enter(5, "sales").queue(5.5, "sales")
              .answer(20, "1000")
              .end(50, HangupSide.SYSTEM, "NORMAL_TEMPORARY_FAILURE", engine="engine-b"))

    record = journal.fold(script.events)

    assert record.to_dict() == old_record(
        ivr_path=["welcome", "menu", "menu:1", "sales"], queue="sales", agent="1000",
        queued_at=iso(5.5), answered_at=iso(20), ended_at=iso(50),
        hangup_cause="NORMAL_TEMPORARY_FAILURE", hangup_side="system", wait_seconds=14.5,
        talk_seconds=30.0)


def test_given_a_call_adopted_by_another_engine_then_its_path_goes_on_in_time_order():
    # engine-z ran the IVR and died; engine-a (whose name sorts first) adopted the call
    script = (CallScript(engine="engine-z").start(0).enter(0, "welcome").enter(2, "menu")
              .at(40, events.CallAdopted, engine="engine-a", previous_engine="engine-z")
              .at(40, events.IvrNodeEntered, engine="engine-a", flow=FLOW, node="sorry")
              .end(45, HangupSide.SYSTEM, "NORMAL_CLEARING", engine="engine-a"))

    record = journal.fold(script.events)

    assert record.ivr_path == ["welcome", "menu", "sorry"]
    assert (record.started_at, record.ended_at) == (T0, T0 + datetime.timedelta(seconds=45))


def test_given_the_events_shuffled_when_folded_then_the_same_record():
    ordered = sales_call_agent_hangs_up().events
    expected = journal.fold(ordered).to_dict()
    shuffler = random.Random(20260302)

    for _ in range(25):
        shuffled = list(ordered)
        shuffler.shuffle(shuffled)
        assert journal.fold(shuffled).to_dict() == expected
    assert journal.fold(reversed(ordered)).to_dict() == expected


def test_given_a_transfer_to_another_queue_then_the_latest_queue_and_the_first_answer():
    script = (CallScript().start(0).queue(1, "sales").answer(5, "1000")
              .at(30, events.CallTransferred, target_kind=events.TransferKind.QUEUE,
                  target="support", by_agent="1000")
              .queue(30, "support").answer(40, "1001")
              .end(100, HangupSide.CALLER, "NORMAL_CLEARING")
              .end(101, HangupSide.SYSTEM, "NORMAL_TEMPORARY_FAILURE", engine="engine-b"))

    record = journal.fold(script.events)

    assert (record.queue, record.queued_at, record.agent, record.answered_at) == (
        "support", T0 + datetime.timedelta(seconds=1), "1000", T0 + datetime.timedelta(seconds=5))
    assert (record.hangup_side, record.hangup_cause, record.talk_seconds) == (
        HangupSide.CALLER, "NORMAL_CLEARING", 95.0)


def test_given_events_of_two_calls_when_folded_as_one_then_refused_naming_both():
    first = CallScript("call-1").start(0).end(10, HangupSide.CALLER, "NORMAL_CLEARING")
    second = CallScript("call-2").start(1).end(11, HangupSide.CALLER, "NORMAL_CLEARING")

    with pytest.raises(journal.MixedCalls) as caught:
        journal.fold(first.events + second.events)

    assert caught.value.call_uuids == ("call-1", "call-2")
    assert isinstance(caught.value, FsCcError)


def test_given_no_call_started_when_folded_then_refused_naming_the_call():
    script = CallScript("call-9").enter(0, "welcome").end(3, HangupSide.CALLER, "NORMAL_CLEARING")

    with pytest.raises(journal.NoCallStarted) as caught:
        journal.fold(script.events)

    assert caught.value.call_uuid == "call-9"
    with pytest.raises(journal.NoCallStarted):
        journal.fold([])


def test_given_agent_events_among_a_calls_then_they_leave_the_record_alone():
    script = CallScript().start(0).end(3, HangupSide.CALLER, "NORMAL_CLEARING")
    agent = events.AgentLoggedIn(engine="engine-a", seq=99, ts=T0, agent="1000", queue="sales")

    assert journal.fold([agent, *script.events]).to_dict() == journal.fold(script.events).to_dict()


def test_given_two_calls_interleaved_when_folded_many_then_one_record_each():
    first = CallScript("call-1").start(0).enter(1, "welcome").end(9, HangupSide.CALLER, "X")
    second = (CallScript("call-2").start(2, caller="+111").enter(3, "menu")
              .end(4, HangupSide.SYSTEM, "Y"))
    mixed = [event for pair in itertools.zip_longest(first.events, second.events)
             for event in pair if event is not None]

    records = journal.fold_many(mixed)

    assert sorted(records) == ["call-1", "call-2"]
    assert (records["call-1"].ivr_path, records["call-1"].hangup_cause) == (["welcome"], "X")
    assert (records["call-2"].caller_number, records["call-2"].ivr_path,
            records["call-2"].hangup_side) == ("+111", ["menu"], HangupSide.SYSTEM)


def test_given_a_record_dict_when_read_back_then_the_side_is_the_enum():
    record = journal.fold(sales_call_agent_hangs_up().events)

    again = CallRecord.from_dict(record.to_dict())

    assert again == record
    assert again.hangup_side is HangupSide.AGENT
    assert CallRecord.from_dict({"uuid": "u", "hangup_side": None}).hangup_side is None
