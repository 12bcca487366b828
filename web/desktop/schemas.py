"""The desktop API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields

WHEN = "ISO 8601 date-time (UTC)"


class StatusSchema(Schema):
    """A move of the agent: a status and, for not_ready, the reason."""

    status = fields.String(required=True, metadata={
        "description": "available, not_ready, logged_out (the engine says what it accepts)"})
    reason = fields.String(metadata={"description": "why (a not_ready reason code)"})


class QueueMoveSchema(Schema):
    """A queue to log in to or out of."""

    queue = fields.String(required=True)


class WrapUpSchema(Schema):
    """What the agent files a call as (or has typed so far, for a draft)."""

    disposition = fields.String(metadata={"description": "one of the queue's dispositions"})
    notes = fields.String(metadata={"description": "at most 4000 characters"})
    customer_id = fields.Integer(allow_none=True, metadata={
        "description": "the customer the call concerned"})


class FiledSchema(Schema):
    """A call as filed."""

    call_uuid = fields.String(required=True)
    agent = fields.String(required=True)
    username = fields.String(allow_none=True)
    queue = fields.String(allow_none=True)
    disposition = fields.String(required=True)
    notes = fields.String(required=True)
    customer_id = fields.Integer(allow_none=True)
    created_at = fields.String(metadata={"description": WHEN})
    updated_at = fields.String(metadata={"description": WHEN})


class DraftSchema(Schema):
    """What the agent has typed in a call's wrap-up so far."""

    call_uuid = fields.String(required=True)
    disposition = fields.String(required=True)
    notes = fields.String(required=True)
    customer_id = fields.Integer(allow_none=True)
    updated_at = fields.String(metadata={"description": WHEN})


class OwedSchema(Schema):
    """A call the agent answered that waits for its disposition."""

    call_uuid = fields.String(required=True)
    caller = fields.String(allow_none=True)
    queue = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True, metadata={"description": WHEN})


class DesktopStateSchema(Schema):
    """The agent, the queues (the agent's first, ``member`` true) and the calls owed."""

    extension = fields.String(required=True)
    agent = fields.Dict(allow_none=True, metadata={
        "description": "the engine's agent: status, status_since, queues, skills"})
    queues = fields.List(fields.Dict(), metadata={
        "description": "name, strategy, waiting, agents_available, agents_logged_in, member"})
    flows = fields.List(fields.String(), metadata={
        "description": "the IVR flows a caller can be transferred into (kind ivr)"})
    owed = fields.List(fields.Nested(OwedSchema))


class AgentSchema(Schema):
    """The agent after the move, as the engine reports it."""

    extension = fields.String()
    status = fields.String()


class PopSchema(Schema):
    """The screen pop of a call offered to or served by the agent."""

    call = fields.Dict(required=True, metadata={"description": (
        "the engine's context: uuid, caller, caller_name, did, state, queue, agent, "
        "offered_to, started_at, queued_at, waited, ivr {flow, path, inputs}, origin "
        "(inbound, callback, adopted)")})
    known = fields.Boolean(required=True, metadata={"description": "the caller is a customer"})
    lookup = fields.Dict(allow_none=True, metadata={
        "description": "as /api/crm/lookup: the customer and their last contacts"})
    new_caller = fields.Dict(allow_none=True, metadata={
        "description": "a new customer form's prefill (phones) when the caller is unknown"})
    dispositions = fields.List(fields.String(), required=True)
    draft = fields.Nested(DraftSchema, allow_none=True)
    filed = fields.Nested(FiledSchema, allow_none=True)


class DtmfSchema(Schema):
    """Digits to send to the caller's leg."""

    digits = fields.String(required=True, metadata={"description": "0-9 * # A-D, at most 32"})


class TransferSchema(Schema):
    """Where the caller goes (a blind transfer)."""

    kind = fields.String(required=True, metadata={"description": "agent, queue, ivr or number"})
    target = fields.String(required=True, metadata={
        "description": "an extension, a queue's or flow's name, or a phone number"})


class DialSchema(Schema):
    """The number an agent calls from the desktop, or a customer's phone from the CRM."""

    number = fields.String(metadata={"description": "digits, +, * and #, at most 32"})
    phone_id = fields.Integer(metadata={
        "description": "a customer's phone (its number stays on the server: the CRM may show "
                       "it masked); instead of number"})


class DialDoneSchema(Schema):
    """The outbound call the engine started: the agent's phone rings first."""

    call_uuid = fields.String(metadata={"description": "the number's leg, naming the call"})
    leg_uuid = fields.String(metadata={"description": "the agent's phone"})
    agent = fields.String()
    number = fields.String()
    ringing = fields.Boolean()


class ConsultSchema(Schema):
    """Who the agent consults before handing the caller over."""

    kind = fields.String(required=True, metadata={"description": "agent or number"})
    target = fields.String(required=True, metadata={
        "description": "an agent's extension or a phone number"})


class ConferenceDoneSchema(Schema):
    """The three-way conference the engine made."""

    call_uuid = fields.String()
    room = fields.String(metadata={"description": "the conference's name on the switch"})
    members = fields.List(fields.String(), metadata={
        "description": "the channels in it: the caller, the agent, the consulted party"})


class ControlDoneSchema(Schema):
    """What the engine did (its own shape per control)."""

    call_uuid = fields.String()
