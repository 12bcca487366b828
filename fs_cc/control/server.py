"""The engine's side of the control interface: a WSGI app on a loopback port (gevent).

Routes: ``POST /commands`` (a command's JSON), ``GET /agents``, ``/queues``, ``/calls``,
``/calls/<uuid>`` (what the engine knows of one call: the agent desktop's screen pop),
``/events`` (server-sent events of every domain event on the engine's bus), ``/health``,
``POST /freeswitch/directory``, where the switch's mod_xml_curl fetches the agents' directory
entries (:mod:`fs_cc.directory`), and ``GET /prompts/<hash>.wav``, where a switch on another
machine fetches spoken prompts (:mod:`fs_cc.control.prompts`, no secret).

Only programs may talk to it, never a browser: a page on any site could otherwise drive an
agent's phone from the supervisor's machine. So every request but /health needs the secret
(``Authorization: Bearer``), anything carrying a browser's marks (``Origin``, ``Sec-Fetch-*``) is
refused, a body is read only as ``application/json`` (a cross-site form or ``fetch`` without a
preflight cannot send that type) and no ``Access-Control-*`` header is ever sent.

The directory route is the one exception, because mod_xml_curl can do no other: it sends HTTP
Basic credentials (user ``fs_cc``, the control secret as password) and a form body. Browsers are
refused there as everywhere, it answers no 401 with a Basic challenge (a browser would offer to
remember the credentials), and Bearer is not taken there nor Basic anywhere else.
"""

import base64
import binascii
import hmac
import json
import logging
import queue
import urllib.parse

from gevent.pool import Pool
from gevent.pywsgi import WSGIServer

from fs_cc import codec, directory
from fs_cc.acd.agents import InvalidStatus, InvalidTransition, UnknownAgent, UnknownQueue
from fs_cc.control import commands, prompts, sse
from fs_cc.errors import ConfigError
from fs_cc.listen import listen

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15.0
MAX_BODY = 64 * 1024
# events a stream may fall behind by before it is cut (its reader reconnects and reloads)
STREAM_BACKLOG = 10_000
DIRECTORY_PATH = "/freeswitch/directory"
CALL_PREFIX = "/calls/"
CALL_ROUTE = "/calls/<uuid>"  # one call's context: a single path segment after the prefix
DIRECTORY_USER = "fs_cc"  # the user of the binding's gateway-credentials
FORM = "application/x-www-form-urlencoded"

# fs_cc.acd's errors, by class: a built-in KeyError from a bug must read as a 500
ACD_REFUSALS = {UnknownAgent: (404, "agent"), UnknownQueue: (404, "queue"),
                InvalidStatus: (400, "status"), InvalidTransition: (409, "status")}
REFUSALS = (commands.CommandError, *ACD_REFUSALS)

_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Content Too Large",
            415: "Unsupported Media Type", 409: "Conflict", 500: "Internal Server Error",
            503: "Service Unavailable"}


def _refuse_browsers(environ):
    """HttpError 403 for a request carrying a browser's marks (Origin, Sec-Fetch-*)."""
    if "HTTP_ORIGIN" in environ or any(key.startswith("HTTP_SEC_FETCH_") for key in environ):
        raise HttpError(403, "browsers may not use the engine's control interface")


def _route_of(path):
    """(route, argument) a path asks for: (CALL_ROUTE, uuid) for one call, else (path, None)."""
    if path.startswith(CALL_PREFIX):
        uuid = path[len(CALL_PREFIX):]
        if uuid and "/" not in uuid:
            return CALL_ROUTE, uuid
    return path, None


class HttpError(Exception):
    """An answer other than 200, with the JSON error body's message and field."""

    def __init__(self, status, error, field=None, headers=()):
        super().__init__(error)
        self.status = status
        self.error = error
        self.field = field
        self.headers = list(headers)


def refusal(exc):
    """(status, field) of a domain error the backend raised (one of REFUSALS)."""
    if isinstance(exc, commands.CommandError):
        return exc.status, exc.field
    return next(answer for cls, answer in ACD_REFUSALS.items() if isinstance(exc, cls))


