"""Outbound ESL: the server FreeSWITCH's ``socket`` application connects to, one greenlet a call."""

import logging

from gevent import socket
from gevent.pool import Pool
from gevent.server import StreamServer

from fs_cc.esl.errors import CallerHungUp, ConnectionLost, ESLError
from fs_cc.esl.session import CallSession
from fs_cc.listen import listen

__all__ = ["OutboundServer", "CallSession"]

logger = logging.getLogger(__name__)


class OutboundServer:
    """Accepts FreeSWITCH's per-call connections and runs handler(session) for each.

    gevent's StreamServer wakes on accept, so a new call reaches the handler at once.
    ``setting`` names what chooses the port, for the error when it cannot be had.
    """

    def __init__(self, host, port, handler, *, pool_size=None, command_timeout=30.0, linger_wait=10.0,
                 setting="FS_CC_OUTBOUND_PORT (or --outbound-port)"):
        self.handler = handler
        self.command_timeout = command_timeout
        self.linger_wait = linger_wait
        self._bind = (host, port, setting)
        self._spawn = Pool(pool_size) if pool_size else "default"
        self._server = None
        self.sessions = set()

    def start(self):
        """Bind (PortUnavailable when the port cannot be had) and start accepting."""
        self._server = StreamServer(listen(*self._bind), self._handle, spawn=self._spawn)
        self._server.start()
        logger.info("outbound ESL server listening on %s:%s", *self.address)
        return self

    def stop(self, timeout=None):
        """Stop accepting; give running calls `timeout` seconds, then kill them."""
        if self._server is not None:
            self._server.stop(timeout=timeout)

    @property
    def address(self):
        """(host, port) actually bound (before start: as configured)."""
        if self._server is None:
            return self._bind[:2]
        return self._server.address[:2]

    def _handle(self, sock, address):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        session = CallSession(sock, address, command_timeout=self.command_timeout)
        self.sessions.add(session)
        try:
            session.start()
            session.connect()
            session.send("myevents")
            session.send("linger")
            logger.info("call %s from %s to %s", session.uuid, session.caller_number, session.destination_number)
            self.handler(session)
        except CallerHungUp as exc:
            logger.info("call %s: %s", session.uuid, exc)
        except ConnectionLost:
            logger.info("call %s: FreeSWITCH closed the socket", session.uuid)
        except ESLError as exc:
            logger.error("call %s: %s", session.uuid, exc)
        except Exception:
            logger.exception("call %s: handler %r failed", session.uuid, self.handler)
        finally:
            self.sessions.discard(session)
            session.finish(self.linger_wait)
