"""The catalog's JSON API under ``/api/catalog`` (``/api/agents`` stays the engine's live board).

GET lists and items (permission ``catalog.view``); POST creates, PATCH edits, DELETE
disables (``catalog.manage``). Errors answer ``{"error": ..., "field": ...}`` with 400, 404 or 409.
"""

from flask import Blueprint, jsonify, request

from web.api.catalog_schemas import (AgentCreateSchema, AgentEditSchema, AgentListSchema,
                                     CatalogAgentSchema, CatalogVersionSchema, DidCreateSchema,
                                     DidEditSchema, DidListSchema, DidSchema, QueueCreateSchema,
                                     QueueEditSchema, QueueListSchema, QueueSchema)
from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.catalog.errors import InvalidField
from web.catalog.views import EDIT, READ, agent_service, did_service, queue_service

bp = Blueprint("catalog_api", __name__, url_prefix="/api/catalog")


def _body():
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidField("the body must be a JSON object", field=None)
    return data


def _listing(plural, service):
    return jsonify({plural: [row.to_dict() for row in service.list()],
                    "version": service.changes.current()})


@bp.get("")
@permission_required(READ)
@operation(response=CatalogVersionSchema)
def version():
    """The catalog version, bumped by every change."""
    return jsonify(version=queue_service().changes.current())


@bp.get("/queues")
@permission_required(READ)
@operation(response=QueueListSchema)
def queues():
    """Every queue, enabled or not, with its members {extension: level}."""
    return _listing("queues", queue_service())


@bp.post("/queues")
@permission_required(EDIT)
@operation(body=QueueCreateSchema, response=QueueSchema, status=201, errors=(409,))
def create_queue():
    """Create a queue: {name, enabled?, and any setting}; those left out take their defaults.

    201 with the queue and every setting."""
    return jsonify(queue_service().create(_body()).to_dict()), 201


@bp.get("/queues/<name>")
@permission_required(READ)
@operation(response=QueueSchema)
def queue(name):
    """One queue."""
    return jsonify(queue_service().get(name).to_dict())


@bp.patch("/queues/<name>")
@permission_required(EDIT)
@operation(body=QueueEditSchema, response=QueueSchema, errors=(409,))
def edit_queue(name):
    """Change a queue's settings or enabled flag; a setting given as null takes its default."""
    return jsonify(queue_service().update(name, _body()).to_dict())


@bp.delete("/queues/<name>")
@permission_required(EDIT)
@operation(response=QueueSchema)
def disable_queue(name):
    """Disable a queue (it stays, disabled, for its history)."""
    return jsonify(queue_service().disable(name).to_dict())


@bp.get("/agents")
@permission_required(READ)
@operation(response=AgentListSchema)
def agents():
    """Every agent, enabled or not, with its queues {queue: level} and skills."""
    return _listing("agents", agent_service())


@bp.post("/agents")
@permission_required(EDIT)
@operation(body=AgentCreateSchema, response=CatalogAgentSchema, status=201,
           errors=(409,))
def create_agent():
    """Create an agent: {extension, name?, user_id?, skills?, queues?, enabled?}; 201."""
    return jsonify(agent_service().create(_body()).to_dict()), 201


@bp.get("/agents/<extension>")
@permission_required(READ)
@operation(response=CatalogAgentSchema)
def agent(extension):
    """One agent."""
    return jsonify(agent_service().get(extension).to_dict())


@bp.patch("/agents/<extension>")
@permission_required(EDIT)
@operation(body=AgentEditSchema, response=CatalogAgentSchema, errors=(409,))
def edit_agent(extension):
    """Change an agent's name, user_id, skills, queues (replaced whole) or enabled flag."""
    return jsonify(agent_service().update(extension, _body()).to_dict())


@bp.delete("/agents/<extension>")
@permission_required(EDIT)
@operation(response=CatalogAgentSchema)
def disable_agent(extension):
    """Disable an agent."""
    return jsonify(agent_service().disable(extension).to_dict())


@bp.get("/dids")
@permission_required(READ)
@operation(response=DidListSchema)
def dids():
    """Every DID route, enabled or not; ``default`` marks the fallback route."""
    return _listing("dids", did_service())


@bp.post("/dids")
@permission_required(EDIT)
@operation(body=DidCreateSchema, response=DidSchema, status=201, errors=(409,))
def create_did():
    """Create a route: {number, flow, description?, enabled?, default?}; 201."""
    return jsonify(did_service().create(_body()).to_dict()), 201


@bp.get("/dids/<number>")
@permission_required(READ)
@operation(response=DidSchema)
def did(number):
    """One route."""
    return jsonify(did_service().get(number).to_dict())


@bp.patch("/dids/<number>")
@permission_required(EDIT)
@operation(body=DidEditSchema, response=DidSchema, errors=(409,))
def edit_did(number):
    """Change a route's flow, description, enabled flag or default mark."""
    return jsonify(did_service().update(number, _body()).to_dict())


@bp.delete("/dids/<number>")
@permission_required(EDIT)
@operation(response=DidSchema)
def disable_did(number):
    """Disable a route."""
    return jsonify(did_service().disable(number).to_dict())
