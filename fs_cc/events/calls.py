"""The facts of a call: from the switch to the IVR, the queue, the agent, the controls, its end."""

import types
import typing

from fs_cc.events.base import CallEvent, Event, _event
from fs_cc.states import CallState, HangupSide, OfferFailure, QueueOutcome, TransferKind


@_event("call.started", CallState.RINGING)
class CallStarted(CallEvent):
    """A call reached the engine."""

    did: str
    caller_number: str
    caller_name: str = ""


@_event("call.ivr_node_entered", CallState.IVR)
class IvrNodeEntered(CallEvent):
    """The call's IVR flow entered a node."""

    flow: str
    node: str


@_event("call.ivr_node_left", CallState.IVR)
class IvrNodeLeft(CallEvent):
    """The call's IVR flow left a node, with what the caller keyed and where it led."""

    flow: str
    node: str
    input: typing.Optional[str]
    outcome: str


@_event("call.ivr_input", CallState.IVR)
class IvrInput(CallEvent):
    """One attempt at a menu or collect node: the keys read (None: none) and what they meant.

    ``result`` is ``"option"`` (the keys lead somewhere), ``"invalid"`` or ``"timeout"``.
    """

    flow: str
    node: str
    input: typing.Optional[str]
    result: str


@_event("call.queued", CallState.QUEUED)
class CallQueued(CallEvent):
    """The call waits in a queue; ``skills`` maps skill name to the minimum level asked."""

    queue: str
    priority: int
    skills: typing.Mapping[str, int]
    position: int

    def __post_init__(self):
        Event.__post_init__(self)
        object.__setattr__(self, "skills", types.MappingProxyType(dict(self.skills)))


@_event("call.queue_left")
class QueueLeft(CallEvent):
    """The caller's time in ``queue`` ended, and how; waited ``waited`` seconds in line."""

    queue: str
    outcome: QueueOutcome
    waited: float = 0.0
    position: typing.Optional[int] = None  # its place in line then (None: being offered)


@_event("call.priority_changed")
class CallPriorityChanged(CallEvent):
    """A waiting caller's priority in ``queue`` changed (the router looks again)."""

    queue: str
    priority: int


@_event("call.adopted")
class CallAdopted(CallEvent):
    """A restarted engine took back a call FreeSWITCH kept while the engine was down."""

    previous_engine: str
    queue: typing.Optional[str] = None


@_event("call.offered", CallState.OFFERING)
class OfferedToAgent(CallEvent):
    """An agent's phone rings for the call on leg ``leg_uuid``."""

    agent: str
    leg_uuid: str
    queue: typing.Optional[str]


@_event("call.offer_failed", CallState.QUEUED)
class OfferFailed(CallEvent):
    """Ringing an agent did not connect them; ``hangup_cause`` is FreeSWITCH's own word."""

    agent: str
    leg_uuid: str
    cause: OfferFailure
    hangup_cause: str = ""


@_event("call.answered", CallState.CONNECTED)
class AnsweredByAgent(CallEvent):
    """The agent answered and is bridged to the caller."""

    agent: str
    leg_uuid: str


@_event("call.transferred")
class CallTransferred(CallEvent):
    """The call was sent elsewhere (by an agent, or by the system when ``by_agent`` is None)."""

    target_kind: TransferKind
    target: str
    by_agent: typing.Optional[str]


@_event("call.held", CallState.HELD)
class CallHeld(CallEvent):
    """The caller was put on hold."""

    by_agent: typing.Optional[str] = None


@_event("call.unheld", CallState.CONNECTED)
class CallUnheld(CallEvent):
    """The caller was taken off hold."""

    by_agent: typing.Optional[str] = None


@_event("call.consult_started")
class ConsultStarted(CallEvent):
    """The agent put the caller aside to call a second party (leg ``leg_uuid``) first."""

    target_kind: TransferKind
    target: str
    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.consult_ended")
class ConsultEnded(CallEvent):
    """A consult ended: ``completed`` (the caller went to that party), ``cancelled``, ``failed``
    (not answered) or ``ended`` (a hangup meanwhile)."""

    leg_uuid: str
    outcome: str
    cause: str = ""
    by_agent: typing.Optional[str] = None


@_event("call.conference_started")
class ConferenceStarted(CallEvent):
    """The caller, the agent's leg and a third party's leg were joined in conference ``room``."""

    room: str
    agent_leg: str
    party_leg: str
    by_agent: typing.Optional[str] = None


@_event("call.muted")
class CallMuted(CallEvent):
    """The agent's microphone was muted towards the call (its leg ``leg_uuid``)."""

    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.unmuted")
class CallUnmuted(CallEvent):
    """The agent is heard on the call again."""

    leg_uuid: str
    by_agent: typing.Optional[str] = None


@_event("call.recording_started")
class RecordingStarted(CallEvent):
    """The call is being recorded to ``path`` (``mode`` mixed or stereo, for a queue's agent)."""

    path: str
    mode: str = "mixed"
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None


@_event("call.recording_stopped")
class RecordingStopped(CallEvent):
    """The recording to ``path`` stopped: its length and size as the switch wrote it.

    ``cause`` is FreeSWITCH's Record-Completion-Cause (``success-silence``, ``empty-file``...);
    ``discarded`` is true when the switch threw the file away (too short, nothing heard).
    """

    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    cause: str = ""
    discarded: bool = False


@_event("call.recording_failed")
class RecordingFailed(CallEvent):
    """The switch refused to record the call to ``path``; ``reason`` is its answer."""

    path: str
    reason: str


@_event("call.ended", CallState.ENDED)
class CallEnded(CallEvent):
    """The call is over: who hung up and FreeSWITCH's hangup cause."""

    side: HangupSide
    cause: str
