"""The catalog API's shapes (queues, agents, DID routes) as marshmallow schemas.

Bodies are checked here for names and types; web.catalog.rules keeps the value rules, and
fs_cc.acd.queue_def those of a queue's settings (the patterns, ranges and choices below are
copied from them into the document, not checked twice).
"""

from marshmallow import Schema, fields

from fs_cc.acd import queue_def
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


def _seconds(description, null_said=False):
    return fields.Float(allow_none=True, metadata={
        "minimum": 0, "description": f"{description}, in seconds"
        + ("" if null_said else "; null for the default")})


def _count(description):
    return fields.Integer(strict=True, allow_none=True, metadata={
        "minimum": 0, "description": f"{description}; null for the default"})


def _flag(description):
    return fields.Boolean(allow_none=True, metadata={"description": f"{description} (true)"})


class RelaxStepSchema(Schema):
    """One step relaxing a queue's skills with the caller's wait (fs_cc.acd.skills)."""

    after = fields.Float(required=True, metadata={"minimum": 0,
                                                  "description": "seconds of waiting"})
    minus = fields.Integer(strict=True, metadata={
        "minimum": 0, "maximum": 9, "description": "every minimum level this much lower"})
    drop = fields.Raw(metadata={"description": "true (every skill) or a list of skill names "
                                               "no longer asked"})


class QueueSettingsSchema(Schema):
    """The settings of a queue (fs_cc.acd.queue_def checks them; docs/acd.rst says what they
    do). In a request each is optional, and null means its default."""

    strategy = fields.String(allow_none=True, metadata={
        "enum": [*sorted(STRATEGIES), None],
        "description": "how an agent is picked (longest-idle)"})
    moh = fields.String(allow_none=True, metadata={
        "maxLength": 255, "description": f"music on hold: a file or a stream "
                                         f"({queue_def.DEFAULT_MOH})"})
    greeting = fields.String(allow_none=True, metadata={
        "maxLength": 255, "description": "a sound played once when the caller joins (none)"})
    announce_interval = _seconds("time between announcements of position and wait (0: none)")
    announce_position = _flag("say the caller's position")
    announce_wait = _flag("say the estimated wait")
    max_wait = _seconds("the longest wait before overflow `timeout` (0: no limit)")
    max_callers = _count("callers in line at most; one more overflows with `full` (0: no limit)")
    exit_key = fields.String(allow_none=True, metadata={
        "enum": ["", *queue_def.DTMF_KEYS, None],
        "description": "the DTMF key that leaves the queue with overflow `exit_key` (none)"})
    overflow = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True,
                           metadata={"description": (
                               f"reason ({', '.join(queue_def.OVERFLOW_REASONS)}): target "
                               "(queue:NAME, flow:NAME, voicemail[:BOX], callback or "
                               "hangup[:SOUND])")})
    wrap_up = _seconds("after-call work before the agent is available again (0)")
    ring_timeout = _seconds("how long an agent's phone rings for an offer; null for the "
                            "deployment's ring_timeout", null_said=True)
    retry_delay = _seconds("the wait before an agent who missed a caller is rung for it again; "
                           f"null for the default ({queue_def.DEFAULT_RETRY_DELAY:g})",
                           null_said=True)
    max_no_answer = _count(f"offers missed in a row before the agent is set not ready "
                           f"({queue_def.DEFAULT_MAX_NO_ANSWER}; 0: never)")
    service_level = _seconds(f"an answer within this counts for the service level "
                             f"({queue_def.DEFAULT_SERVICE_LEVEL:g})")
    record = fields.String(allow_none=True, metadata={
        "enum": [*queue_def.RECORD_MODES, None],
        "description": "record calls: off, mixed or stereo; null for the deployment's "
                       "record_calls"})
    skills = _skills()
    skill_relax = fields.List(fields.Nested(RelaxStepSchema), allow_none=True, metadata={
        "description": "steps lowering the skills asked with the caller's wait"})
    closed = _flag("closed by an admin: a caller leaves at once with `closed` (false)")
    hours = fields.Dict(allow_none=True, metadata={"description": (
        "opening hours, as the IVR condition node's: {tz, mon-fri: \"09:00-18:00\", ..., "
        "holidays: [YYYY-MM-DD]}; outside them a caller leaves at once with `closed` (null: "
        "always open)")})
    dispositions = fields.List(fields.String(), allow_none=True, metadata={"description": (
        "what an agent may file a call of the queue as in wrap-up (null: the defaults, "
        "consultation, complaint, suggestion, order, appointment, repair, wrong number, "
        "other; []: none asked)")})


class QueueEditSchema(QueueSettingsSchema):
    """The fields of a queue that an edit may change (each one optional)."""

    enabled = fields.Boolean()
    name = _name("the queue's name (cannot change)")


class QueueCreateSchema(QueueEditSchema):
    """A new queue: a name, and any setting (the others take their defaults)."""

    name = _name(required=True)


class QueueSchema(QueueSettingsSchema):
    """A queue with every setting and its members."""

    name = fields.String(required=True)
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