class ControlApp:
    """WSGI application serving the control interface over a ControlBackend and a bus."""

    _ALLOWED = {"/commands": "POST", "/events": "GET", "/health": "GET", "/agents": "GET",
                "/queues": "GET", "/calls": "GET", CALL_ROUTE: "GET", DIRECTORY_PATH: "POST"}

    def __init__(self, backend, secret, bus=None, heartbeat=HEARTBEAT_SECONDS, catalog=None,
                 prompts_dir=None):
        """``catalog``: a function returning the engine's current Catalog, for the directory;
        ``prompts_dir``: the folder of spoken prompts served at /prompts/ (None: none)."""
        if not secret:
            raise ConfigError("the control interface needs a secret (control_secret)")
        self.backend = backend
        self.bus = bus
        self.heartbeat = heartbeat
        self.catalog = catalog
        self.prompts_dir = prompts_dir
        self._secret_text = secret
        self._secret = secret.encode("utf-8")

    def __call__(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        try:
            if path.startswith(prompts.PREFIX):
                return self._prompt(method, path, environ, start_response)
            route, argument = _route_of(path)
            self._guard(method, path, route, environ)
            if route == "/events":
                return self._events(start_response)
            if route == DIRECTORY_PATH:
                return self._directory(environ, start_response)
            status, body = 200, self._route(route, argument, environ)
            headers = []
        except HttpError as exc:
            status, headers = exc.status, exc.headers
            body = {"error": exc.error, "field": exc.field}
        except Exception:  # the control loop must outlive any one request
            logger.exception("control request %s %s failed", method, path)
            status, body, headers = 500, {"error": "internal error", "field": None}, []
        payload = json.dumps(body).encode("utf-8")
        start_response(f"{status} {_REASONS.get(status, 'Error')}",
                       [("Content-Type", "application/json"),
                        ("Content-Length", str(len(payload))),
                        ("Cache-Control", "no-store"),
                        ("X-Content-Type-Options", "nosniff"), *headers])
        return [payload]

    def _prompt(self, method, path, environ, start_response):
        # the one route without the secret: mod_http_cache fetches spoken prompts here
        _refuse_browsers(environ)
        if method not in ("GET", "HEAD"):
            raise HttpError(405, "prompts are read with GET", headers=[("Allow", "GET, HEAD")])
        file_path = prompts.prompt_file(self.prompts_dir, path)
        if file_path is None:
            raise HttpError(404, f"no such prompt {path}")
        return prompts.serve(file_path, method, start_response)

    def _guard(self, method, path, route, environ):
        """Refuse browsers, unknown routes, wrong methods and callers without the secret."""
        _refuse_browsers(environ)
        if method == "OPTIONS":  # there is no CORS preflight to answer, on any path
            raise HttpError(405, "OPTIONS is not served", headers=[("Allow", "GET, POST")])
        allowed = self._ALLOWED.get(route)
        if allowed is None:
            raise HttpError(404, f"no such resource {path}")
        if method != allowed:
            raise HttpError(405, f"{path} takes {allowed} only", headers=[("Allow", allowed)])
        if route == DIRECTORY_PATH:
            if not self._basic_authorized(environ.get("HTTP_AUTHORIZATION", "")):
                logger.warning("directory request from %s refused: no or wrong credentials "
                               "(the binding's gateway-credentials must be %s:<control secret>)",
                               environ.get("REMOTE_ADDR"), DIRECTORY_USER)
                raise HttpError(401, f"{DIRECTORY_PATH} needs the control secret "
                                     f"(HTTP Basic, user {DIRECTORY_USER})")
        elif route != "/health" and not self._authorized(environ.get("HTTP_AUTHORIZATION", "")):
            raise HttpError(401, "the control secret is required (Authorization: Bearer)",
                            headers=[("WWW-Authenticate", 'Bearer realm="fs_cc control"')])

    def _authorized(self, header):
        scheme, _, token = header.partition(" ")
        # compare_digest takes as long whatever prefix matches: the secret cannot be guessed
        # byte by byte from response times
        return scheme == "Bearer" and hmac.compare_digest(token.strip().encode("utf-8"),
                                                          self._secret)

    def _basic_authorized(self, header):
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(token.strip(), validate=True).partition(b":")
        except binascii.Error:
            return False
        # both compared, always: the time taken tells nothing of which one was wrong
        return (hmac.compare_digest(user, DIRECTORY_USER.encode("utf-8"))
                & hmac.compare_digest(password, self._secret))

    def _route(self, path, argument, environ):
        if path == "/health":
            health = getattr(self.backend, "health", None)
            return health() if health is not None else {"ok": True}
        if path == "/commands":
            return {"result": self._execute(self._command(environ))}
        if path == "/agents":
            return {"agents": self.backend.agents()}
        if path == "/queues":
            return {"queues": self.backend.queues()}
        if path == CALL_ROUTE:
            return {"call": self._call_context(argument)}
        return {"calls": self.backend.calls()}

    def _call_context(self, uuid):
        try:
            return self.backend.call_context(uuid)
        except REFUSALS as exc:  # UnknownTarget: a call this engine does not know (404)
            status, field = refusal(exc)
            raise HttpError(status, str(exc), field) from exc

    def _command(self, environ):
        body = self._body(environ, "application/json", "a command")
        try:
            return commands.decode(body)
        except commands.CommandError as exc:
            raise HttpError(exc.status, str(exc), exc.field) from exc
        except codec.FieldError as exc:
            raise HttpError(400, str(exc), exc.field) from exc

    @staticmethod
    def _body(environ, wanted, what):
        content_type = environ.get("CONTENT_TYPE", "")
        # parameters (a charset) allowed for the form only: mod_xml_curl sends none, curl may
        media_type = content_type.partition(";")[0] if wanted == FORM else content_type
        if media_type.strip().lower() != wanted:
            raise HttpError(415, f"{what} is sent as {wanted}, not {content_type!r}",
                            "Content-Type")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise HttpError(400, "Content-Length is not a number", "Content-Length") from None
        if length > MAX_BODY:
            raise HttpError(413, f"{what} is at most {MAX_BODY} bytes", "Content-Length")
        return environ["wsgi.input"].read(length)

    def _directory(self, environ, start_response):
        if self.catalog is None:
            raise HttpError(503, "this engine serves no directory")
        query = _fields(environ.get("QUERY_STRING", ""))
        try:
            switch = directory.SwitchBinding.from_query(query)
        except directory.BadDirectoryQuery as exc:
            raise HttpError(400, str(exc), exc.field) from exc
        fields = _fields(self._body(environ, FORM, "a directory request")
                         .decode("utf-8", errors="replace"))
        document = directory.answer(self.catalog(), fields, switch, self._secret_text)
        logger.debug("directory %s %s@%s (%s): %s", fields.get("section"), fields.get("user"),
                     fields.get("key_value"), fields.get("action"),
                     "not found" if document is directory.NOT_FOUND else "found")
        payload = document.encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(payload))),
                                  ("Cache-Control", "no-store"),
                                  ("X-Content-Type-Options", "nosniff")])
        return [payload]

    def _execute(self, command):
        try:
            result = self.backend.execute(command)
        except REFUSALS as exc:
            status, field = refusal(exc)
            logger.info("control command %s refused (%s, %s): %s", command.TYPE, status, field,
                        exc)
            raise HttpError(status, str(exc), field) from exc
        logger.info("control command %s done", command.TYPE)
        return result

    def _events(self, start_response):
        if self.bus is None:
            raise HttpError(503, "this engine publishes no events")
        stream = EventStream(self.bus, self.heartbeat)
        start_response("200 OK", list(sse.HEADERS))
        return stream


