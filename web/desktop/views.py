"""The agent desktop's page (/desktop) and its JSON API (/api/desktop), for the user's own
extension only (permission desktop.use)."""

from flask import Blueprint, current_app, g, jsonify, render_template, request

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.crm.masking import masked_lookup, phone_visibility
from web.crm.wiring import region
from web.desktop import schemas
from web.desktop.services import Desktop, DesktopError
from web.desktop.softphone import softphone_context
from web.extensions import db

PERMISSION = "desktop.use"
TAG = "desktop"

pages = Blueprint("desktop", __name__)
bp = Blueprint("desktop_api", __name__, url_prefix="/api/desktop")


def desktop():
    """The request user's Desktop."""
    visibility = phone_visibility()
    return Desktop(db.session, current_app.extensions["fs_cc_control"], g.user, region(),
                   lambda found: masked_lookup(found, visibility))


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DesktopError("the body must be a JSON object", field=None)
    return data


@pages.get("/desktop")
@permission_required(PERMISSION)
def index():
    """The agent's desktop: one page, live through the event stream."""
    return render_template("desktop/index.html", extension=g.user.extension,
                           softphone=softphone_context())


@bp.get("/state")
@permission_required(PERMISSION)
@operation(response=schemas.DesktopStateSchema, errors=(409, 503), tag=TAG)
def state():
    """The agent's live state, the queues and the calls that wait for a disposition."""
    return jsonify(desktop().state())


@bp.post("/status")
@permission_required(PERMISSION)
@operation(body=schemas.StatusSchema, response=schemas.AgentSchema, errors=(409, 503), tag=TAG)
def status():
    """Move the agent; going available is refused (409) while a call waits for its disposition."""
    data = _body()
    return jsonify(desktop().set_status(data.get("status"), data.get("reason", "")))


@bp.post("/login")
@permission_required(PERMISSION)
@operation(body=schemas.QueueMoveSchema, response=schemas.AgentSchema, errors=(409, 503),
           tag=TAG)
def login():
    """Log the agent in to a queue."""
    return jsonify(desktop().login(_body().get("queue")))


@bp.post("/logout")
@permission_required(PERMISSION)
@operation(body=schemas.QueueMoveSchema, response=schemas.AgentSchema, errors=(409, 503),
           tag=TAG)
def logout():
    """Log the agent out of a queue."""
    return jsonify(desktop().logout(_body().get("queue")))


@bp.post("/end-wrap-up")
@permission_required(PERMISSION)
@operation(response=schemas.AgentSchema, errors=(409, 503), tag=TAG)
def end_wrap_up():
    """End wrap-up early; refused (409) while a call waits for its disposition."""
    return jsonify(desktop().end_wrap_up())


@bp.get("/calls/<call_uuid>/pop")
@permission_required(PERMISSION)
@operation(response=schemas.PopSchema, errors=(409, 503), tag=TAG)
def pop(call_uuid):
    """The screen pop of a call offered to the agent (or being served by them)."""
    return jsonify(desktop().pop(call_uuid))


@bp.put("/calls/<call_uuid>/draft")
@permission_required(PERMISSION)
@operation(body=schemas.WrapUpSchema, response=schemas.DraftSchema, errors=(409, 503), tag=TAG)
def save_draft(call_uuid):
    """Keep what the agent has typed in the call's wrap-up so far."""
    return jsonify(desktop().save_draft(call_uuid, _body()).to_dict())


@bp.post("/calls/<call_uuid>/disposition")
@permission_required(PERMISSION)
@operation(body=schemas.WrapUpSchema, response=schemas.FiledSchema, errors=(409, 503),
           tag=TAG)
def file_call(call_uuid):
    """File the call: a disposition of its queue's list (required), notes, the customer."""
    return jsonify(desktop().file(call_uuid, _body()).to_dict())


@bp.post("/calls/<call_uuid>/hold")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def hold(call_uuid):
    """Put the caller on hold music (the agent's own connected call)."""
    return jsonify(desktop().hold(call_uuid))


@bp.post("/calls/<call_uuid>/unhold")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def unhold(call_uuid):
    """Take the caller off hold."""
    return jsonify(desktop().unhold(call_uuid))


@bp.post("/calls/<call_uuid>/mute")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def mute(call_uuid):
    """Mute the agent's microphone towards the caller."""
    return jsonify(desktop().mute(call_uuid))


@bp.post("/calls/<call_uuid>/unmute")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def unmute(call_uuid):
    """Let the caller hear the agent again."""
    return jsonify(desktop().unmute(call_uuid))


@bp.post("/dial")
@permission_required(PERMISSION)
@operation(body=schemas.DialSchema, response=schemas.DialDoneSchema, errors=(404, 409, 503),
           tag=TAG)
def dial():
    """Click-to-dial: ring the agent's own phone, then the number (or a customer's phone)."""
    body = _body()
    return jsonify(desktop().dial(body.get("number"), body.get("phone_id")))


@bp.post("/calls/<call_uuid>/dtmf")
@permission_required(PERMISSION)
@operation(body=schemas.DtmfSchema, response=schemas.ControlDoneSchema, errors=(409, 503),
           tag=TAG)
def dtmf(call_uuid):
    """Send DTMF digits to the caller's leg."""
    return jsonify(desktop().send_dtmf(call_uuid, _body().get("digits")))


@bp.post("/calls/<call_uuid>/transfer")
@permission_required(PERMISSION)
@operation(body=schemas.TransferSchema, response=schemas.ControlDoneSchema, errors=(409, 503),
           tag=TAG)
def transfer(call_uuid):
    """Blind transfer of the caller to an agent, a queue, an IVR flow or a number."""
    data = _body()
    return jsonify(desktop().transfer(call_uuid, data.get("kind"), data.get("target")))


@bp.post("/calls/<call_uuid>/consult")
@permission_required(PERMISSION)
@operation(body=schemas.ConsultSchema, response=schemas.ControlDoneSchema, errors=(409, 503),
           tag=TAG)
def consult(call_uuid):
    """Consult transfer: put the caller aside and call an agent or a number first."""
    data = _body()
    return jsonify(desktop().consult(call_uuid, data.get("kind"), data.get("target")))


@bp.post("/calls/<call_uuid>/consult/complete")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def complete_consult(call_uuid):
    """Hand the caller to the consulted party; the agent goes to wrap-up."""
    return jsonify(desktop().complete_consult(call_uuid))


@bp.post("/calls/<call_uuid>/consult/cancel")
@permission_required(PERMISSION)
@operation(response=schemas.ControlDoneSchema, errors=(409, 503), tag=TAG)
def cancel_consult(call_uuid):
    """Drop the consulted party; the agent talks to the caller again."""
    return jsonify(desktop().cancel_consult(call_uuid))


@bp.post("/calls/<call_uuid>/conference")
@permission_required(PERMISSION)
@operation(response=schemas.ConferenceDoneSchema, errors=(409, 503), tag=TAG)
def conference(call_uuid):
    """Three-way: join the caller, the agent and the consulted party in one conference."""
    return jsonify(desktop().conference(call_uuid))
