"""The control commands: one JSON encoding (the events' codec), strict decoding naming the field."""

import datetime
import json

import pytest

from fs_cc import codec
from fs_cc.control import commands
from fs_cc.control.commands import SuperviseMode
from fs_cc.events import TransferKind

SINCE = datetime.datetime(2026, 3, 2, 8, 0, tzinfo=datetime.timezone.utc)


def one_of_each():
    """One command of every type, with every field set."""
    return [
        commands.SetAgentStatus(agent="1000", status="break", reason="lunch"),
        commands.AgentLogin(agent="1000", queue="sales"),
        commands.AgentLogout(agent="1000", queue="sales"),
        commands.EndWrapUp(agent="1000"),
        commands.TransferCall(call_uuid="call-1", target_kind=TransferKind.QUEUE,
                              target="support", by_agent="1000"),
        commands.HangupCall(call_uuid="call-1", cause="CALL_REJECTED"),
        commands.SuperviseCall(call_uuid="call-1", supervisor="2000",
                               mode=SuperviseMode.WHISPER),
        commands.OriginateCallback(number="+3222001100", queue="sales", caller_id="4000",
                                   priority=5),
        commands.ReloadCatalog(),
        commands.QueueCallback(callback_id="cb-1", queue="sales", number="+32475000111",
                               since=SINCE, priority=5, skills={"fr": 2}, call_uuid="call-1",
                               attempts=1, not_before=SINCE + datetime.timedelta(minutes=5)),
        commands.CancelCallback(callback_id="cb-1", by="lead"),
        commands.RescheduleCallback(callback_id="cb-1", queue="sales", number="+32475000111",
                                    since=SINCE, priority=5, skills={"fr": 2}, call_uuid="call-1",
                                    attempts=0, not_before=SINCE + datetime.timedelta(hours=2),
                                    by="lead"),
        commands.HoldCall(call_uuid="call-1", by_agent="1000"),
        commands.UnholdCall(call_uuid="call-1", by_agent="1000"),
        commands.SendDtmf(call_uuid="call-1", digits="12#", by_agent="1000"),
        commands.MuteCall(call_uuid="call-1", by_agent="1000"),
        commands.UnmuteCall(call_uuid="call-1", by_agent="1000"),
        commands.DialNumber(agent="1000", number="+4930123456"),
        commands.ConsultCall(call_uuid="call-1", target_kind=TransferKind.NUMBER,
                             target="5551234", by_agent="1000"),
        commands.CompleteConsult(call_uuid="call-1", by_agent="1000"),
        commands.CancelConsult(call_uuid="call-1", by_agent="1000"),
        commands.ConferenceCall(call_uuid="call-1", by_agent="1000"),
        commands.SetCallerPriority(call_uuid="call-1", priority=7),
        commands.MoveCaller(call_uuid="call-1", queue="support"),
        commands.TakeOverCall(call_uuid="call-1", extension="2000"),
        commands.DispositionFiled(agent="1000", call_uuid="call-1"),
    ]


def with_fields(command, **changes):
    """The JSON text of ``command`` with fields changed (None: the field removed)."""
    data = commands.to_dict(command)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data)


def test_given_the_examples_then_every_command_type_is_covered():
    assert {type(command) for command in one_of_each()} == set(commands.COMMAND_TYPES.values())


@pytest.mark.parametrize("command", one_of_each(), ids=lambda command: command.TYPE)
def test_given_a_command_when_encoded_and_decoded_then_it_is_equal(command):
    text = commands.encode(command)

    assert json.loads(text)["type"] == command.TYPE
    assert commands.decode(text) == command


def test_given_a_transfer_when_encoded_then_the_wire_holds_the_type_and_enum_values():
    command = commands.TransferCall(call_uuid="call-1", target_kind=TransferKind.AGENT,
                                    target="1001")

    assert json.loads(commands.encode(command)) == {
        "type": "call.transfer", "call_uuid": "call-1", "target_kind": "agent",
        "target": "1001", "by_agent": None}


