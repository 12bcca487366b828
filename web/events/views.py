"""GET /api/events: the live events the user may see, as server-sent events.

The stream needs a server that serves other requests while it is open: ``fs-cc web`` is
gevent's WSGIServer in a monkey-patched process, one greenlet a request. The stream holds no
database connection (the session ends with the request's app context, before streaming).
"""

import redis
from flask import Blueprint, Response, current_app, g

from fs_cc.bus import RedisBus
from fs_cc.control import sse
from web.api.openapi import operation
from web.auth import sessions
from web.auth.decorators import permission_required
from web.auth.tokens import token_still_valid
from web.events.relay import BACKOFF, BusSource, ControlSource, EventRelay, Notice
from web.events.scope import scope_for
from web.extensions import db

bp = Blueprint("events", __name__, url_prefix="/api")

HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000  # how long a browser waits before reconnecting a dropped stream


def engine_bus_is_redis(settings):
    """Whether the engine publishes on Redis (fs_cc.engine.build_bus's rule, kept in step)."""
    return bool(settings.redis_url) and settings.state_store == "redis"


def event_source(app):
    """Where this web process reads live events: the engine's Redis stream, else its /events."""
    settings = app.extensions["fs_cc_settings"]
    backoff = app.config.get("EVENTS_RECONNECT_BACKOFF", BACKOFF)  # (first, longest) seconds
    if engine_bus_is_redis(settings):
        url = settings.redis_url
        prefix = app.config.get("FS_CC_BUS_PREFIX")  # None: the engine's default

        def make_bus():
            client = redis.Redis.from_url(url)
            return RedisBus(client) if prefix is None else RedisBus(client, prefix=prefix)

        return BusSource(make_bus, backoff)
    return ControlSource(app.extensions["fs_cc_control"].default, backoff)


@bp.record_once
def _build_relay(state):
    # one relay per app (per web process), built with the app; it reads nothing until a stream
    # opens, so CLI commands and tests that build the app connect nowhere
    state.app.extensions["fs_cc_events"] = EventRelay(event_source(state.app))


def relay():
    """The app's EventRelay."""
    return current_app.extensions["fs_cc_events"]


def frames(events_relay, scope, heartbeat, still_allowed=lambda: True):
    """The SSE text of one stream: events ``scope`` lets through, notices, heartbeats.

    At each heartbeat ``still_allowed()`` is asked again: once the login it was opened with has
    ended (logout, a password change, a timeout, a revoked token, a disabled user) the stream
    ends, and the browser's reconnect is refused like any request without a login.
    """
    listener = events_relay.listen()
    try:
        yield f"retry: {RETRY_MS}\n" + sse.comment("fs_cc live events")
        while not listener.overflowed:
            item = listener.get(heartbeat)
            if item is None:
                if not still_allowed():
                    return
                yield sse.comment("heartbeat")
            elif isinstance(item, Notice):
                yield sse.named_frame(item.value)
            elif scope.sees(item):
                yield sse.event_frame(item)
    finally:  # the client went away (the server closes the response) or fell too far behind
        events_relay.forget(listener)


def login_check():
    """A callable telling whether the login of this request (its session, or its API token)
    still holds; it opens its own app context, as the stream runs after the request's."""
    app = current_app._get_current_object()
    token = getattr(g, "api_token", None)
    token_id = token.id if token is not None else None
    session_hash = None if token_id is not None else sessions.current_session_hash()

    def still_allowed():
        with app.app_context():
            try:
                if token_id is not None:
                    return token_still_valid(token_id)
                return sessions.session_still_live(session_hash)
            finally:
                db.session.remove()

    return still_allowed


@bp.route("/events")
@permission_required("calls.view_own")
@operation(content_type="text/event-stream",
           response_description="Server-sent events: each frame's data is one event as JSON "
                                "(fs_cc.events), heartbeats as comments")
def stream():
    """Live events: everything for supervising roles, an agent's own extension and calls."""
    heartbeat = current_app.config.get("EVENTS_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS)
    response = Response(frames(relay(), scope_for(g.user), heartbeat, login_check()),
                        content_type=dict(sse.HEADERS)["Content-Type"])
    for name, value in sse.HEADERS:
        if name != "Content-Type":
            response.headers[name] = value
    return response
