"""What the web app and tasks may ask an engine to do: typed commands, and what the engine answers.

A command is a frozen dataclass named by its ``TYPE`` ("agent.set_status"), encoded with
:mod:`fs_cc.codec` like the events, so a bad command is refused naming its field. The engine
implements :class:`ControlBackend`; its domain errors reach the HTTP boundary as the classes
below (or fs_cc.acd's own), never as built-in ``KeyError``/``ValueError``. Pure: no I/O.
"""

import dataclasses
import datetime
import enum
import json
import typing

from fs_cc import codec
from fs_cc.errors import FsCcError
from fs_cc.events import TransferKind


class SuperviseMode(enum.Enum):
    """How a supervisor joins a call (FreeSWITCH ``eavesdrop``: whisper is DTMF 2, barge 3)."""

    LISTEN = "listen"  # hears both parties, heard by nobody
    WHISPER = "whisper"  # heard by the agent only
    BARGE = "barge"  # heard by both


# -- the errors -------------------------------------------------------------------------------

class CommandError(FsCcError):
    """Base of the errors about commands: each knows its HTTP status and the field at fault."""

    status = 400
    field = None


class MalformedCommand(CommandError):
    """A body that is not a JSON object with a string ``"type"``."""

    field = "type"

    def __init__(self, reason):
        self.reason = reason
        super().__init__(f"malformed command: {reason}")


class UnknownCommand(CommandError):
    """A ``"type"`` that names no command."""

    field = "type"

    def __init__(self, command_type):
        self.command_type = command_type
        super().__init__(f"unknown command type {command_type!r}")


class UnknownTarget(CommandError):
    """The agent, call or queue a command names does not exist on this engine."""

    status = 404

    def __init__(self, field, value):
        self.field = field
        self.value = value
        super().__init__(f"no {field} {value!r}")


class CommandRefused(CommandError):
    """The engine knows the target but will not do this now (the call is not bridged...)."""

    status = 409

    def __init__(self, field, reason):
        self.field = field
        self.reason = reason
        super().__init__(reason)


# -- the commands -----------------------------------------------------------------------------

COMMAND_TYPES = {}  # "agent.set_status" -> SetAgentStatus


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """What every command is: a frozen value whose required texts are not empty."""

    TYPE: typing.ClassVar[str] = ""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.default is dataclasses.MISSING and isinstance(value, str) and not value:
                raise codec.FieldError(self.TYPE, field.name, "must not be empty")


def _command(name):
    """Make a frozen, slotted, keyword-only dataclass of the class and register it as ``name``."""

    def register(cls):
        cls = dataclasses.dataclass(frozen=True, slots=True, kw_only=True)(cls)
        cls.TYPE = name
        COMMAND_TYPES[name] = cls
        return cls

    return register


@_command("agent.set_status")
class SetAgentStatus(Command):
    """Move an agent to a status ("available", "break", "logged_out"...), saying why."""

    agent: str
    status: str  # the engine parses it (InvalidStatus names what it accepts)
    reason: str = ""


@_command("agent.login")
class AgentLogin(Command):
    """Log an agent in to a queue."""

    agent: str
    queue: str


@_command("agent.logout")
class AgentLogout(Command):
    """Log an agent out of a queue."""

    agent: str
    queue: str


@_command("agent.end_wrap_up")
class EndWrapUp(Command):
    """End an agent's wrap-up: ready for the next call."""

    agent: str


@_command("call.transfer")
class TransferCall(Command):
    """Send a call to an agent, a queue, an IVR flow or an outside number."""

    call_uuid: str
    target_kind: TransferKind
    target: str
    by_agent: typing.Optional[str] = None  # None: the system (a supervisor's screen, a task)


@_command("call.hold")
class HoldCall(Command):
    """Put the caller of a call connected to an agent on hold music."""

    call_uuid: str
    by_agent: typing.Optional[str] = None  # None: the system (a supervisor's screen, a task)


@_command("call.unhold")
class UnholdCall(Command):
    """Take a held caller off hold: talking to the agent again."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


@_command("call.mute")
class MuteCall(Command):
    """Mute the agent's microphone towards the other party of a call."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


