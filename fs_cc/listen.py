"""The listening sockets of every fs_cc server: SO_REUSEADDR on each, and one clear error.

A server stopped a moment ago leaves its closed connections in TIME-WAIT on its port for up to
a minute; without SO_REUSEADDR the kernel refuses to bind that port again, and a restart right
after Ctrl-C fails as if another program held it. SO_REUSEADDR still refuses a port that a
socket *listens* on, so a real conflict is reported all the same (Linux semantics, not the
Windows ones, where the option would let two servers share a port).

A port that cannot be had raises :class:`PortUnavailable`, which names the address and the
setting that chooses it; the ``fs-cc`` command line prints it as one line, without a traceback.
"""

import errno
import socket

from fs_cc.errors import FsCcError

BACKLOG = 128  # gevent StreamServer's own default, as before
MAX_PORT = 65535


class PortUnavailable(FsCcError):
    """A server cannot listen on ``host:port``: taken, not a port number, or not permitted."""

    def __init__(self, host, port, reason, setting):
        self.host = host
        self.port = port
        self.reason = reason
        self.setting = setting
        super().__init__(f"{reason}; choose another port with {setting}")


def _reason(host, port, exc):
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: {host!r} is not a known address ({exc.strerror})"
    if exc.errno == errno.EADDRINUSE:
        return f"{where} is already in use (is another fs-cc running?)"
    if exc.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def check_port(host, port, setting):
    """Return ``port`` as an int, or raise PortUnavailable when it is not 0-65535."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise PortUnavailable(host, port, f"{port!r} is not a port number (0-{MAX_PORT})",
                              setting)
    return port


def listen(host, port, setting, backlog=BACKLOG):
    """A TCP socket bound to ``host:port`` with SO_REUSEADDR and listening.

    ``setting`` is how the user chooses that port (``FS_CC_CONTROL_PORT``, ``--port``), for the
    error message. Port 0 takes any free port (read it back with ``getsockname``).
    """
    check_port(host, port, setting)
    # as gevent's servers choose: an IPv6 literal binds IPv6, anything else (names too) IPv4
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(host, port, _reason(host, port, exc), setting) from exc
    return sock


def probe(host, port, setting):
    """Raise PortUnavailable unless a server could listen on ``host:port`` now (then release it).

    Bound with SO_REUSEADDR like the servers themselves, so connections of a stopped server
    still in TIME-WAIT do not count as "in use".
    """
    listen(host, port, setting, backlog=1).close()
