"""Call control by UUID over the engine's inbound ESL connection.

The ACD, the dialer, callbacks and supervision drive channels with these; none of them needs the
channel's outbound socket. Each method sends one FreeSWITCH command and translates its answer:
``CommandError`` (FreeSWITCH said -ERR) and the link errors pass through as the ESL stack raises
them, so callers decide what a failure means for their call.
"""

import logging
import math
import time

import gevent
import gevent.lock

from fs_cc.esl import commands
from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)

# eavesdrop's modes, as channel variables on the supervisor's leg (mod_dptools eavesdrop)
SUPERVISION_VARIABLES = {
    "listen": {},
    "whisper": {"eavesdrop_whisper_aleg": "true"},  # the agent hears the supervisor
    "barge": {"eavesdrop_whisper_aleg": "true", "eavesdrop_whisper_bleg": "true"},
}


class UnknownSupervisionMode(FsCcError, ValueError):
    """A supervision mode other than listen, whisper or barge."""

    def __init__(self, mode):
        self.mode = mode
        super().__init__(f"unknown supervision mode {mode!r} (listen, whisper, barge)")


class OriginateLimiter:
    """At most ``rate`` originates a second and ``concurrency`` at once (switchio's originator).

    A burst waits its turn instead of flooding the switch; ``acquire`` blocks the calling greenlet.
    """

    def __init__(self, rate=50.0, concurrency=200, clock=time.monotonic):
        self.rate = float(rate)
        self._slots = gevent.lock.BoundedSemaphore(concurrency)
        self._lock = gevent.lock.RLock()
        self._clock = clock
        self._next = 0.0  # when the next originate may start

    def __enter__(self):
        self._slots.acquire()
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + (1.0 / self.rate if self.rate > 0 else 0.0)
        if start > now:
            gevent.sleep(start - now)
        return self

    def __exit__(self, *exc):
        self._slots.release()
        return False

    @property
    def in_flight(self):
        """Originates running now."""
        return self._slots.bounded_value - self._slots.counter


class CallControl:
    """``uuid_*`` commands and originate on channels named by UUID (inbound ESL client given)."""

    def __init__(self, esl, *, limiter=None):
        self.esl = esl
        self.limiter = limiter or OriginateLimiter()

    def api(self, command):
        """Send a raw api command (the builders of fs_cc.esl.commands make them)."""
        return self.esl.api(command)

    def watch(self, uuid):
        """The inbound client's watch on a channel's events."""
        return self.esl.watch(uuid)

    @property
    def connected(self):
        """Whether the inbound link is up."""
        return self.esl.connected

    # media
    def play(self, uuid, path, leg="aleg"):
        """Play a file or stream to a channel (``uuid_broadcast``), replacing nothing."""
        return self.esl.api(commands.uuid_broadcast(uuid, path, leg))

    def stop_media(self, uuid):
        """Stop what a channel plays, queued media included (``uuid_break … all``)."""
        return self.esl.api(commands.uuid_break(uuid, all=True))

    def break_media(self, uuid):
        """Stop what a channel plays now (``uuid_break``): a held caller's music."""
        return self.esl.api(commands.uuid_break(uuid))

    def send_dtmf(self, uuid, digits):
        """Send DTMF to the far end of a channel (``uuid_send_dtmf``)."""
        return self.esl.api(commands.uuid_send_dtmf(uuid, digits))

    # legs
    def bridge(self, a, b):
        """Join two live channels."""
        return self.esl.api(commands.uuid_bridge(a, b))

    def transfer(self, uuid, destination, dialplan="XML", context="default", leg=None):
        """Send a channel (or its other leg, or both) to a dialplan extension."""
        return self.esl.api(commands.uuid_transfer(uuid, destination, dialplan, context, leg))

    def hold(self, uuid):
        """Put the channel's partner on hold music (``uuid_hold``)."""
        return self.esl.api(commands.uuid_hold(uuid))

    def unhold(self, uuid):
        """Take it off hold (``uuid_hold off``; FreeSWITCH 1.10 answers ``-ERR Operation failed``
        unless the leg's call state is HELD, which only the far end holding makes it: the
        partner's music then ends with :meth:`break_media` on the partner)."""
        return self.esl.api(commands.uuid_hold(uuid, off=True))

    def kill(self, uuid, cause="NORMAL_CLEARING"):
        """Hang a channel up with a cause."""
        return self.esl.api(commands.uuid_kill(uuid, cause))

    def exists(self, uuid):
        """Whether FreeSWITCH still has the channel."""
        return self.esl.api(commands.uuid_exists(uuid)).strip() == "true"

    def record(self, uuid, path, stop=False):
        """Start (or stop) recording a channel to ``path`` (``uuid_record``)."""
        return self.esl.api(commands.uuid_record(uuid, path, stop))

    # variables
    def set_var(self, uuid, name, value):
        """Set a channel variable."""
        return self.esl.api(commands.uuid_setvar(uuid, name, value))

    def get_var(self, uuid, name):
        """A channel variable's value ("" when unset: FreeSWITCH answers ``_undef_``)."""
        value = self.esl.api(commands.uuid_getvar(uuid, name)).strip()
        return "" if value == "_undef_" else value

    # new legs
    def originate(self, dial_string, app="&park()", variables=None, timeout=None):
        """Originate under the limiter (``bgapi``: the link keeps serving events); the reply body."""
        command = commands.originate(dial_string, app, variables)
        seconds = timeout if timeout is not None else 60
        with self.limiter:
            return self.esl.bgapi(command, timeout=seconds)

    def supervise(self, supervisor_dial, call_uuid, mode, variables=None, ring_timeout=30):
        """Ring a supervisor's phone and let it listen to, whisper to or barge into a call."""
        try:
            extra = SUPERVISION_VARIABLES[mode]
        except KeyError:
            raise UnknownSupervisionMode(mode) from None
        channel = dict(variables or {}, eavesdrop_enable_dtmf="true",
                       originate_timeout=max(1, math.ceil(ring_timeout)), **extra)
        return self.originate(supervisor_dial, commands.eavesdrop_app(call_uuid),
                              channel, timeout=ring_timeout + 15)
