"""The supervisor's commands on a real Engine and the `switch` fixture (the emulator, or a real
test switch): a call taken over by the supervisor's phone, a waiting caller moved to another
queue or given a higher priority, and what is refused, naming the field."""

import dataclasses

import pytest

from fs_cc import events
from fs_cc.acd.agents import UnknownAgent, UnknownQueue
from fs_cc.acd.waiting import Phase
from fs_cc.control import commands as cmd
from fs_cc.events import QueueOutcome, TransferKind
from tests.acd import test_call_controls
from tests.switch import wait_until

DID = test_call_controls.DID
make_desk = test_call_controls.make_desk  # the fixture: an engine on the switch
SUPERVISOR = "2000"  # the supervisor's own phone, not an ACD agent


def waiting_call(desk):
    """Place a caller into sales (menu key 1) and wait until it waits in line there."""
    desk.switch.place_call(DID, caller_number="5551234", dtmf="1")
    return wait_until(lambda: next(
        (c for c in desk.engine.acd.callers.values()
         if c.phase is Phase.WAITING and c.queue == "sales"), None),
        10 + desk.switch.real_seconds(20), "caller waiting in sales")


def refused(desk, command):
    with pytest.raises((cmd.CommandError, UnknownQueue)) as error:
        desk.execute(command)
    return error.value.field


def test_given_a_connected_call_when_taken_over_then_bridged_to_the_supervisor_and_agent_wraps_up(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    desk.switch.set_agent(SUPERVISOR, answer_delay=0.5)
    caller, _ = desk.connected_call()
    uuid, old_leg = caller.call_uuid, caller.leg

    answer = desk.execute(cmd.TakeOverCall(call_uuid=uuid, extension=SUPERVISOR))

    assert answer["ringing"] is True and answer["extension"] == SUPERVISOR
    wait_until(lambda: desk.bridged(uuid) == answer["leg_uuid"], 10 + desk.switch.real_seconds(5),
               "caller bridged to the supervisor's leg")
    wait_until(lambda: not desk.exists(old_leg), 10, "the agent's leg gone")
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    assert caller.agent is None and caller.leg == answer["leg_uuid"]
    (moved,) = desk.of(events.CallTransferred, uuid)
    assert (moved.target_kind, moved.target, moved.by_agent) == (TransferKind.AGENT, SUPERVISOR,
                                                                 None)


def test_given_a_waiting_caller_when_moved_to_another_queue_then_its_agent_answers_it(make_desk):
    desk = make_desk(agents=(("1000", ("sales",)), ("1001", ("support",))))
    wait_until(lambda: desk.agent("1000") == "available", 10, "agent 1000 logged in")
    desk.execute(cmd.SetAgentStatus(agent="1000", status="break", reason="lunch"))
    caller = waiting_call(desk)
    uuid = caller.call_uuid

    assert desk.execute(cmd.SetCallerPriority(call_uuid=uuid, priority=7))["priority"] == 7
    answer = desk.execute(cmd.MoveCaller(call_uuid=uuid, queue="support"))

    assert answer == {"call_uuid": uuid, "queue": "support", "priority": 7}
    wait_until(lambda: caller.agent == "1001", 10 + desk.switch.real_seconds(20),
               "answered by the support agent")
    left = [e for e in desk.of(events.QueueLeft, uuid) if e.queue == "sales"]
    assert [e.outcome for e in left] == [QueueOutcome.TRANSFERRED]
    assert [(e.queue, e.priority) for e in desk.of(events.CallQueued, uuid)][-1] == ("support", 7)


def test_given_commands_that_cannot_apply_then_refused_naming_the_field(make_desk):
    desk = make_desk(agents=(("1000", ("sales", "support")),))
    caller, _ = desk.connected_call()
    uuid = caller.call_uuid

    assert refused(desk, cmd.MoveCaller(call_uuid=uuid, queue="support")) == "call_uuid"
    assert refused(desk, cmd.MoveCaller(call_uuid=uuid, queue="nowhere")) == "queue"
    assert refused(desk, cmd.MoveCaller(call_uuid="no-such-call", queue="support")) == "call_uuid"
    assert refused(desk, cmd.SetCallerPriority(call_uuid=uuid, priority=3)) == "call_uuid"
    assert refused(desk, cmd.SetCallerPriority(call_uuid="no-such-call", priority=3)) == "call_uuid"
    assert refused(desk, cmd.TakeOverCall(call_uuid=uuid, extension="1000")) == "extension"
    assert refused(desk, cmd.TakeOverCall(call_uuid="no-such-call", extension=SUPERVISOR)) \
        == "call_uuid"
    assert desk.bridged(uuid) == caller.leg and desk.agent("1000") == "on_call"


def test_given_a_priority_out_of_range_when_the_command_is_read_then_refused_naming_priority():
    for bad in (-1, cmd.PRIORITY_MAX + 1, True):
        with pytest.raises(Exception) as error:
            cmd.from_dict({"type": "call.set_priority", "call_uuid": "c-1", "priority": bad})
        assert error.value.field == "priority"


def test_given_a_desk_agent_owing_a_disposition_when_the_desktop_files_it_then_available(
        make_desk):
    desk = make_desk(agents=(("1000", ("sales",)),))
    desk.engine.acd.presence.desk_agents = frozenset({"1000"})  # as a catalog user link makes it
    # no wrap-up time: only the disposition owed keeps the agent in wrap-up
    desk.engine.acd.set_queues([dataclasses.replace(queue, wrap_up=0.0)
                                for queue in desk.engine.acd.queue_definitions()])
    caller, _ = desk.connected_call()
    uuid = caller.call_uuid
    desk.engine.ctl.kill(caller.leg, "NORMAL_CLEARING")  # the agent hangs up
    wait_until(lambda: desk.agent("1000") == "wrap_up", 10, "agent 1000 in wrap-up")
    with pytest.raises(UnknownAgent):
        desk.execute(cmd.DispositionFiled(agent="4242", call_uuid=uuid))

    answer = desk.execute(cmd.DispositionFiled(agent="1000", call_uuid=uuid))

    assert answer["agent"]["status"] == "available"
