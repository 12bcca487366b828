"""The JSON API's shapes as marshmallow schemas: what the OpenAPI document shows, and what the
requests' query strings and bodies are checked against at the door (web.api.openapi).

A request schema checks names and types (an unknown field, a missing one, text where a number
belongs); the services keep their own rules (a queue name's letters, an extension's digits), so
each rule lives in one place. The response schemas describe what the views' ``to_dict``
methods give; tests/web/test_openapi.py checks real answers against them.
"""

from marshmallow import Schema, fields, validate

from fs_cc.callbacks import CallbackState
from fs_cc.states import AgentState, HangupSide

WHEN = "ISO 8601 date-time (UTC)"


def _values(enum):
    return sorted({member.value for member in enum})


class ErrorSchema(Schema):
    """Every error answer: the message, and the field at fault (None when no one field is)."""

    error = fields.String(required=True, metadata={"description": "what is wrong"})
    field = fields.String(required=True, allow_none=True, metadata={
        "description": "the field, query parameter or header at fault (dotted for nested "
                       "values, e.g. queues.sales), or null"})


class PagingQuerySchema(Schema):
    """Paging of a list."""

    limit = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "rows per answer (the server caps it)"})
    offset = fields.Integer(validate=validate.Range(min=0), metadata={
        "description": "rows to skip"})


class MeSchema(Schema):
    """Who the caller is authenticated as."""

    username = fields.String(required=True)
    role = fields.String(required=True)
    extension = fields.String(allow_none=True, required=True, metadata={
        "description": "the extension of the user's agent (an agent sees its calls)"})
    permissions = fields.List(fields.String(), required=True)


class CallQuerySchema(PagingQuerySchema):
    """Filters of the call records."""

    from_ = fields.String(data_key="from", metadata={
        "description": "started at or after: ISO 8601 date or date-time (without an offset: "
                       "the display time zone)"})
    to = fields.String(metadata={"description": "started before (a bare date includes the "
                                                "whole day)"})
    caller = fields.String(validate=validate.Length(max=64), metadata={
        "description": "caller number"})
    queue = fields.String(validate=validate.Length(max=64))
    agent = fields.String(validate=validate.Length(max=64), metadata={
        "description": "agent extension (an agent sees only its own calls whatever this says)"})


class CallRecordSchema(Schema):
    """One finished call."""

    uuid = fields.String(required=True)
    caller_number = fields.String(allow_none=True)
    did = fields.String(allow_none=True)
    ivr_path = fields.List(fields.String(), allow_none=True,
                           metadata={"description": "the IVR nodes the caller went through"})
    queue = fields.String(allow_none=True)
    agent = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True, metadata={"description": WHEN})
    queued_at = fields.String(allow_none=True, metadata={"description": WHEN})
    answered_at = fields.String(allow_none=True, metadata={"description": WHEN})
    ended_at = fields.String(allow_none=True, metadata={"description": WHEN})
    hangup_cause = fields.String(allow_none=True,
                                 metadata={"description": "FreeSWITCH's, e.g. NORMAL_CLEARING"})
    hangup_side = fields.String(allow_none=True, metadata={"enum": _values(HangupSide)})
    wait_seconds = fields.Float(allow_none=True)
    talk_seconds = fields.Float(allow_none=True)
    flow = fields.String(allow_none=True, metadata={"description": "the IVR flow the call ran"})
    flow_version = fields.Integer(allow_none=True, metadata={
        "description": "the version of that flow (GET /api/ivr/flows/{name}/versions/{v})"})


class CallPageSchema(Schema):
    """One page of call records, newest first."""

    calls = fields.List(fields.Nested(CallRecordSchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class LiveAgentSchema(Schema):
    """One agent as the engine sees it now."""

    extension = fields.String(required=True)
    name = fields.String()
    queues = fields.List(fields.String())
    status = fields.String(metadata={"enum": _values(AgentState)})
    status_since = fields.String(allow_none=True, metadata={"description": WHEN})
    last_call_ended_at = fields.String(allow_none=True, metadata={"description": WHEN})
    skills = fields.Dict(keys=fields.String(), values=fields.Integer())
    reason = fields.String(allow_none=True, metadata={"description": "not-ready reason code"})
    levels = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "queue -> the agent's level (tier) there"})
    registered = fields.Boolean(metadata={"description": "false: the phone is unregistered"})
    after_call = fields.String(allow_none=True,
                               metadata={"description": "asked during a call: not_ready:<reason> "
                                                        "or logged_out"})
    calls_answered = fields.Integer()
    talk_seconds = fields.Float()
    no_answers = fields.Integer(metadata={"description": "offers missed in a row"})


