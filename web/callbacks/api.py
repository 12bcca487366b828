"""The callbacks' JSON API under ``/api/callbacks``.

GET lists (filters ``state`` — comma-separated, or ``open`` —, ``queue``, ``number``; paging
``limit``/``offset``) and shows one, with its attempts (``calls.view_all``); POST
``/<id>/cancel`` and ``/<id>/reschedule`` ``{"not_before": ISO 8601}`` change one
(``callbacks.manage``). Errors answer ``{"error": ..., "field": ...}``: 400, 404, 409, 503.
"""

from flask import Blueprint, current_app, jsonify, request

from web.api.openapi import operation
from web.api.schemas import (CallbackPageSchema, CallbackQuerySchema, CallbackSchema,
                             RescheduleSchema)
from web.auth.decorators import permission_required
from web.callbacks.services import CallbackQueries, parse_filters
from web.callbacks.views import MANAGE, VIEW, cancel_callback, reschedule_callback
from web.errors import InvalidFilter
from web.extensions import db
from web.timezone import display_timezone

bp = Blueprint("callbacks_api", __name__, url_prefix="/api/callbacks")


@bp.get("")
@permission_required(VIEW)
@operation(query=CallbackQuerySchema, response=CallbackPageSchema)
def listing():
    """Callback requests, open ones first by their place; with total, limit and offset."""
    filters = parse_filters(request.args, default_limit=current_app.config["CALLS_PER_PAGE"],
                            max_limit=current_app.config["CALLS_MAX_LIMIT"])
    rows, total = CallbackQueries(db.session).search(filters)
    return jsonify(callbacks=[row.to_dict() for row in rows], total=total,
                   limit=filters.limit, offset=filters.offset)


@bp.get("/<callback_id>")
@permission_required(VIEW)
@operation(response=CallbackSchema)
def one(callback_id):
    """One request with its attempts."""
    return jsonify(CallbackQueries(db.session).get(callback_id).to_dict())


@bp.post("/<callback_id>/cancel")
@permission_required(VIEW, MANAGE)
@operation(response=CallbackSchema, errors=(409, 503))
def cancel(callback_id):
    """Cancel a pending callback; the request after."""
    return jsonify(cancel_callback(callback_id).to_dict())


@bp.post("/<callback_id>/reschedule")
@permission_required(VIEW, MANAGE)
@operation(body=RescheduleSchema, response=CallbackSchema, errors=(409, 503))
def reschedule(callback_id):
    """Try a callback again from ``not_before`` (an offset, or the display time zone)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidFilter("the body must be a JSON object with not_before", field=None)
    unknown = sorted(set(body) - {"not_before"})
    if unknown:
        raise InvalidFilter(f"{unknown[0]}: unknown field (send not_before)", field=unknown[0])
    return jsonify(reschedule_callback(callback_id, body.get("not_before"),
                                       display_timezone()).to_dict())
