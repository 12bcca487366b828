"""The inbound ESL server: auth, then the commands of mod_event_socket."""

import logging
import socket

from gevent.server import StreamServer

from fs_cc.emulator.connection import Connection
from fs_cc.emulator.protocol import (AUTH_REQUEST, ConnectionClosed, command_reply,
                                     disconnect_notice)
from fs_cc.listen import listen

logger = logging.getLogger(__name__)


class InboundConnection(Connection):
    """A client that connected to us (`auth` first)."""

    def __init__(self, switch, sock, password):
        super().__init__(switch, sock)
        self.password = password
        self.lingering = False

    def run(self):
        """Ask for auth, then serve commands."""
        self.send(AUTH_REQUEST)
        try:
            while not self.closed:
                first, _headers, _body = self.reader.read()
                if not first:
                    continue
                if not first.startswith("auth "):
                    self.send(command_reply("-ERR command not found"))
                    continue
                if first[5:].strip() != self.password:
                    self.send(command_reply("-ERR invalid"))
                    self.send(disconnect_notice())
                    self.close()
                    return
                self.send(command_reply("+OK accepted"))
                break
        except (ConnectionClosed, OSError):
            self.close()
            return
        self.serve_commands()

    def cmd_linger(self, rest, _headers, _body):
        """linger [seconds]."""
        self.lingering = True
        self.send(command_reply("+OK will linger %s seconds" % rest if rest else "+OK will linger"))

    def cmd_nolinger(self, _rest, _headers, _body):
        """nolinger."""
        self.lingering = False
        self.send(command_reply("+OK will not linger"))


class InboundServer:
    """gevent StreamServer accepting ESL clients (mod_event_socket's listener)."""

    def __init__(self, switch, host, port, password, setting="--port (or port: in --config)"):
        self.switch = switch
        self.password = password
        self._server = None
        self._bind = (host, port, setting)
        self.connections = set()

    def start(self):
        """Bind (PortUnavailable when the port cannot be had) and accept in the background."""
        self._server = StreamServer(listen(*self._bind), self._handle)
        self._server.start()

    @property
    def address(self):
        """(host, port) actually bound (before start: as configured)."""
        if self._server is None:
            return self._bind[:2]
        return self._server.address[:2]

    def stop(self):
        """Close the listener and every connection."""
        if self._server is not None:
            self._server.stop(timeout=1)
        for connection in list(self.connections):
            connection.close()

    def _handle(self, sock, _address):
        # as mod_event_socket's listener_run: no Nagle delay on the event socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = InboundConnection(self.switch, sock, self.password)
        self.connections.add(connection)
        try:
            connection.run()
            connection.close()
            # StreamServer closes the socket when we return: let the writer flush first.
            connection.wait_flushed()
        finally:
            self.connections.discard(connection)
