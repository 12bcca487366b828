"""/api/messages, /api/notices and the live /api/chat/stream (permission desktop.use).

The stream polls the database (CHAT_POLL_SECONDS, about a second) for rows addressed to the
user, opening a session for each poll only, so any web process serves any user and a message
is never held in one process's memory. Each frame's id is the stream's cursor: a browser that
reconnects sends it back as Last-Event-ID and gets what it missed.
"""

import json
import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from fs_cc.control import sse
from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.auth.models import User
from web.chat import schemas
from web.chat.services import EVERYONE, Chat, Cursor
from web.events.views import login_check
from web.extensions import db
from web.teams.services import TeamService

USE = "desktop.use"
TAG = "chat"
POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000

bp = Blueprint("chat_api", __name__, url_prefix="/api", template_folder="templates")


def chat_for(user):
    """The Chat of ``user`` on the app's session."""
    return Chat(db.session, TeamService(db.session), user)


def chat():
    """The request user's Chat."""
    return chat_for(g.user)


@bp.get("/messages")
@permission_required(USE)
@operation(query=schemas.MessagesQuerySchema, response=schemas.MessagesSchema, tag=TAG)
def messages():
    """The user's conversations (everyone they may write to), or with ``with`` one's messages."""
    service = chat()
    cursor = str(service.cursor())
    username = request.args.get("with")
    if username:
        return jsonify(messages=[m.to_dict() for m in service.conversation(username)],
                       cursor=cursor)
    return jsonify(conversations=service.conversations(), cursor=cursor)


@bp.post("/messages")
@permission_required(USE)
@operation(body=schemas.SendSchema, response=schemas.MessageSchema, status=201, tag=TAG)
def send():
    """Send a message to someone of one's team or its supervisors (403 for anyone else)."""
    data = request.get_json()
    return jsonify(chat().send(data["to"], data["body"]).to_dict()), 201


@bp.post("/messages/<int:message_id>/read")
@permission_required(USE)
@operation(response=schemas.MessageSchema, tag=TAG)
def read(message_id):
    """Mark a message to the user read, with every earlier one of its sender."""
    return jsonify(chat().mark_read(message_id).to_dict())


@bp.get("/notices")
@permission_required(USE)
@operation(response=schemas.NoticeListSchema, tag=TAG)
def notices():
    """The notices in force for the user (their teams' and everyone's), newest first."""
    service = chat()
    return jsonify(notices=service.notices(), cursor=str(service.cursor()))


@bp.post("/notices")
@permission_required(USE)
@operation(body=schemas.NoticePostSchema, response=schemas.NoticeSchema, status=201, tag=TAG)
def post_notice():
    """Post a notice to a team one supervises (admins: any team, or everyone)."""
    data = request.get_json()
    notice = chat().post_notice(data["title"], data.get("body", ""), data.get("team"),
                                data.get("expires_at"))
    return jsonify(notice.to_dict()), 201


@bp.post("/notices/<int:notice_id>/ack")
@permission_required(USE)
@operation(response=schemas.NoticeSchema, tag=TAG)
def ack(notice_id):
    """Acknowledge a notice (it leaves the user's banner)."""
    return jsonify(chat().ack(notice_id))


def frame(kind, data, cursor):
    """The SSE frame of one message or notice, its id the cursor after it."""
    return f"id: {cursor}\n" + sse.named_frame(kind, json.dumps(data, ensure_ascii=False))


def frames(app, user_id, cursor, poll, heartbeat, still_allowed=lambda: True,
           sleep=time.sleep):
    """The SSE text of one user's chat stream from ``cursor``: new rows each ``poll`` seconds,
    a heartbeat comment (and the login checked again) each ``heartbeat`` seconds."""
    yield f"retry: {RETRY_MS}\n" + sse.comment("fs_cc chat")
    quiet = 0.0
    while True:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                if user is None or not user.active:
                    return
                found, cursor = chat_for(user).since(cursor)
            finally:
                db.session.remove()  # no connection held between polls
        for kind, data, after in found:
            yield frame(kind, data, after)
        if found:
            quiet = 0.0
        elif quiet >= heartbeat:
            if not still_allowed():
                return
            quiet = 0.0
            yield sse.comment("heartbeat")
        sleep(poll)
        quiet += poll


@bp.get("/chat/stream")
@permission_required(USE)
@operation(query=schemas.StreamQuerySchema, content_type="text/event-stream",
           response_description="Server-sent events: `message` and `notice` frames (their "
                                "data as /api/messages and /api/notices give them), each "
                                "id a cursor for Last-Event-ID; heartbeats as comments",
           tag=TAG)
def stream():
    """Messages to and from the user and notices for them, live; resumes after Last-Event-ID."""
    last = request.headers.get("Last-Event-ID")
    if last:
        cursor = Cursor.parse(last, "Last-Event-ID")
    elif request.args.get("after"):
        cursor = Cursor.parse(request.args["after"], "after")
    else:
        cursor = chat().cursor()
    config = current_app.config
    body = frames(current_app._get_current_object(), g.user.id, cursor,
                  config.get("CHAT_POLL_SECONDS", POLL_SECONDS),
                  config.get("CHAT_HEARTBEAT_SECONDS", HEARTBEAT_SECONDS), login_check())
    response = Response(body, content_type=dict(sse.HEADERS)["Content-Type"])
    for name, value in sse.HEADERS:
        if name != "Content-Type":
            response.headers[name] = value
    return response


@bp.app_context_processor
def _notice_teams():
    def chat_notice_teams():
        """The teams the page's user may post a notice to (None first: everyone)."""
        user = g.get("user")
        if user is None or not user.can(USE):
            return []
        teams = TeamService(db.session)
        if user.can(EVERYONE):
            return [None] + [team.name for team in teams.list()]
        return [team.name for team in teams.supervised_by(user)]

    return {"chat_notice_teams": chat_notice_teams}
