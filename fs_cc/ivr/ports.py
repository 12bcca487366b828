"""What the IVR needs from a call and from the ACD, as Protocols the real parts and doubles share."""

import typing

import gevent.event


@typing.runtime_checkable
class CallChannel(typing.Protocol):
    """The caller's channel as the flow drives it (fs_cc.esl.session.CallSession is one)."""

    uuid: str
    caller_number: str
    destination_number: str
    hangup_cause: typing.Optional[str]
    hangup_event: typing.Optional[typing.Mapping]  # its CHANNEL_HANGUP, once heard
    hungup: gevent.event.Event

    @property
    def is_up(self) -> bool:
        """Whether the channel is still up."""

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        """Run a dialplan application; its CHANNEL_EXECUTE_COMPLETE event."""

    def hangup(self, cause="NORMAL_CLEARING"):
        """Hang the channel up."""

    def set_var(self, name, value):
        """Set a channel variable."""

    def get_var(self, name, default=None):
        """A channel variable's value as the channel's events told it."""

    def on(self, event_name, handler):
        """Call ``handler(event)`` for the channel's events of that name."""


@typing.runtime_checkable
class Queueing(typing.Protocol):
    """The ACD as the flow's queue node uses it (fs_cc.acd.ACD is one)."""

    def enqueue(self, call_uuid, queue_name, *, priority=0, skills=None, caller_number="",
                since=None, max_wait=None, exit_key=None,
                keep_caller=False) -> gevent.event.AsyncResult:
        """Put a call in line; the ticket resolves with a fs_cc.acd.QueueResult."""

    def caller_gone(self, call_uuid, cause=None, event=None):
        """The caller hung up (as its own socket heard it)."""

    def caller_unbridged(self, call_uuid, event):
        """The caller's bridge ended (its own socket's CHANNEL_UNBRIDGE)."""


@typing.runtime_checkable
class CallbackRequests(typing.Protocol):
    """Where callback nodes record requests (fs_cc.acd.callbacks.CallbackDesk is one)."""

    def request(self, queue, number, *, since=None, priority=0, skills=None, call_uuid="",
                caller_number=""):
        """Record a request (its ``callback_id``); InvalidNumber, UnknownQueue when refused."""

    def estimated_wait(self, queue) -> typing.Optional[float]:
        """Seconds a caller joining ``queue`` now would wait (None: unknown)."""
