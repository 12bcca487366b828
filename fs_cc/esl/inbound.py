"""Inbound ESL: our long-lived connection to FreeSWITCH for events and api/bgapi commands."""

import logging
import time
import uuid as uuidlib

import gevent
from gevent import socket
from gevent.event import AsyncResult, Event as Flag

from fs_cc.esl.connection import Connection
from fs_cc.esl.dispatch import ChannelWatch, Dispatcher
from fs_cc.esl.errors import (AuthenticationError, CommandError, ConnectionLost, ESLError,
                              ESLTimeout, NotConnectedError)

logger = logging.getLogger(__name__)

BACKGROUND_JOB = "BACKGROUND_JOB"
RUDE_REJECTION_REASON = "rude rejection"  # Connection's close reason for text/rude-rejection
STABLE_AFTER = 5.0  # seconds a connection must last before the next loss reconnects at once
QUIET_FAILURES = 3  # unreachable attempts logged as warnings before they are errors


class HandshakeError(ESLError):
    """The ESL peer closed, rejected us or stayed silent before asking for the password."""

    def __init__(self, host, port, reason):
        self.host = host
        self.port = port
        self.reason = reason
        hint = ""
        if reason == RUDE_REJECTION_REASON:
            hint = " (its event socket ACL, apply-inbound-acl, does not allow this address)"
        super().__init__(f"FreeSWITCH ESL at {host}:{port} gave no auth/request: {reason}{hint}")


def _check(command, body):
    if body.startswith("-ERR"):
        raise CommandError(command, body)
    return body


