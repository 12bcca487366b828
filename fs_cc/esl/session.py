"""CallSession: control of one call over the outbound socket FreeSWITCH opened to us."""

import logging
import uuid as uuidlib

import gevent
from gevent.event import AsyncResult, Event as Flag

from fs_cc.esl.commands import sendmsg_execute, sendmsg_hangup
from fs_cc.esl.connection import Connection
from fs_cc.esl.dispatch import ANY, Dispatcher
from fs_cc.esl.errors import (CallerHungUp, CommandError, ConnectionLost, ESLTimeout,
                              NotConnectedError, ProtocolError)
from fs_cc.esl.protocol import parse_event

logger = logging.getLogger(__name__)

HANGUP_EVENTS = frozenset(("CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"))


class _Waiter:
    __slots__ = ("name", "predicate", "result", "outlives_hangup")

    def __init__(self, name, predicate):
        self.name = name
        self.predicate = predicate
        self.result = AsyncResult()
        self.outlives_hangup = name in HANGUP_EVENTS or name == ANY


class CallSession:
    """One call's socket (``socket ... async full``): execute applications and follow the channel.

    Every wait (execute, wait_for) raises CallerHungUp as soon as the channel hangs up.
    """

    def __init__(self, sock, address, *, command_timeout=30.0):
        self.address = address
        self.command_timeout = command_timeout
        self._conn = Connection(sock, f"call from {address[0]}:{address[1]}", self._on_event,
                                on_notice=self._on_notice, on_close=self._on_close)
        self.data = None
        self.uuid = None
        self.hungup = Flag()
        self.closed = Flag()
        self.hangup_cause = None
        self.hangup_event = None
        self.lingering = False
        self._vars = {}
        self._executions = {}  # Application-UUID -> AsyncResult
        self._waiters = []
        self._final_events = {}  # hangup-family events already seen, by name
        self._dispatcher = None

    # -- set-up -----------------------------------------------------------------------

    def start(self):
        """Start reading the socket."""
        self._conn.start()
        return self

    def connect(self, timeout=None):
        """Send ``connect`` and keep the channel data FreeSWITCH answers with."""
        reply = self._conn.command("connect", timeout or self.command_timeout)
        try:
            self.data = parse_event(reply)
        except ProtocolError:
            raise ProtocolError(f"connect reply carries no channel data: {reply!r}") from None
        self.uuid = self.data.uuid or self.data.variable("uuid")
        self._remember_vars(self.data.headers)
        self._conn.label = f"call {self.uuid}"
        return self.data

    def send(self, command, timeout=None):
        """Send a raw ESL command (``myevents``, ``linger``...) and return its reply Message."""
        try:
            return self._conn.command(command, timeout or self.command_timeout)
        except NotConnectedError:
            if self.hungup.is_set():
                raise CallerHungUp(self.uuid, self.hangup_cause) from None
            raise

    # -- what the call's code uses ----------------------------------------------------

    @property
    def call_uuid(self):
        """Channel-Call-UUID: the same for every leg of this call."""
        return self.data.get("Channel-Call-UUID") or self.data.variable("call_uuid") if self.data else None

    @property
    def caller_number(self):
        """The caller's number (Caller-Caller-ID-Number)."""
        return self.data.get("Caller-Caller-ID-Number") if self.data else None

    @property
    def caller_name(self):
        """The caller's name (Caller-Caller-ID-Name)."""
        return self.data.get("Caller-Caller-ID-Name") if self.data else None

    @property
    def destination_number(self):
        """The number dialled (Caller-Destination-Number), i.e. the DID."""
        return self.data.get("Caller-Destination-Number") if self.data else None

    @property
    def is_up(self):
        """True while the channel is up and the socket open."""
        return not self.hungup.is_set() and not self.closed.is_set()

    def _raise_if_gone(self):
        if self.hungup.is_set():
            raise CallerHungUp(self.uuid, self.hangup_cause)
        if self.closed.is_set():
            raise ConnectionLost()

    def execute(self, app, arg=None, *, wait=True, timeout=None, event_lock=False):
        """Run a dialplan application; return its CHANNEL_EXECUTE_COMPLETE event.

        With wait=False return the Application-UUID at once. Raises CallerHungUp if the
        channel hangs up first (its late completion then goes to nobody).
        """
        self._raise_if_gone()
        app_uuid = str(uuidlib.uuid4())
        result = None
        if wait:
            result = self._executions[app_uuid] = AsyncResult()  # before the completion can arrive
        try:
            reply = self.send(sendmsg_execute(app, arg, event_uuid=app_uuid, event_lock=event_lock))
            if reply.reply_text.startswith("-ERR"):
                self._raise_if_gone()
                raise CommandError(f"execute {app}", reply.reply_text)
            if not wait:
                return app_uuid
            try:
                return result.get(timeout=timeout)
            except gevent.Timeout:
                raise ESLTimeout(f"execute {app}", timeout) from None
        finally:
            self._executions.pop(app_uuid, None)

    def execute_async(self, app, arg=None):
        """Start an application without waiting for it; return its Application-UUID."""
        return self.execute(app, arg, wait=False)

    def hangup(self, cause="NORMAL_CLEARING"):
        """Hang the channel up (no-op if it already hung up)."""
        if self.hungup.is_set() or self.closed.is_set():
            return
        try:
            reply = self.send(sendmsg_hangup(cause))
        except CallerHungUp:
            return
        if reply.reply_text.startswith("-ERR") and not self.hungup.is_set():
            raise CommandError(f"hangup {cause}", reply.reply_text)

    def set_var(self, name, value):
        """Set a channel variable (runs ``set name=value``)."""
        self.execute("set", f"{name}={value}")
        self._vars[name] = str(value)

    def get_var(self, name, default=None):
        """The latest value of a channel variable seen on this channel's events."""
        return self._vars.get(name, default)

    def api(self, command):
        """Run an api command over this socket; return its body (CommandError on -ERR)."""
        reply = self.send(f"api {command}")
        if reply.body.startswith("-ERR"):
            raise CommandError(command, reply.body)
        return reply.body

    def on(self, event_name, handler):
        """Call handler(event) for this channel's events named event_name ("*" for all)."""
        if self._dispatcher is None:
            self._dispatcher = Dispatcher(f"call {self.uuid}")
        self._dispatcher.on(event_name, handler)

    def wait_for(self, event_name, predicate=None, timeout=None):
        """Wait for the next event named event_name (and matching predicate); return it.

        Raises CallerHungUp if the channel hangs up first, unless the wait is for a hangup event.
        """
        waiter = _Waiter(event_name, predicate)
        if self.closed.is_set() or (self.hungup.is_set() and not waiter.outlives_hangup):
            self._raise_if_gone()
        final = self._final_events.get(event_name)
        if final is not None and (predicate is None or predicate(final)):
            return final  # hangup events happen once: a late waiter still gets them
        self._waiters.append(waiter)
        try:
            return waiter.result.get(timeout=timeout)
        except gevent.Timeout:
            raise ESLTimeout(f"{event_name} on channel {self.uuid}", timeout) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def finish(self, linger_wait=10.0):
        """After the call's code is done: read on to the disconnect notice if hung up, then close."""
        if self.hungup.is_set() and not self.closed.is_set():
            self.closed.wait(linger_wait)
        self._conn.close("call finished")

    # -- reader side ------------------------------------------------------------------

    def _remember_vars(self, headers):
        store = self._vars
        for key, value in headers.items():
            if key.startswith("variable_"):
                store[key[9:]] = value

    def _on_event(self, event):
        name = event.name
        mine = self.uuid is None or event.uuid in (None, self.uuid)
        if mine:
            self._remember_vars(event.headers)
            if name in HANGUP_EVENTS:
                self._final_events[name] = event
        if name == "CHANNEL_EXECUTE_COMPLETE":
            result = self._executions.pop(event.get("Application-UUID"), None)
            if result is not None:
                result.set(event)
        if self._waiters:
            self._resolve_waiters(name, event)
        if name == "CHANNEL_HANGUP" and mine and not self.hungup.is_set():
            self.hangup_event = event
            self.hangup_cause = event.get("Hangup-Cause")
            self.hungup.set()
            logger.info("call %s: channel hung up (%s)", self.uuid, self.hangup_cause)
            self._fail_waits(CallerHungUp(self.uuid, self.hangup_cause), keep_hangup_waiters=True)
        if self._dispatcher is not None:
            self._dispatcher.dispatch(event)

    def _resolve_waiters(self, name, event):
        for waiter in list(self._waiters):
            if waiter.name != name and waiter.name != ANY:
                continue
            try:
                matched = waiter.predicate is None or waiter.predicate(event)
            except Exception as exc:
                waiter.result.set_exception(exc)
                self._waiters.remove(waiter)
                continue
            if matched:
                waiter.result.set(event)
                self._waiters.remove(waiter)

    def _fail_waits(self, error, keep_hangup_waiters=False):
        executions, self._executions = self._executions, {}
        for result in executions.values():
            result.set_exception(error)
        for waiter in list(self._waiters):
            if keep_hangup_waiters and waiter.outlives_hangup:
                continue
            waiter.result.set_exception(error)
            self._waiters.remove(waiter)

    def _on_notice(self, message):
        if message.headers.get("Content-Disposition") == "linger":
            self.lingering = True
            logger.debug("call %s: FreeSWITCH lingers after hangup", self.uuid)
            return
        self._conn.close("disconnect notice")

    def _on_close(self, reason):
        self.closed.set()
        if self.hungup.is_set():
            error = CallerHungUp(self.uuid, self.hangup_cause)
        else:
            error = ConnectionLost()
        self._fail_waits(error)
        if self._dispatcher is not None:
            self._dispatcher.stop()
        logger.debug("call %s: socket closed (%s)", self.uuid, reason)
