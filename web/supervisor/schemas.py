"""The supervisor API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields

from web.desktop.schemas import AgentSchema  # noqa: F401 (the agent after a move: one shape)


class BoardQuerySchema(Schema):
    """Whose agents the board shows."""

    team = fields.String(metadata={"description": (
        "a team's id, or all; absent: the team the user supervises (else works in), or all "
        "when they have none")})


class TeamChoiceSchema(Schema):
    """A team the board can be narrowed to."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


class BoardSchema(Schema):
    """The wallboard: queues with their figures, agents, calls, the colour thresholds."""

    engine_available = fields.Boolean(required=True)
    error = fields.String(allow_none=True)
    queues = fields.List(fields.Dict(), metadata={"description": (
        "per queue: name, strategy, waiting, longest_wait, agents {state: count}, offered, "
        "answered, abandoned, short_abandoned, overflowed, service_level, asa, aht, "
        "answered_30m, abandoned_30m, service_level_30m (docs/acd.rst)")})
    agents = fields.List(fields.Dict(), metadata={
        "description": "extension, name, queues, status, status_since, skills"})
    calls = fields.List(fields.Dict(), metadata={
        "description": "calls in progress: uuid, caller, did, started_at, state, queue, agent"})
    thresholds = fields.Dict(metadata={
        "description": "figure -> [warn, alarm] (wallboard_thresholds)"})
    teams = fields.List(fields.Nested(TeamChoiceSchema), metadata={
        "description": "every team, by name (the team selector)"})
    team = fields.Nested(TeamChoiceSchema, allow_none=True, metadata={
        "description": "the team shown (its agents only); null: every agent"})


class AgentStatusSchema(Schema):
    """An agent's new status."""

    status = fields.String(required=True, metadata={
        "description": "available, not_ready, logged_out (the engine says what it accepts)"})
    reason = fields.String(metadata={"description": "why (default: by supervisor NAME)"})


class SuperviseSchema(Schema):
    """How the supervisor joins the call."""

    mode = fields.String(required=True, metadata={"description": "listen, whisper or barge"})


class SupervisingSchema(Schema):
    """The supervisor's phone rings into the call."""

    call_uuid = fields.String()
    supervisor = fields.String()
    mode = fields.String()
    ringing = fields.Boolean()


class CallerPrioritySchema(Schema):
    """A waiting caller's new priority."""

    priority = fields.Integer(required=True, metadata={
        "description": "0 to 100; higher is served first (the wait so far still counts)"})


class CallerPrioritizedSchema(Schema):
    """The caller's priority as the engine has it now."""

    call_uuid = fields.String()
    queue = fields.String()
    priority = fields.Integer()


class MoveCallerSchema(Schema):
    """Where a waiting caller goes."""

    queue = fields.String(required=True, metadata={
        "description": "the queue it waits in from now, at its old place (time in line)"})


class TakeOverSchema(Schema):
    """A take-over under way: the supervisor's phone rings."""

    call_uuid = fields.String()
    extension = fields.String(metadata={"description": "the supervisor's phone"})
    leg_uuid = fields.String()
    ringing = fields.Boolean()