class LiveQueueSchema(Schema):
    """One queue as the engine sees it now, and today's figures (docs/acd.rst defines them)."""

    name = fields.String(required=True)
    strategy = fields.String()
    waiting = fields.Integer()
    agents_available = fields.Integer()
    agents_logged_in = fields.Integer()
    queue = fields.String()
    longest_wait = fields.Float(metadata={"description": "seconds the longest waiting caller "
                                                         "has waited"})
    agents = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "agent state -> agents of the queue in it"})
    offered = fields.Integer()
    answered = fields.Integer()
    abandoned = fields.Integer()
    short_abandoned = fields.Integer()
    overflowed = fields.Integer()
    answered_in_service_level = fields.Integer()
    service_level = fields.Float(allow_none=True)
    asa = fields.Float(allow_none=True, metadata={"description": "average speed of answer, s"})
    aht = fields.Float(allow_none=True, metadata={"description": "average handle time, s"})


class AgentBoardSchema(Schema):
    """The agents' live board; with 503, ``engine_available`` is false and ``error`` says why."""

    engine_available = fields.Boolean(required=True)
    error = fields.String(allow_none=True, required=True)
    agents = fields.List(fields.Nested(LiveAgentSchema), required=True)
    queues = fields.List(fields.Nested(LiveQueueSchema), required=True)
    field = fields.String(allow_none=True, metadata={"description": "null (with 503 only)"})


class CallbackQuerySchema(PagingQuerySchema):
    """Filters of the callback requests."""

    state = fields.String(metadata={
        "description": "comma-separated states, or open (pending and in_progress): "
                       + ", ".join(_values(CallbackState))})
    queue = fields.String(validate=validate.Length(max=64))
    number = fields.String(validate=validate.Length(max=64),
                           metadata={"description": "the number to call back"})


class CallbackAttemptSchema(Schema):
    """One attempt at a callback."""

    number = fields.Integer(required=True, metadata={"description": "1, 2... in order"})
    agent = fields.String()
    call_uuid = fields.String()
    started_at = fields.String(metadata={"description": WHEN})
    ended_at = fields.String(allow_none=True, metadata={"description": WHEN})
    outcome = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    retry_at = fields.String(allow_none=True, metadata={"description": WHEN})


class CallbackSchema(Schema):
    """A callback request and its attempts."""

    id = fields.String(required=True)
    queue = fields.String()
    number = fields.String()
    caller_number = fields.String(allow_none=True)
    call_uuid = fields.String(allow_none=True)
    since = fields.String(allow_none=True, metadata={"description": WHEN})
    priority = fields.Integer(allow_none=True)
    skills = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "skill: the least level an agent needs"})
    state = fields.String(metadata={"enum": _values(CallbackState)})
    attempts = fields.Integer()
    not_before = fields.String(allow_none=True, metadata={"description": WHEN})
    reason = fields.String(allow_none=True)
    agent = fields.String(allow_none=True)
    result_call_uuid = fields.String(allow_none=True)
    engine = fields.String(allow_none=True)
    requested_at = fields.String(allow_none=True, metadata={"description": WHEN})
    finished_at = fields.String(allow_none=True, metadata={"description": WHEN})
    attempt_list = fields.List(fields.Nested(CallbackAttemptSchema))


class CallbackPageSchema(Schema):
    """One page of callback requests, open ones first."""

    callbacks = fields.List(fields.Nested(CallbackSchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)


class RescheduleSchema(Schema):
    """When to try a callback again."""

    not_before = fields.String(required=True, metadata={
        "description": "ISO 8601 date-time; without an offset, the display time zone"})
