"""The Messages page: voicemail and recorded messages with a player, SMS requests and their
status, survey answers. Seeing it (and hearing a message) needs ``calls.view_all``."""

from flask import Blueprint, render_template, send_file

from web.auth.decorators import permission_required
from web.errors import WebError
from web.extensions import db
from web.messages.services import MessageQueries

bp = Blueprint("messages", __name__, template_folder="templates")

VIEW = "calls.view_all"
LIMIT = 100


class NoMessage(WebError):
    """No such voice message, or its file is gone."""

    status = 404


@bp.route("/messages")
@permission_required(VIEW)
def index():
    """The latest voice messages, SMS requests and survey answers, newest first."""
    queries = MessageQueries(db.session)
    return render_template("messages/index.html", voicemails=queries.voicemails(LIMIT),
                           sms_requests=queries.sms_requests(LIMIT),
                           surveys=queries.surveys(LIMIT))


@bp.get("/messages/<int:message_id>/audio")
@permission_required(VIEW)
def audio(message_id):
    """A voice message's WAV file, as the switch wrote it."""
    row = MessageQueries(db.session).message(message_id)
    if row is None:
        raise NoMessage(f"no message {message_id}", field="message_id")
    try:
        return send_file(row.path, mimetype="audio/wav", conditional=True)
    except (FileNotFoundError, PermissionError):
        raise NoMessage(f"the file of message {message_id} is not readable here ({row.path})",
                        field="message_id") from None
