"""A small fake FreeSWITCH inbound event socket: raw ESL bytes over a real socket on port 0."""

import time

import gevent
from gevent.server import StreamServer

from tests.esl.wire import api_response, command_reply, disconnect_notice, event_bytes, read_command, received

# Replies recorded from FreeSWITCH 1.10.12 (01_inbound_commands).
RECORDED_API = {
    "status": received("01_inbound_commands")[2].partition("\n\n")[2],
    "originate user/1000 &park()": "-ERR USER_NOT_REGISTERED\n",
    "show channels as json": '{"row_count": 0}\n',
}


class FakeConnection:
    """One client connection to the fake server."""

    def __init__(self, sock):
        self.sock = sock
        self.connected_at = time.monotonic()
        self.closed = False

    def push(self, data):
        """Send raw bytes to the client."""
        self.sock.sendall(data)

    def close(self):
        """Drop the connection abruptly."""
        self.closed = True
        self.sock.close()


class FakeFreeSwitch:
    """Answers auth, event, api and bgapi as FreeSWITCH does; tests push events and drop links."""

    def __init__(self, password="ClueCon"):
        self.password = password
        self.api = dict(RECORDED_API)
        self.bgapi = {"status": RECORDED_API["status"], "originate error/no_answer &park()": "-ERR NO_ANSWER\n"}
        self.hold = set()  # api commands never answered
        self.commands = []
        self.connections = []
        self._server = StreamServer(("127.0.0.1", 0), self._handle)

    def start(self):
        """Listen on a free port."""
        self._server.start()
        return self

    @property
    def port(self):
        """The port actually bound."""
        return self._server.server_port

    def stop(self):
        """Close every connection and stop listening."""
        for conn in self.connections:
            conn.close()
        self._server.stop(timeout=1)

    @property
    def current(self):
        """The latest connection."""
        return self.connections[-1]

    def push(self, data):
        """Send raw bytes on the latest connection."""
        self.current.push(data)

    def drop(self):
        """Drop every open connection."""
        for conn in self.connections:
            if not conn.closed:
                conn.close()

    def _handle(self, sock, address):
        conn = FakeConnection(sock)
        self.connections.append(conn)
        sock.sendall(b"Content-Type: auth/request\n\n")
        buf = bytearray()
        while not conn.closed:
            command = read_command(sock, buf)
            if command is None:
                return
            self.commands.append(command)
            if not self._answer(conn, command):
                return

    def _answer(self, conn, command):
        first, _, rest = command.partition("\n")
        if first.startswith("auth "):
            if first[5:] != self.password:
                conn.push(command_reply("-ERR invalid") + disconnect_notice())
                conn.close()
                return False
            conn.push(command_reply("+OK accepted"))
        elif first.startswith("event "):
            conn.push(command_reply("+OK event listener enabled plain"))
        elif first.startswith("api "):
            cmd = first[4:]
            if cmd not in self.hold:
                conn.push(api_response(self.api.get(cmd, f"-ERR {cmd.split()[0]} Command not found!\n")))
        elif first.startswith("bgapi "):
            cmd = first[6:]
            job = rest.partition("Job-UUID: ")[2].strip()
            conn.push(f"Content-Type: command/reply\nReply-Text: +OK Job-UUID: {job}\nJob-UUID: {job}\n\n".encode())
            body = self.bgapi.get(cmd, f"-ERR {cmd.split()[0]} Command not found!\n")
            gevent.spawn(conn.push, event_bytes(
                {"Event-Name": "BACKGROUND_JOB", "Job-UUID": job, "Job-Command": cmd.split()[0]}, body))
        elif first == "exit":
            conn.push(command_reply("+OK bye") + disconnect_notice())
            conn.close()
            return False
        else:
            conn.push(command_reply("-ERR command not found"))
        return True
