"""The catalog API's shapes (queues, agents, DID routes) as marshmallow schemas.

Bodies are checked here for names and types; web.catalog.rules keeps the value rules (the
patterns below are copied from it into the document, not checked twice).
"""

from marshmallow import Schema, fields

from fs_cc.acd.config import NAME_RE
from fs_cc.acd.strategy import STRATEGIES
from web.catalog.rules import EXTENSION_RE, NUMBER_RE, SKILL_LEVELS

WHEN = "ISO 8601 date-time (UTC)"
LEVEL = "member level, 1 or more (1 is offered calls first)"


def _name(description="letters, digits, _, - and .", **kwargs):
    return fields.String(metadata={"pattern": NAME_RE.pattern, "maxLength": 64,
                                   "description": description}, **kwargs)


def _extension(**kwargs):
    return fields.String(metadata={"pattern": EXTENSION_RE.pattern,
                                   "description": "digits only"}, **kwargs)


def _number(**kwargs):
    return fields.String(metadata={"pattern": NUMBER_RE.pattern,
                                   "description": "digits, with an optional leading +"},
                         **kwargs)


def _skills():
    return fields.Dict(keys=fields.String(), values=fields.Integer(strict=True), allow_none=True,
                       metadata={"description": f"skill name: level {SKILL_LEVELS.start} to "
                                                f"{SKILL_LEVELS.stop - 1}"})


def _members(description):
    return fields.Dict(keys=fields.String(), values=fields.Integer(strict=True), allow_none=True,
                       metadata={"description": description})


class QueueEditSchema(Schema):
    """The fields of a queue that an edit may change (each one optional)."""

    strategy = fields.String(metadata={"enum": sorted(STRATEGIES),
                                       "description": "how an agent is picked"})
    moh = fields.String(allow_none=True, metadata={"description": "music on hold",
                                                   "maxLength": 255})
    enabled = fields.Boolean()
    name = _name("the queue's name (cannot change)")


class QueueCreateSchema(QueueEditSchema):
    """A new queue."""

    name = _name(required=True)


class QueueSchema(Schema):
    """A queue with its members."""

    name = fields.String(required=True)
    strategy = fields.String(required=True)
    moh = fields.String(allow_none=True)
    enabled = fields.Boolean(required=True)
    members = _members(f"agent extension: {LEVEL}")
    created_at = fields.String(metadata={"description": WHEN})
    updated_at = fields.String(metadata={"description": WHEN})


class AgentEditSchema(Schema):
    """The fields of an agent that an edit may change (`queues` replaced whole)."""

    extension = _extension()
    name = fields.String(allow_none=True, metadata={"maxLength": 128})
    user_id = fields.Integer(allow_none=True, strict=True,
                             metadata={"description": "the user who works as this agent"})
    skills = _skills()
    queues = _members(f"queue name: {LEVEL}")
    enabled = fields.Boolean()


class AgentCreateSchema(AgentEditSchema):
    """A new agent."""

    extension = _extension(required=True)


class CatalogAgentSchema(Schema):
    """An agent of the catalog."""

    extension = fields.String(required=True)
    name = fields.String()
    user_id = fields.Integer(allow_none=True)
    username = fields.String(allow_none=True)
    skills = fields.Dict(keys=fields.String(), values=fields.Integer())
    queues = _members(f"queue name: {LEVEL}")
    enabled = fields.Boolean(required=True)
    created_at = fields.String(metadata={"description": WHEN})
    updated_at = fields.String(metadata={"description": WHEN})


class DidEditSchema(Schema):
    """The fields of a DID route that an edit may change."""

    number = _number()
    flow = fields.String(metadata={"description": "an IVR flow (a file of ivr_flows/)"})
    description = fields.String(allow_none=True, metadata={"maxLength": 255})
    enabled = fields.Boolean()
    default = fields.Boolean(metadata={
        "description": "the route of numbers that have none"})


class DidCreateSchema(DidEditSchema):
    """A new DID route."""

    number = _number(required=True)
    flow = fields.String(required=True, metadata={"description": "an IVR flow"})


class DidSchema(Schema):
    """A DID route."""

    number = fields.String(required=True)
    flow = fields.String(required=True)
    description = fields.String()
    enabled = fields.Boolean(required=True)
    default = fields.Boolean(required=True)
    created_at = fields.String(metadata={"description": WHEN})
    updated_at = fields.String(metadata={"description": WHEN})


class CatalogVersionSchema(Schema):
    """The catalog's version, bumped by every change."""

    version = fields.Integer(required=True)


class QueueListSchema(CatalogVersionSchema):
    """Every queue."""

    queues = fields.List(fields.Nested(QueueSchema), required=True)


class AgentListSchema(CatalogVersionSchema):
    """Every agent of the catalog."""

    agents = fields.List(fields.Nested(CatalogAgentSchema), required=True)


class DidListSchema(CatalogVersionSchema):
    """Every DID route."""

    dids = fields.List(fields.Nested(DidSchema), required=True)