class InboundClient:
    """Keeps one authenticated ESL connection up, reconnecting with backoff, and fans out its events.

    Built on the ESL flow greenswitch's InboundESL follows (auth/request, auth, event plain),
    with our own reader: a parser that never spins on a short read, replies paired in order,
    and one worker greenlet per handler.
    """

    def __init__(self, host, port, password, events=("ALL",), *, backoff=(0.5, 30.0),
                 connect_timeout=5.0, command_timeout=30.0):
        self.host = host
        self.port = port
        self._password = password
        self.events = tuple(events)
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self._dispatcher = Dispatcher(f"esl {host}:{port}")
        self._on_connect = []
        self._jobs = {}  # Job-UUID -> AsyncResult
        self._watches = {}  # Unique-ID -> list of ChannelWatch
        self._conn = None
        self._up = Flag()
        self._stopping = Flag()
        self._runner = None
        self.last_error = None
        self.attempts = 0  # connection attempts since start, for logs and tests

    # -- life cycle -------------------------------------------------------------------

    def start(self):
        """Spawn the connect loop; returns at once (see wait_connected)."""
        if self._runner is None:
            self._stopping.clear()
            self._runner = gevent.spawn(self._run)
            self._runner.link_exception(self._runner_died)
        return self

    def _runner_died(self, greenlet):
        logger.error("ESL connect loop for %s:%s died: %r", self.host, self.port, greenlet.exception)

    def stop(self):
        """Close the connection and stop reconnecting and dispatching."""
        self._stopping.set()
        conn = self._conn
        if conn is not None:
            conn.close("client stopped")
        if self._runner is not None:
            self._runner.kill()
            self._runner = None
        self._dispatcher.stop()

    @property
    def connected(self):
        """True while an authenticated connection is up."""
        return self._up.is_set()

    def wait_connected(self, timeout=None):
        """Wait until connected; True if it is."""
        return self._up.wait(timeout)

    def on_connect(self, callback):
        """Call callback(client) after every (re)connection, e.g. to resync with ``show channels``."""
        self._on_connect.append(callback)

    def _run(self):
        failures = 0
        while not self._stopping.is_set():
            self.attempts += 1
            conn = None
            try:
                conn = self._connect()
            except AuthenticationError as exc:
                self.last_error = exc
                logger.error("%s; check the event socket password (retrying)", exc)
            except (OSError, ESLError) as exc:
                self.last_error = exc
                # a switch still starting (as under `fs-cc up`) refuses connections for a moment:
                # no error yet; a peer that answers but breaks the handshake is one at once
                starting = isinstance(exc, OSError) and failures < QUIET_FAILURES
                level = logging.WARNING if starting else logging.ERROR
                logger.log(level, "cannot reach FreeSWITCH ESL at %s:%s: %s (retrying)",
                           self.host, self.port, exc)
            if conn is not None:
                started = time.monotonic()
                self._connected(conn)
                conn.closed.wait()
                self._up.clear()
                if self._stopping.is_set():
                    return
                logger.warning("ESL connection to %s:%s lost (%s); reconnecting",
                               self.host, self.port, conn.close_reason)
                if time.monotonic() - started >= STABLE_AFTER:
                    failures = 0
                    continue
                # It dropped right after connecting: back off, or we would reconnect in a tight loop.
            delay = min(self.backoff[0] * (2 ** failures), self.backoff[1])
            failures += 1
            logger.info("next ESL connection attempt to %s:%s in %.1fs", self.host, self.port, delay)
            if self._stopping.wait(delay):
                return

    def _connect(self):
        sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(sock, f"{self.host}:{self.port}", self._route_event,
                          on_close=lambda reason: self._lost(conn)).start()
        try:
            # a peer that closes (or rejects us) before auth/request must fail the attempt now
            gevent.wait([conn.auth_requested, conn.closed], timeout=self.connect_timeout, count=1)
            if not conn.auth_requested.is_set():
                raise HandshakeError(self.host, self.port, conn.close_reason or
                                     f"no auth/request within {self.connect_timeout}s")
            reply = conn.command(f"auth {self._password}", timeout=self.connect_timeout)
            if not reply.reply_text.startswith("+OK"):
                raise AuthenticationError(self.host, self.port)
            events = self.events
            if "ALL" not in events and BACKGROUND_JOB not in events:
                events = events + (BACKGROUND_JOB,)  # bgapi needs it
            reply = conn.command("event plain " + " ".join(events), timeout=self.connect_timeout)
            if not reply.reply_text.startswith("+OK"):
                raise CommandError("event plain", reply.reply_text)
        except BaseException:
            conn.close("handshake failed")
            raise
        return conn

    def _connected(self, conn):
        self._conn = conn
        self._up.set()
        logger.info("connected to FreeSWITCH ESL at %s:%s", self.host, self.port)
        for callback in list(self._on_connect):
            try:
                callback(self)
            except Exception:
                logger.exception("on_connect callback %r failed", callback)

    def _lost(self, conn):
        if self._conn is not conn:
            return  # a handshake that failed: nobody relied on it
        self._up.clear()
        jobs, self._jobs = self._jobs, {}
        for job_uuid, result in jobs.items():
            result.set_exception(ConnectionLost(f"bgapi job {job_uuid}"))
        for watches in list(self._watches.values()):
            for watch in watches:
                watch._lost()

    # -- commands ---------------------------------------------------------------------

    def _live(self):
        conn = self._conn
        if conn is None or not self._up.is_set() or not conn.is_open:
            raise NotConnectedError(f"not connected to FreeSWITCH at {self.host}:{self.port}")
        return conn

    def api(self, command, timeout=None):
        """Run ``api command``; return its body; CommandError when FreeSWITCH answers -ERR."""
        reply = self._live().command(f"api {command}", timeout or self.command_timeout)
        return _check(command, reply.body)

    def bgapi(self, command, timeout=None):
        """Run ``bgapi command`` and wait for its BACKGROUND_JOB; return the job's body."""
        conn = self._live()
        timeout = timeout or self.command_timeout
        job_uuid = str(uuidlib.uuid4())
        result = self._jobs[job_uuid] = AsyncResult()  # registered before the event can arrive
        try:
            reply = conn.command(f"bgapi {command}\nJob-UUID: {job_uuid}", timeout)
            if not reply.reply_text.startswith("+OK"):
                raise CommandError(command, reply.reply_text)
            try:
                body = result.get(timeout=timeout)
            except gevent.Timeout:
                raise ESLTimeout(f"bgapi {command}", timeout) from None
        finally:
            self._jobs.pop(job_uuid, None)
        return _check(command, body)

    def send(self, command, timeout=None):
        """Send any other ESL command (``filter``, ``sendmsg <uuid>``...); return its reply Message."""
        return self._live().command(command, timeout or self.command_timeout)

    # -- events -----------------------------------------------------------------------

    def on(self, event_name, handler):
        """Call handler(event) for events named event_name ("*" for all), in its own greenlet."""
        self._dispatcher.on(event_name, handler)

    def off(self, event_name, handler):
        """Undo on()."""
        self._dispatcher.off(event_name, handler)

    def watch(self, uuid):
        """A ChannelWatch collecting the events of channel `uuid` from now on."""
        watch = ChannelWatch(uuid, on_close=self._unwatch)
        self._watches.setdefault(uuid, []).append(watch)
        return watch

    def _unwatch(self, watch):
        watches = self._watches.get(watch.uuid)
        if watches and watch in watches:
            watches.remove(watch)
            if not watches:
                del self._watches[watch.uuid]

    def _route_event(self, event):
        get = event.get  # a lazy event's own look-up: .headers would wrap it in a view first
        if get("Event-Name") == BACKGROUND_JOB:
            result = self._jobs.get(get("Job-UUID"))
            if result is not None:
                result.set(event.body)
        if self._watches:
            watches = self._watches.get(get("Unique-ID"))
            if watches:
                for watch in watches:
                    watch._put(event)
        self._dispatcher.dispatch(event)