@_command("call.unmute")
class UnmuteCall(Command):
    """Let the other party hear the agent again."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


@_command("call.consult")
class ConsultCall(Command):
    """Put the caller aside and call a second party (an agent or a number) to talk first."""

    call_uuid: str
    target_kind: TransferKind  # agent or number
    target: str
    by_agent: typing.Optional[str] = None


@_command("call.consult_complete")
class CompleteConsult(Command):
    """Bridge the caller to the consulted party; the agent goes to wrap-up."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


@_command("call.consult_cancel")
class CancelConsult(Command):
    """Hang up the consulted party; the agent talks to the caller again."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


@_command("call.conference")
class ConferenceCall(Command):
    """Join the caller, the agent and the consulted party in one three-way conference."""

    call_uuid: str
    by_agent: typing.Optional[str] = None


DIAL_CHARACTERS = frozenset("0123456789+*#")
DIAL_MAX = 32


@_command("agent.dial")
class DialNumber(Command):
    """Ring the agent's phone, then call ``number`` (digits, +, * and #, at most 32)."""

    agent: str
    number: str

    def __post_init__(self):
        super(DialNumber, self).__post_init__()
        if len(self.number) > DIAL_MAX:
            raise codec.FieldError(self.TYPE, "number", f"at most {DIAL_MAX} characters")
        if not set(self.number) <= DIAL_CHARACTERS:
            raise codec.FieldError(self.TYPE, "number", "only digits, +, * and #")


DTMF_DIGITS = frozenset("0123456789*#ABCD")
DTMF_MAX = 32


@_command("call.send_dtmf")
class SendDtmf(Command):
    """Send DTMF digits (0-9 * # A-D, at most 32) to the caller's leg (an outside IVR...)."""

    call_uuid: str
    digits: str
    by_agent: typing.Optional[str] = None

    def __post_init__(self):
        super(SendDtmf, self).__post_init__()
        if len(self.digits) > DTMF_MAX:
            raise codec.FieldError(self.TYPE, "digits", f"at most {DTMF_MAX} digits")
        if not set(self.digits) <= DTMF_DIGITS:
            raise codec.FieldError(self.TYPE, "digits", "only 0-9, *, # and A-D")


@_command("call.hangup")
class HangupCall(Command):
    """Hang up a call with a FreeSWITCH hangup cause."""

    call_uuid: str
    cause: str = "NORMAL_CLEARING"


@_command("call.supervise")
class SuperviseCall(Command):
    """Ring a supervisor's extension into a call, listening, whispering or barging."""

    call_uuid: str
    supervisor: str  # the supervisor's extension
    mode: SuperviseMode


@_command("callback.originate")
class OriginateCallback(Command):
    """Call a number back and queue the answered call like a caller."""

    number: str
    queue: str
    caller_id: str = ""
    priority: int = 0


@_command("callback.queue")
class QueueCallback(Command):
    """Hold a callback request and call back when an agent of its queue is free.

    The worker re-sends every open request (an engine that restarted lost them): an engine that
    holds it, or has just finished it, ignores it. ``since`` keeps the caller's place.
    """

    callback_id: str
    queue: str
    number: str
    since: datetime.datetime
    priority: int = 0
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    call_uuid: str = ""  # the call that asked
    attempts: int = 0  # customer calls made already
    not_before: typing.Optional[datetime.datetime] = None


@_command("callback.cancel")
class CancelCallback(Command):
    """Cancel a callback that is not in progress (``by``: who asked)."""

    callback_id: str
    by: str = ""


@_command("callback.reschedule")
class RescheduleCallback(QueueCallback):
    """Try a callback (pending, failed or cancelled) again from ``not_before``, keeping its place."""

    not_before: datetime.datetime
    by: str = ""


@_command("catalog.reload")
class ReloadCatalog(Command):
    """Read the queues and agents again from where they are defined."""


PRIORITY_MAX = 100


@_command("call.set_priority")
class SetCallerPriority(Command):
    """Change a waiting caller's priority (0 to 100, higher served first; its wait counts)."""

    call_uuid: str
    priority: int

    def __post_init__(self):
        super(SetCallerPriority, self).__post_init__()
        if isinstance(self.priority, bool) or not 0 <= self.priority <= PRIORITY_MAX:
            raise codec.FieldError(self.TYPE, "priority", f"a whole number from 0 to {PRIORITY_MAX}")


@_command("call.move")
class MoveCaller(Command):
    """Move a waiting caller to another queue, keeping its place (time in line, priority)."""

    call_uuid: str
    queue: str