def _fields(text):
    """The first value of each field of a form or query string, percent-decoded as UTF-8."""
    return {name: values[0] for name, values in
            urllib.parse.parse_qs(text, keep_blank_values=True, errors="replace").items()}


class EventStream:
    """One /events response: every event the bus publishes from now on, as SSE frames.

    Subscribed when built, so nothing published after the response starts is missed. The
    server calls ``close()`` when the response ends or its client goes away.
    """

    def __init__(self, bus, heartbeat, backlog=STREAM_BACKLOG):
        self.heartbeat = heartbeat
        self._queue = queue.Queue(maxsize=backlog)
        self._overflowed = False
        self._subscription = bus.subscribe(self._offer)

    def _offer(self, event):
        try:
            self._queue.put_nowait(event)
        except queue.Full:  # a reader that stopped reading must not grow the engine's memory
            self._overflowed = True

    def __iter__(self):
        # a first frame at once: the reader knows the stream is open (headers go out with it)
        yield sse.comment("fs_cc events").encode("utf-8")
        while not self._overflowed:
            try:
                event = self._queue.get(timeout=self.heartbeat)
            except queue.Empty:
                yield sse.comment("heartbeat").encode("utf-8")
                continue
            yield sse.event_frame(event).encode("utf-8")
        logger.warning("control /events reader fell %s events behind; stream cut",
                       self._queue.maxsize)

    def close(self):
        """Stop the subscription."""
        self._subscription.close()


class ControlServer:
    """Serves :class:`ControlApp` on a loopback port inside the engine (gevent)."""

    def __init__(self, backend, host="127.0.0.1", port=8022, *, secret, bus=None,
                 heartbeat=HEARTBEAT_SECONDS, catalog=None, prompts_dir=None,
                 setting="FS_CC_CONTROL_PORT (or --control-port)"):
        self._app = ControlApp(backend, secret, bus, heartbeat, catalog, prompts_dir)
        self._bind = (host, port, setting)
        self._server = None

    def start(self):
        """Bind (PortUnavailable when the port cannot be had) and serve in the background."""
        # in a pool, so that stop() ends the event streams too (it kills what is still running)
        self._server = WSGIServer(listen(*self._bind), self._app, spawn=Pool(), log=None,
                                  error_log=logging.getLogger(__name__ + ".wsgi"))
        self._server.start()
        logger.info("control interface on http://%s:%s", *self.address)

    @property
    def address(self):
        """The (host, port) actually bound (before start: as configured)."""
        if self._server is None:
            return self._bind[:2]
        return self._server.address

    def stop(self, timeout=2):
        """Stop serving."""
        if self._server is not None:
            self._server.stop(timeout=timeout)
