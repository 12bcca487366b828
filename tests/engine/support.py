"""Engine test support: test settings, a recording publisher, and a TCP proxy we can cut."""

import logging

import gevent
from gevent import socket
from gevent.server import StreamServer

from fs_cc import events, journal
from fs_cc.config import EslTarget, Settings

logger = logging.getLogger(__name__)


EMULATOR_SPEED = 20.0  # simulated seconds per real second of the `emulator` fixture (conftest)


class RecordingPublisher:
    """Publisher double: keeps every batch of events the outbox hands it, as the worker would."""

    def __init__(self):
        self.batches = []
        self.closed = False

    def __call__(self, batch):
        self.batches.append([events.from_dict(item) for item in batch])

    @property
    def events(self):
        """Every event received, in the order sent."""
        return [event for batch in self.batches for event in batch]

    @property
    def payloads(self):
        """The call records the worker would store: one per ended call, folded from its events."""
        records = journal.fold_many(self.events)
        ended = {event.call_uuid for event in self.events if isinstance(event, events.CallEnded)}
        done = [record for uuid, record in records.items() if uuid in ended]
        return [record.to_dict() for record in sorted(done, key=lambda r: r.ended_at)]

    def close(self):
        """The engine closes its publisher on stop."""
        self.closed = True


def stop_engine(engine):
    """Stop the engine without waiting out its outbox's linger (1 s) for the last events.

    Its stop flushes what is pending, but the outbox's greenlet may still be lingering to gather
    a batch: publish that batch now, as the greenlet would, so the stop finds nothing pending.
    """
    engine.outbox.flush_once()
    engine.stop()


def engine_settings(tmp_path, esl_host, esl_port, **overrides):
    """Settings for an engine on free ports, var files under tmp_path, no broker needed."""
    values = dict(var_dir=tmp_path, database_url="sqlite://", broker_url="memory://",
                  redis_url=None, secret_key="test", control_secret="test-control-secret",
                  control_port=0, outbound_port=0,
                  esl=EslTarget(esl_host, esl_port, "ClueCon"), ring_timeout=5)
    values.update(overrides)
    return Settings(**values)


class _Pipe:
    """One proxied connection: two sockets and the greenlets copying between them."""

    def __init__(self, client, upstream):
        self.sockets = (client, upstream)
        self.greenlets = [gevent.spawn(self._copy, client, upstream),
                          gevent.spawn(self._copy, upstream, client)]
        for greenlet in self.greenlets:
            greenlet.link_exception(lambda g: logger.error("proxy pipe failed: %r", g.exception))

    @staticmethod
    def _copy(source, target):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass  # the other side went away: the pipe is over
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def cut(self):
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed
            sock.close()


class Proxy:
    """A TCP proxy on a free port to `upstream` (host, port); cut() drops every live connection."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.pipes = []
        self.refusing = False  # while True, new connections are closed at once
        self._server = StreamServer(("127.0.0.1", 0), self._handle)

    def start(self):
        """Listen on a free port."""
        self._server.start()
        return self

    @property
    def port(self):
        """The port actually bound."""
        return self._server.server_port

    def _handle(self, client, _address):
        if self.refusing:
            client.close()
            return
        upstream = socket.create_connection(self.upstream, timeout=5)
        upstream.settimeout(None)
        pipe = _Pipe(client, upstream)
        self.pipes.append(pipe)
        gevent.joinall(pipe.greenlets)

    def cut(self):
        """Drop every proxied connection abruptly (new ones are still accepted)."""
        for pipe in self.pipes:
            pipe.cut()
        self.pipes = []

    def stop(self):
        """Stop listening and drop everything."""
        self.cut()
        self._server.stop(timeout=1)