@_command("call.take_over")
class TakeOverCall(Command):
    """Ring ``extension`` (a supervisor's phone); once answered the caller is bridged to it and
    the agent goes to wrap-up."""

    call_uuid: str
    extension: str


@_command("agent.disposition_filed")
class DispositionFiled(Command):
    """The desktop filed the agent's call: its wrap-up may end (fs_cc.acd.presence)."""

    agent: str
    call_uuid: str


# -- the encoding -----------------------------------------------------------------------------

def to_dict(command):
    """A JSON-safe dict of the command with its ``"type"``."""
    return codec.to_dict(command)


def encode(command):
    """The one JSON text of a command: the events' (compact, keys sorted, UTF-8)."""
    return codec.encode(command)


def from_dict(data):
    """The command a dict from :func:`to_dict` describes; codec.FieldError names a bad field."""
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise MalformedCommand('not an object with a string "type"')
    cls = COMMAND_TYPES.get(data["type"])
    if cls is None:
        raise UnknownCommand(data["type"])
    return codec.from_dict(cls, data)


def decode(text):
    """The command a JSON text (str or bytes) from :func:`encode` holds."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:  # json's own errors: the body is not JSON
        raise MalformedCommand(f"not JSON: {exc}") from exc
    return from_dict(data)


# -- what the engine offers -------------------------------------------------------------------

class AgentView(typing.TypedDict):
    """One agent as ``agents()`` lists it (fs_cc.acd.agents.Agent.to_dict)."""

    extension: str
    name: str
    queues: typing.List[str]
    status: str  # an fs_cc.acd.agents.AgentStatus value
    status_since: typing.Optional[str]  # ISO 8601 UTC
    last_call_ended_at: typing.Optional[str]
    skills: typing.Dict[str, int]  # skill name -> level


class QueueView(typing.TypedDict):
    """One queue as ``queues()`` lists it (fs_cc.acd.acd.ACD.queues)."""

    name: str
    strategy: str
    waiting: int
    agents_available: int
    agents_logged_in: int


class CallView(typing.TypedDict):
    """One call in progress as ``calls()`` lists it: the session and its legs (Channel.to_dict)."""

    uuid: str
    caller: str
    did: str
    started_at: typing.Optional[str]
    legs: typing.List[dict]


class IvrTrail(typing.TypedDict):
    """The IVR a call went through: its flow, the nodes entered in order and the keys read."""

    flow: typing.Optional[str]
    path: typing.List[str]  # node names, the latest 200 (fs_cc.livecalls.KEEP_IVR)
    inputs: typing.List[dict]  # {"node", "input", "result"} of each IvrInput; secret ones masked


class CallContext(typing.TypedDict):
    """One call as ``call_context(uuid)`` tells it: what the agent desktop's screen pop shows."""

    uuid: str
    caller: str  # a callback's: the customer's number
    caller_name: str
    did: str  # "callback" for a callback's call
    state: str  # an fs_cc.events.CallState value ("ended" in wrap-up)
    queue: typing.Optional[str]  # the latest queue
    agent: typing.Optional[str]  # the agent who answered
    offered_to: typing.Optional[str]  # the agent whose phone rings (or rang) for it
    started_at: str  # ISO 8601 UTC
    queued_at: typing.Optional[str]  # the first queue's (a callback's: the request's place)
    waited: typing.Optional[float]  # seconds from queued_at to the latest offer or the answer
    ivr: IvrTrail
    origin: str  # fs_cc.livecalls.CallOrigin: "inbound", "callback" or "adopted"


@typing.runtime_checkable
class ControlBackend(typing.Protocol):
    """What an engine offers its control interface.

    ``execute`` raises UnknownTarget, CommandRefused or fs_cc.acd.agents' UnknownAgent,
    UnknownQueue, InvalidStatus, InvalidTransition for what it will not do; anything else it
    raises is a bug (a 500).
    """

    def agents(self) -> typing.List[AgentView]:
        """Each agent's live state."""

    def queues(self) -> typing.List[QueueView]:
        """Each queue's live figures."""

    def calls(self) -> typing.List[CallView]:
        """Calls in progress with their legs."""

    def call_context(self, uuid: str) -> CallContext:
        """One call in progress, or lately ended, as the screen pop shows it; UnknownTarget
        (field ``call_uuid``) for a call the engine does not know."""

    def execute(self, command: Command) -> dict:
        """Carry out ``command``; a JSON-safe dict of what it did (the agent after, the job...)."""
