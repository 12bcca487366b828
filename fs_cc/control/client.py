"""The web app's and the tasks' side of the control interface: commands out, state and events in."""

import http.client
import json
import logging
import urllib.error
import urllib.parse
import urllib.request

from fs_cc import events
from fs_cc.control import commands, sse
from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)


class ControlUnavailable(FsCcError):
    """The engine's control interface did not answer (or its event stream broke off)."""

    def __init__(self, url, reason):
        super().__init__(f"engine control interface at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


class ControlRefused(FsCcError):
    """The engine answered but refused the request (no such agent, a refused status...)."""

    def __init__(self, status, error, field=None):
        super().__init__(f"engine refused the request ({status}): {error}")
        self.status = status
        self.error = error
        self.field = field


class ControlClient:
    """Client of one engine's control interface, authenticated by the shared control secret.

    ``timeout`` bounds each request; ``stream_timeout`` the silence tolerated on the event
    stream (the engine writes a heartbeat every 15 s, so a longer silence means it is gone).
    """

    def __init__(self, base_url, secret, timeout=2.0, stream_timeout=45.0):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.stream_timeout = stream_timeout
        self._secret = secret

    def _headers(self, **extra):
        headers = dict(extra)
        if self._secret:  # without one the engine answers 401, which ControlRefused reports
            headers["Authorization"] = f"Bearer {self._secret}"
        return headers

    def _open(self, request, timeout):
        """urlopen with the transport errors translated, once, here."""
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                try:
                    body = json.loads(exc.read().decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    body = {}
            if not isinstance(body, dict):
                body = {}
            raise ControlRefused(exc.code, body.get("error") or exc.reason,
                                 body.get("field")) from exc
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            raise ControlUnavailable(request.full_url, getattr(exc, "reason", exc)) from exc

    def _request(self, method, path, payload=None):
        url = self.base_url + path
        if payload is None:
            request = urllib.request.Request(url, method=method, headers=self._headers())
        else:
            request = urllib.request.Request(url, data=payload.encode("utf-8"), method=method,
                                             headers=self._headers(
                                                 **{"Content-Type": "application/json"}))
        with self._open(request, self.timeout) as response:
            try:
                return json.loads(response.read().decode("utf-8"))
            except (OSError, http.client.HTTPException, UnicodeDecodeError,
                    json.JSONDecodeError) as exc:
                raise ControlUnavailable(url, f"unreadable answer: {exc}") from exc

    def agents(self):
        """Each agent's live state (commands.AgentView): extension, name, queues, status..."""
        return self._request("GET", "/agents")["agents"]

    def queues(self):
        """Each queue's live figures (commands.QueueView): name, strategy, waiting, agents_*."""
        return self._request("GET", "/queues")["queues"]

    def calls(self):
        """Calls in progress on the engine (commands.CallView), with their legs."""
        return self._request("GET", "/calls")["calls"]

    def call(self, uuid):
        """What the engine knows of one call (commands.CallContext): caller, IVR path, queue...

        ControlRefused (404, field ``call_uuid``) when the engine does not know the call.
        """
        return self._request("GET", "/calls/" + urllib.parse.quote(str(uuid), safe=""))["call"]

    def execute(self, command):
        """Send one command (fs_cc.control.commands); the engine's result, or ControlRefused."""
        return self._request("POST", "/commands", commands.encode(command))["result"]

    def set_agent_status(self, extension, status, reason=""):
        """Ask the engine to move an agent to a status (available, break, logged_out...)."""
        return self.execute(commands.SetAgentStatus(agent=str(extension), status=status,
                                                    reason=reason))

    def reload_catalog(self):
        """Ask the engine to read its queues and agents again."""
        return self.execute(commands.ReloadCatalog())

    def events(self, on_open=None, stop=None):
        """Every domain event the engine publishes from now on, as it comes (a generator).

        ``on_open()`` is called once the engine has answered (subscribed by then: nothing it
        publishes after is missed). ``stop``, a threading.Event, ends the stream at the next
        event or heartbeat after it is set. Otherwise it ends by raising ControlUnavailable when
        the stream breaks off: the caller reconnects; what was published meanwhile is lost.
        """
        url = self.base_url + "/events"
        request = urllib.request.Request(url, headers=self._headers(Accept=sse.CONTENT_TYPE))
        with self._open(request, self.stream_timeout) as response:
            if on_open is not None:
                on_open()
            try:
                for frame in sse.read_frames(response, comments=True):
                    if stop is not None and stop.is_set():
                        return
                    if frame.comment:
                        continue
                    try:
                        yield events.decode(frame.data)
                    except events.EventError as exc:  # a newer engine's event: skip, go on
                        logger.warning("control %s: event %s unreadable: %s", url, frame.id, exc)
            except (OSError, http.client.HTTPException) as exc:
                raise ControlUnavailable(url, f"event stream broke off: {exc}") from exc
        raise ControlUnavailable(url, "the engine ended the event stream")