@pytest.mark.parametrize("text, command", [
    ('{"type": "agent.set_status", "agent": "1000", "status": "available"}',
     commands.SetAgentStatus(agent="1000", status="available", reason="")),
    ('{"type": "call.hangup", "call_uuid": "u"}',
     commands.HangupCall(call_uuid="u", cause="NORMAL_CLEARING")),
    ('{"type": "callback.originate", "number": "555", "queue": "sales"}',
     commands.OriginateCallback(number="555", queue="sales", caller_id="", priority=0)),
    ('{"type": "call.transfer", "call_uuid": "u", "target_kind": "number", "target": "555"}',
     commands.TransferCall(call_uuid="u", target_kind=TransferKind.NUMBER, target="555",
                           by_agent=None)),
    ('{"type": "catalog.reload"}', commands.ReloadCatalog()),
])
def test_given_a_field_left_out_that_has_a_default_when_decoding_then_the_default_is_used(
        text, command):
    assert commands.decode(text) == command


@pytest.mark.parametrize("index, changes, field, error", [
    (0, {"colour": "blue"}, "colour", codec.UnknownField),
    (0, {"agent": None}, "agent", codec.MissingField),
    (0, {"status": None}, "status", codec.MissingField),
    (0, {"agent": 1000}, "agent", codec.FieldError),  # a number where a text is due
    (0, {"agent": ""}, "agent", codec.FieldError),  # empty
    (4, {"target_kind": "planet"}, "target_kind", codec.FieldError),
    (4, {"by_agent": 7}, "by_agent", codec.FieldError),
    (6, {"mode": "shout"}, "mode", codec.FieldError),
    (6, {"supervisor": None}, "supervisor", codec.MissingField),
    (7, {"priority": "high"}, "priority", codec.FieldError),
    (7, {"priority": True}, "priority", codec.FieldError),  # a bool is no number here
    (8, {"queue": "sales"}, "queue", codec.UnknownField),
    (9, {"since": "yesterday"}, "since", codec.FieldError),
    (9, {"since": "2026-03-02T08:00:00"}, "since", codec.FieldError),  # no offset
    (9, {"skills": {"fr": "high"}}, "skills.fr", codec.FieldError),
    (9, {"callback_id": ""}, "callback_id", codec.FieldError),
    (10, {"callback_id": None}, "callback_id", codec.MissingField),
    (11, {"not_before": None}, "not_before", codec.MissingField),
])
def test_given_a_bad_field_when_decoding_then_it_is_refused_naming_the_field(index, changes,
                                                                           field, error):
    command = one_of_each()[index]

    with pytest.raises(error) as caught:
        commands.decode(with_fields(command, **changes))

    assert caught.value.field == field
    assert caught.value.kind == command.TYPE
    assert field in str(caught.value)


def test_given_an_unknown_type_when_decoding_then_it_is_refused_naming_the_type_field():
    with pytest.raises(commands.UnknownCommand) as caught:
        commands.decode('{"type": "agent.teleport", "agent": "1000"}')

    assert (caught.value.command_type, caught.value.field) == ("agent.teleport", "type")


@pytest.mark.parametrize("text", ["not json", b"\xff\xfe", "[1, 2]", '{"agent": "1000"}',
                                  '{"type": 3}', ""])
def test_given_a_text_that_is_no_command_object_when_decoding_then_it_is_malformed(text):
    with pytest.raises(commands.MalformedCommand) as caught:
        commands.decode(text)

    assert caught.value.field == "type"


def test_given_a_command_built_in_code_with_an_empty_target_then_it_is_refused():
    with pytest.raises(codec.FieldError) as caught:
        commands.HangupCall(call_uuid="")

    assert caught.value.field == "call_uuid"


def test_given_the_errors_then_each_knows_its_status_and_field():
    assert (commands.UnknownTarget("call_uuid", "u").status,
            commands.UnknownTarget("call_uuid", "u").field) == (404, "call_uuid")
    refused = commands.CommandRefused("call_uuid", "call u is not bridged")
    assert (refused.status, refused.field, str(refused)) == (409, "call_uuid",
                                                            "call u is not bridged")
