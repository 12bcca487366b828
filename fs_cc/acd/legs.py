"""Following an agent's leg to its end, also across a lost ESL link.

While the inbound ESL link is down the leg's events are lost. After the reconnect the engine's
``show channels`` resync reports the legs that vanished meanwhile (:meth:`LegFollower.vanished`);
if no report comes for a leg within ``resync_grace`` seconds, ``uuid_exists`` settles it.
"""

import contextlib
import dataclasses
import logging
import time
import typing

from gevent.event import AsyncResult

from fs_cc.esl.errors import ConnectionLost, ESLError, ESLTimeout, NotConnectedError

logger = logging.getLogger(__name__)

HANGUP_EVENTS = ("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE")
DEFAULT_CAUSE = "NORMAL_CLEARING"  # a leg that vanished unseen: its cause is unknown


def event_timestamp(event):
    """Event-Date-Timestamp (microseconds) of an event, or None."""
    return _int_header(event, "Event-Date-Timestamp")


def event_sequence(event):
    """Event-Sequence of an event, or None: FreeSWITCH numbers every event it fires, in order."""
    return _int_header(event, "Event-Sequence")


def _int_header(event, name):
    try:
        return int(event.get(name))
    except (TypeError, ValueError, AttributeError):
        return None


def fired_before(first, second):
    """True when event ``first`` was fired before ``second`` by the same switch; None if unknown.

    Event-Sequence is one counter for the whole switch, so it orders the events of the two
    sockets; Event-Date-Timestamp cannot, as FreeSWITCH's event clock moves in 20 ms steps and
    both legs' hangups often carry the same value.
    """
    one, other = event_sequence(first), event_sequence(second)
    if one is not None and other is not None:
        return one < other
    one, other = event_timestamp(first), event_timestamp(second)
    if one is not None and other is not None and one != other:
        return one < other
    return None


@dataclasses.dataclass(frozen=True)
class LegEnd:
    """How an agent leg ended: its cause, its hangup event if seen live (None: learned after a reconnect)."""

    cause: str
    event: typing.Optional[typing.Mapping] = None

    @property
    def seen(self):
        """Whether the leg's hangup event was seen (False: resync report or uuid_exists)."""
        return self.event is not None

    @classmethod
    def from_event(cls, event):
        """The end a CHANNEL_HANGUP(_COMPLETE) event tells."""
        return cls(event.get("Hangup-Cause") or DEFAULT_CAUSE, event)


def agent_left_first(caller_hangup, agent_end, caller_unbridges=()):
    """Who ended a connected call: True for the agent, False for the caller.

    ``caller_hangup``: the caller channel's CHANNEL_HANGUP (None while it is up); ``agent_end``:
    the agent leg's LegEnd (None if unknown); ``caller_unbridges``: the caller channel's
    CHANNEL_UNBRIDGE events.
    """
    if caller_hangup is None:
        return agent_end is not None
    if agent_end is not None and agent_end.seen:
        # both hangups seen: the switch's event order tells which leg went first
        return fired_before(agent_end.event, caller_hangup) is not False
    # The agent leg's hangup was not seen (the ESL link was down); the caller's channel tells:
    # the bridge ends after the hangup of the leg that leaves, before that of the leg left alone.
    return any(fired_before(event, caller_hangup) for event in caller_unbridges)


class LegFollower:
    """Tells when agent legs end: by their watch, after a lost link by resync report or uuid_exists."""

    def __init__(self, esl, *, resync_grace=3.0, link_poll=0.1):
        self.esl = esl
        self.resync_grace = resync_grace  # how long after a reconnect to wait for a resync report
        self.link_poll = link_poll  # how often to look at the link while it is down
        self._gone = {}  # leg uuid -> AsyncResult of its LegEnd, for legs being followed

    @contextlib.contextmanager
    def follow(self, leg):
        """Within the block, a resync report of ``leg`` sets the yielded AsyncResult (a LegEnd)."""
        gone = self._gone[leg] = AsyncResult()
        try:
            yield gone
        finally:
            if self._gone.get(leg) is gone:
                del self._gone[leg]

    def followed(self):
        """The uuids of the legs being followed."""
        return set(self._gone)

    def vanished(self, legs):
        """Legs (fs_cc.channels.Channel) that ended unseen; returns the uuids that were followed."""
        ended = []
        for leg in legs:
            call = leg.variables.get("fs_cc_call_uuid")
            gone = self._gone.get(leg.uuid)
            if gone is None:
                logger.warning("agent %s: leg %s of call %s ended while the ESL link was down;"
                               " no call here follows it", leg.agent, leg.uuid, call)
                continue
            if not gone.ready():
                cause = leg.hangup_cause or DEFAULT_CAUSE
                logger.warning("call %s: agent %s: leg %s ended while the ESL link was down (%s)",
                               call, leg.agent, leg.uuid, cause)
                gone.set(LegEnd(cause))
            ended.append(leg.uuid)
        return ended

    def wait_end(self, watch, gone):
        """Block until the watched leg ends and return its LegEnd (``gone``: from ``follow``)."""
        checking = False  # the link was lost: the leg's fate is unknown until checked
        deadline = None
        while True:
            if gone.ready():
                return gone.value
            timeout = None
            if checking:
                if not self.esl.connected:
                    deadline = None
                elif deadline is None:
                    deadline = time.monotonic() + self.resync_grace
                elif time.monotonic() >= deadline:
                    exists = self._exists(watch.uuid)
                    if exists is False:
                        return self._end_unseen(watch)
                    if exists is None:
                        deadline = None  # the link went again
                    else:
                        checking = False  # still there: its events flow again
                if checking:
                    timeout = self.link_poll
            try:
                event = watch.wait_for(HANGUP_EVENTS, timeout=timeout)
            except ESLTimeout:
                continue
            except ConnectionLost:
                logger.warning("agent leg %s: ESL link lost; following it after the reconnect",
                               watch.uuid)
                checking, deadline = True, None
                continue
            return LegEnd.from_event(event)

    def _exists(self, leg):
        """uuid_exists: True, False, or None when the link is down again."""
        try:
            answer = self.esl.api(f"uuid_exists {leg}").strip()
        except NotConnectedError:
            return None
        except ESLError as exc:
            logger.warning("agent leg %s: uuid_exists failed (%s); still watching it", leg, exc)
            return True
        if answer not in ("true", "false"):
            logger.warning("agent leg %s: uuid_exists answered %r; still watching it", leg, answer)
        return answer != "false"

    def _end_unseen(self, watch):
        # the hangup may have come just after the reconnect, with its real cause
        try:
            return LegEnd.from_event(watch.wait_for(HANGUP_EVENTS, timeout=0))
        except ESLError:
            pass  # nothing queued: it ended while the link was down
        logger.warning("agent leg %s: gone after the ESL link came back (uuid_exists false)",
                       watch.uuid)
        return LegEnd(DEFAULT_CAUSE)
