"""The one small interface through which web and tasks ask the engine to act.

The engine serves it as JSON over HTTP on a loopback port (:class:`ControlServer`); web views and
tasks use :class:`ControlClient`. Neither side talks ESL to the other.
"""

import json
import logging
import re
import urllib.error
import urllib.request

from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)


class ControlUnavailable(FsCcError):
    """The engine's control interface did not answer."""

    def __init__(self, url, reason):
        super().__init__(f"engine control interface at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class ControlRefused(FsCcError):
    """The engine answered but refused the request (bad agent, bad status...)."""

    def __init__(self, status, error, field=None):
        super().__init__(f"engine refused the request ({status}): {error}")
        self.status = status
        self.error = error
        self.field = field


class ControlClient:
    """Client of the engine's control interface."""

    def __init__(self, base_url, timeout=2.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def _request(self, method, path, payload=None):
        url = self.base_url + path
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            try:
                body = json.loads(exc.read().decode("utf-8"))
            except ValueError:
                body = {"error": exc.reason}
            raise ControlRefused(exc.code, body.get("error"), body.get("field")) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise ControlUnavailable(url, getattr(exc, "reason", exc)) from exc

    def agents(self):
        """Each agent's live state: extension, name, queues, status, status_since."""
        return self._request("GET", "/agents")["agents"]

    def queues(self):
        """Each queue's live figures: name, waiting, available."""
        return self._request("GET", "/queues")["queues"]

    def calls(self):
        """Calls in progress on the engine."""
        return self._request("GET", "/calls")["calls"]

    def set_agent_status(self, extension, status):
        """Ask the engine to move an agent to a status (available, break, logged_out...)."""
        return self._request("POST", f"/agents/{extension}/status", {"status": status})["agent"]


class ControlApp:
    """WSGI application serving the control interface over an engine-side backend.

    The backend offers ``agents()``, ``queues()``, ``calls()`` and
    ``set_agent_status(extension, status)`` (raising ``KeyError`` for an unknown agent and
    ``ValueError`` for a status it refuses).
    """

    _AGENT_STATUS = re.compile(r"^/agents/([^/]+)/status$")

    def __init__(self, backend):
        self.backend = backend

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        try:
            status, body = self._route(method, path, environ)
        except Exception:  # the control loop must outlive any one request
            logger.exception("control request %s %s failed", method, path)
            status, body = 500, {"error": "internal error"}
        payload = json.dumps(body).encode("utf-8")
        start_response(f"{status} {'OK' if status < 400 else 'ERROR'}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(payload)))])
        return [payload]

    def _route(self, method, path, environ):
        if method == "GET" and path == "/agents":
            return 200, {"agents": self.backend.agents()}
        if method == "GET" and path == "/queues":
            return 200, {"queues": self.backend.queues()}
        if method == "GET" and path == "/calls":
            return 200, {"calls": self.backend.calls()}
        if method == "GET" and path == "/health":
            return 200, {"ok": True}
        match = self._AGENT_STATUS.match(path)
        if method == "POST" and match:
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                data = json.loads(environ["wsgi.input"].read(length) or b"{}")
            except ValueError:
                return 400, {"error": "body is not JSON"}
            if not isinstance(data, dict) or not isinstance(data.get("status"), str):
                return 400, {"error": "status is required", "field": "status"}
            try:
                agent = self.backend.set_agent_status(match.group(1), data["status"])
            except KeyError:
                return 404, {"error": f"no agent {match.group(1)}", "field": "extension"}
            except ValueError as exc:
                return 409, {"error": str(exc), "field": "status"}
            return 200, {"agent": agent}
        return 404, {"error": f"no such resource {method} {path}"}


class ControlServer:
    """Serves :class:`ControlApp` on a loopback port inside the engine (gevent)."""

    def __init__(self, backend, host="127.0.0.1", port=8022):
        from gevent.pywsgi import WSGIServer

        self._server = WSGIServer((host, port), ControlApp(backend), log=None,
                                  error_log=logging.getLogger(__name__ + ".wsgi"))

    def start(self):
        """Bind and serve in the background."""
        self._server.start()
        logger.info("control interface on http://%s:%s", *self.address)

    @property
    def address(self):
        """The (host, port) actually bound."""
        return self._server.address

    def stop(self, timeout=2):
        """Stop serving."""
        self._server.stop(timeout=timeout)
