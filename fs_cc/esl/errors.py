"""Errors of the ESL layer; each carries the data that explains it."""

from fs_cc.errors import FsCcError


class ESLError(FsCcError):
    """Base of every error raised by fs_cc.esl."""


class CommandError(ESLError):
    """FreeSWITCH answered a command with ``-ERR ...``."""

    def __init__(self, command, reply):
        self.command = command
        self.reply = reply
        text = reply.strip()
        self.reason = text[4:].strip() if text.startswith("-ERR") else text
        super().__init__(f"{command!r} failed: {text}")


class NotConnectedError(ESLError):
    """A command was issued while no ESL connection is up."""

    def __init__(self, detail="not connected to FreeSWITCH"):
        self.detail = detail
        super().__init__(detail)


class ConnectionLost(NotConnectedError):
    """The ESL connection dropped; pending commands fail with this at once."""

    def __init__(self, command=None):
        self.command = command
        detail = "ESL connection lost"
        if command is not None:
            detail = f"ESL connection lost while waiting for {command!r}"
        super().__init__(detail)


class AuthenticationError(ESLError):
    """FreeSWITCH refused the ESL password."""

    def __init__(self, host, port):
        self.host = host
        self.port = port
        super().__init__(f"FreeSWITCH at {host}:{port} refused the ESL password")


class CallerHungUp(ESLError):
    """The channel hung up while the call's code was waiting on it."""

    def __init__(self, uuid, cause=None):
        self.uuid = uuid
        self.cause = cause
        super().__init__(f"channel {uuid} hung up ({cause or 'unknown cause'})")


class ProtocolError(ESLError):
    """The peer sent bytes that cannot be framed as ESL messages."""

    def __init__(self, detail):
        self.detail = detail
        super().__init__(f"ESL protocol error: {detail}")


class ESLTimeout(ESLError, TimeoutError):
    """A command reply or an awaited event did not arrive in time."""

    def __init__(self, what, timeout):
        self.what = what
        self.timeout = timeout
        super().__init__(f"no answer to {what!r} within {timeout}s")
