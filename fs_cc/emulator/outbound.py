"""Outbound socket mode: the `socket` application connects to the engine and serves it."""

import logging

import gevent
import gevent.event
from gevent import socket

from fs_cc.emulator.channel import WakeReason
from fs_cc.emulator.connection import Connection
from fs_cc.emulator.events import profile_headers
from fs_cc.emulator.execution import park_loop
from fs_cc.emulator.protocol import (command_reply, disconnect_notice, linger_notice, url_encode)

logger = logging.getLogger(__name__)


class OutboundConnection(Connection):
    """The per-call socket as FreeSWITCH drives it: connect, myevents, linger, sendmsg..."""

    def __init__(self, switch, sock, channel, async_mode, full):
        super().__init__(switch, sock)
        self.channel = channel
        self.async_mode = async_mode
        self.full = full
        self.linger = None  # None = no linger, -1 = forever, else seconds
        self.park_requested = False
        self.peer_gone = False
        channel.on_hangup.append(self._channel_hangup)
        channel.on_reporting.append(self._channel_reported)

    def default_channel(self):
        return self.channel

    def notice_uuid(self):
        return self.channel.uuid

    def cmd_connect(self, _rest, _headers, _body):
        """connect: the CHANNEL_DATA reply, headers only."""
        channel = self.channel
        event = self.switch.factory.channel("CHANNEL_DATA", channel)
        core = event.headers[:13]
        rest = event.headers[13:]
        headers = core + profile_headers(channel.profile, "Channel", channel.profile_index) + rest
        headers += [("Content-Type", "command/reply"), ("Reply-Text", "+OK\n"),
                    ("Socket-Mode", "async" if self.async_mode else "static"),
                    ("Control", "full" if self.full else "single-channel")]
        self.send(("".join("%s: %s\n" % (k, url_encode(str(v))) for k, v in headers) + "\n").encode("utf-8"))

    def cmd_linger(self, rest, _headers, _body):
        """linger [seconds]."""
        if rest.strip():
            self.linger = int(rest.strip())
            self.send(command_reply("+OK will linger %d seconds" % self.linger))
        else:
            self.linger = -1
            self.send(command_reply("+OK will linger"))

    def cmd_nolinger(self, _rest, _headers, _body):
        """nolinger."""
        self.linger = None
        self.send(command_reply("+OK will not linger"))

    def cmd_resume(self, _rest, _headers, _body):
        """resume: the dialplan continues when the socket closes."""
        self.send(command_reply("+OK"))

    def cmd_sendmsg(self, rest, headers, body):
        if not rest.strip() and not self.park_requested:
            self.park_requested = True
        super().cmd_sendmsg(rest, headers, body)
        self.channel.wake()

    def _channel_hangup(self, _channel):
        if self.linger is None:
            self.send(disconnect_notice(self.channel.uuid))
            self.close()

    def _channel_reported(self, channel):
        if self.linger is None or self.closed:
            return
        self.send(linger_notice(channel.uuid, channel.name, self.linger))
        released = gevent.event.Event()
        channel.destroy_blockers.append(released)
        self._writer.link(lambda _g: released.set())
        if self.linger >= 0:
            timer = gevent.spawn_later(self.switch.clock.real(self.linger), self._linger_over)
            timer.link_exception(self.switch.log_failure)

    def _linger_over(self):
        self.send(disconnect_notice(self.channel.uuid))
        self.close()

    def on_peer_gone(self):
        # the engine died (or closed): FreeSWITCH does not hang the channel up; a channel still
        # in the socket application goes on with its dialplan, a bridged one stays bridged
        # (docs/freeswitch-semantics.rst, section 8, measured on 1.10.12)
        self.peer_gone = True
        self.close()
        self.channel.wake()


def run_socket_app(channel, arg):
    """The `socket` application on the channel's session greenlet."""
    parts = arg.split()
    host, _, port = parts[0].rpartition(":")
    switch = channel.switch
    try:
        sock = socket.create_connection((host or "127.0.0.1", int(port)), timeout=5)
        sock.settimeout(None)
        # socket_function (mod_event_socket.c) sets SWITCH_SO_TCP_NODELAY on the engine's socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        logger.warning("%s: socket %s failed: %s", channel.uuid, parts[0], exc)
        return "_none_"
    channel.set_var("socket_host", host)
    connection = OutboundConnection(switch, sock, channel, "async" in parts, "full" in parts)
    reader = gevent.spawn(connection.serve_commands)
    reader.link_exception(switch.log_failure)
    while not connection.park_requested and not connection.peer_gone:
        if channel.wait(queue=True) in (WakeReason.HANGUP, WakeReason.TAKEOVER):
            break
    if connection.park_requested and not channel.hungup and not channel.taken_over:
        park_loop(channel, until=lambda: connection.peer_gone)
    return channel.last_response
