"""The IVR's facts beyond the nodes: recordings, voicemail, SMS, surveys, flow versions, lookups."""

import typing

from fs_cc.events.base import CallEvent, Event, _event
from fs_cc.states import CallState

# -- IVR messages: recordings, voicemail, SMS, surveys (fs_cc.ivr.nodes_record, nodes_sms,
# nodes_survey; stored by web.messages) ---------------------------------------------------------

@_event("call.message_recorded")
class MessageRecorded(CallEvent):
    """A record node recorded the caller to ``path`` (``duration_ms``, ``size`` when known).

    ``cause`` says how it ended: ``terminator`` (the caller's key), ``silence``, ``max_time`` or
    ``hangup`` (the caller hung up while recording: the partial message is kept).
    """

    flow: str
    node: str
    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    cause: str = ""


@_event("call.voicemail_left")
class VoicemailLeft(CallEvent):
    """The caller left a message in ``box`` (``queue:NAME`` or ``agent:EXT``) at ``path``.

    ``email`` is the node's own recipient (None: the box's owner's or the deployment's).
    """

    flow: str
    node: str
    box: str
    path: str
    duration_ms: typing.Optional[int] = None
    size: typing.Optional[int] = None
    caller_number: str = ""
    email: typing.Optional[str] = None


@_event("call.sms_requested")
class SmsRequested(CallEvent):
    """Send ``text`` to ``number``; ``request_id`` names the request once, whatever retries."""

    flow: str
    node: str
    request_id: str
    number: str
    text: str


@_event("call.survey_answered")
class SurveyAnswered(CallEvent):
    """The caller rated the call ``score`` (1-5; None: no valid key); ``agent`` who answered it."""

    flow: str
    node: str
    score: typing.Optional[int]
    agent: typing.Optional[str] = None
    queue: typing.Optional[str] = None


# -- IVR flow versions (fs_cc.ivr.versions) ---------------------------------------------------

@_event("call.flow_started")
class FlowStarted(CallEvent):
    """The call began to run an IVR flow: which flow, at which version (None: not yet numbered,
    the ``sha256`` of its YAML text names it then), so its record says what the caller heard."""

    flow: str
    sha256: str
    version: typing.Optional[int] = None


@_event("flow.version_loaded")
class FlowVersionLoaded(Event):
    """The engine took a flow's YAML text into use (started, reloaded, or a file changed on
    disk); the worker keeps the text as a new version when its sha256 is not the current one."""

    flow: str
    sha256: str
    text: str
    path: str = ""
    version: typing.Optional[int] = None  # the stored version of this text, when known


@_event("call.ivr_lookup", CallState.IVR)
class IvrLookup(CallEvent):
    """A lookup node asked data source ``source``: ``result`` is found, not_found, failed or
    hung_up (the caller left while it waited), after ``elapsed_ms``."""

    flow: str
    node: str
    source: str
    result: str
    elapsed_ms: int
