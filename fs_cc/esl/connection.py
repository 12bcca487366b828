"""One ESL socket: ordered commands and replies, and a reader greenlet that never spins."""

import collections
import logging
import socket

import gevent
from gevent.event import AsyncResult, Event as Flag
from gevent.lock import Semaphore

from fs_cc.esl.errors import ConnectionLost, ESLTimeout, NotConnectedError, ProtocolError
from fs_cc.esl.protocol import (API_RESPONSE, AUTH_REQUEST, COMMAND_REPLY, DISCONNECT_NOTICE,
                                EVENT_JSON, EVENT_PLAIN, RUDE_REJECTION, Parser, parse_event)

logger = logging.getLogger(__name__)

READ_SIZE = 256 * 1024


class _Pending:
    __slots__ = ("command", "result")

    def __init__(self, command):
        self.command = command
        self.result = AsyncResult()


class Connection:
    """Frames one socket: `command()` waits for its own reply; events go to `on_event`.

    Replies come back in the order commands were written, so a FIFO of pending
    commands pairs them. When the socket closes every pending command fails at once
    with ConnectionLost; the reader ends on EOF instead of waiting for bytes that
    will never come.
    """

    def __init__(self, sock, label, on_event, on_notice=None, on_close=None):
        self.sock = sock
        self.label = label
        self._on_event = on_event
        self._on_notice = on_notice
        self._on_close = on_close
        self._parser = Parser()
        self._pending = collections.deque()
        self._send_lock = Semaphore()
        self.auth_requested = Flag()
        self.closed = Flag()
        self.close_reason = None
        self._reader = None

    def start(self):
        """Spawn the reader greenlet."""
        self._reader = gevent.spawn(self._read_loop)
        self._reader.link_exception(self._reader_died)
        return self

    def _reader_died(self, greenlet):
        logger.error("ESL reader for %s died: %r", self.label, greenlet.exception)
        self._shutdown(f"reader died: {greenlet.exception!r}")

    @property
    def is_open(self):
        """True until the socket is closed."""
        return not self.closed.is_set()

    def write(self, text):
        """Send raw command text (the blank line is added) without waiting for a reply."""
        self._send(text, None)

    def command(self, text, timeout=None):
        """Send a command and return its reply Message (command/reply or api/response)."""
        pending = _Pending(text)
        self._send(text, pending)
        try:
            return pending.result.get(timeout=timeout)
        except gevent.Timeout:
            # The reply may still come; its slot stays in the FIFO so later replies pair right.
            raise ESLTimeout(text.split("\n", 1)[0], timeout) from None

    def _send(self, text, pending):
        if self.closed.is_set():
            raise NotConnectedError(f"ESL connection {self.label} is closed")
        data = (text + "\n\n").encode("utf-8")
        with self._send_lock:
            if pending is not None:
                self._pending.append(pending)
            try:
                self.sock.sendall(data)
            except OSError as exc:
                self._shutdown(f"write failed: {exc}")

    def close(self, reason="closed by us"):
        """Close the socket; pending commands fail with ConnectionLost."""
        self._shutdown(reason)
        reader = self._reader
        if reader is not None and reader is not gevent.getcurrent():
            reader.kill(block=False)

    def _shutdown(self, reason):
        if self.closed.is_set():
            return
        self.close_reason = reason
        self.closed.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone
        self.sock.close()
        while self._pending:
            pending = self._pending.popleft()
            pending.result.set_exception(ConnectionLost(pending.command.split("\n", 1)[0]))
        logger.debug("ESL connection %s closed: %s", self.label, reason)
        if self._on_close is not None:
            try:
                self._on_close(reason)
            except Exception:
                logger.exception("ESL close callback for %s failed", self.label)

    def _read_loop(self):
        recv = self.sock.recv
        feed = self._parser.feed
        route = self._route
        while not self.closed.is_set():
            try:
                data = recv(READ_SIZE)
            except OSError as exc:
                self._shutdown(f"read failed: {exc}")
                return
            if not data:
                left = self._parser.pending_bytes
                self._shutdown("peer closed" + (f" with {left} bytes of a partial message" if left else ""))
                return
            try:
                messages = feed(data)
            except ProtocolError as exc:
                logger.error("ESL %s: %s; dropping the connection", self.label, exc)
                self._shutdown(str(exc))
                return
            for message in messages:
                route(message)
            if messages:
                # recv does not yield while data is waiting: let the handlers drain
                # what we just queued, or a flood piles up events (and GC work) in memory.
                gevent.sleep(0)

    def _route(self, message):
        content_type = message.headers.get("Content-Type")
        if content_type == EVENT_PLAIN or content_type == EVENT_JSON:
            try:
                event = parse_event(message)
            except ProtocolError as exc:
                logger.warning("ESL %s: unreadable event dropped: %s", self.label, exc)
                return
            try:
                self._on_event(event)
            except Exception:
                logger.exception("ESL %s: routing %s failed", self.label, event.name)
        elif content_type == COMMAND_REPLY or content_type == API_RESPONSE:
            if self._pending:
                self._pending.popleft().result.set(message)
            else:
                logger.warning("ESL %s: reply with no command waiting: %r", self.label, message.reply_text)
        elif content_type == AUTH_REQUEST:
            self.auth_requested.set()
        elif content_type == DISCONNECT_NOTICE:
            if self._on_notice is not None:
                self._on_notice(message)
        elif content_type == RUDE_REJECTION:
            logger.error("ESL %s: FreeSWITCH rejected the connection: %s", self.label, message.body.strip())
            self._shutdown("rude rejection")
        else:
            logger.debug("ESL %s: ignoring message of type %r", self.label, content_type)
