"""A caller in the ACD's hands: what it asked for, where it is, and the ticket its owner waits on."""

import dataclasses
import enum
import typing

import gevent.event

from fs_cc.acd.skills import relaxed
from fs_cc.events import HangupSide, QueueOutcome


class Phase(enum.Enum):
    """Where a queued caller is inside the ACD."""

    WAITING = "waiting"  # in line, with music
    OFFERING = "offering"  # an agent's phone rings for it
    CONNECTED = "connected"  # bridged to an agent
    DONE = "done"  # its ticket is resolved


@dataclasses.dataclass(frozen=True)
class QueueResult:
    """How a caller's time in a queue ended; for an answered call, also how the call ended."""

    outcome: QueueOutcome
    agent: typing.Optional[str] = None
    side: typing.Optional[HangupSide] = None  # set once the call is over (answered or hung up)
    cause: typing.Optional[str] = None
    target: typing.Optional[str] = None  # outcome transferred: the IVR flow the caller goes on in


@dataclasses.dataclass(eq=False)
class Caller:
    """One call waiting in (or served from) a queue; only the ACD's greenlets change it."""

    call_uuid: str
    queue: str
    priority: int = 0
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)  # asked, merged
    relax: tuple = ()  # the queue's relaxation steps (fs_cc.acd.skills.RelaxStep)
    relaxed: int = 0  # how many of them came due
    caller_number: str = ""
    since: float = 0.0  # epoch seconds it joined the line (kept when an offer fails)
    max_wait: typing.Optional[float] = None
    exit_key: typing.Optional[str] = None
    keep: bool = False  # parked, not hung up, when the agent leaves: its flow goes on
    phase: Phase = Phase.WAITING
    tried: typing.Dict[str, float] = dataclasses.field(default_factory=dict)  # ext -> when it failed
    agent: typing.Optional[str] = None
    leg: typing.Optional[str] = None  # the agent's (or outside party's) leg while connected
    connected_at: float = 0.0  # the ACD's monotonic clock when the current bridge was made
    held: bool = False  # put on hold by the agent (fs_cc.acd.transfer.CallControls)
    # a transfer under way: the end of the agent's leg is then no hangup (fs_cc.acd.transfer)
    handover: typing.Optional[typing.Any] = None
    hangup_event: typing.Optional[typing.Mapping] = None  # the caller channel's CHANNEL_HANGUP
    hangup_cause: typing.Optional[str] = None
    unbridges: list = dataclasses.field(default_factory=list)  # its CHANNEL_UNBRIDGE events
    hungup: gevent.event.Event = dataclasses.field(default_factory=gevent.event.Event)
    # set once hangup_after_bridge is set and the music started: an offer bridges only then
    prepared: gevent.event.Event = dataclasses.field(default_factory=gevent.event.Event)
    ticket: gevent.event.AsyncResult = dataclasses.field(default_factory=gevent.event.AsyncResult)
    greenlets: list = dataclasses.field(default_factory=list)  # its watch and timer

    @property
    def required(self):
        """The skills asked of an agent now: the ask, relaxed by the steps that came due."""
        return relaxed(self.skills, self.relax, self.relaxed)

    def qualifies(self, agent):
        """Whether ``agent`` has the skills this caller asks for now."""
        return agent.qualifies(self.required)

    def hung_up(self, cause, event=None):
        """Note the caller's hangup (first report wins)."""
        if self.hungup.is_set():
            return False
        self.hangup_cause = cause or (event.get("Hangup-Cause") if event is not None else None)
        self.hangup_event = event
        self.hungup.set()
        return True

    def resolve(self, result):
        """Give the ticket its result once; later results are ignored."""
        if self.ticket.ready():
            return False
        self.phase = Phase.DONE
        self.ticket.set(result)
        return True
