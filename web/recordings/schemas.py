"""The recordings API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields, validate

from web.api.schemas import CallQuerySchema
from web.recordings.search import MAX_SECONDS, STATUSES

WHEN = "ISO 8601 date-time (UTC)"


class RecordingQuerySchema(CallQuerySchema):
    """Filters of the recordings: the call records' (on the recording's start), and its own."""

    disposition = fields.String(validate=validate.Length(max=64), metadata={
        "description": "as the agent filed the call in wrap-up (exactly)"})
    min_seconds = fields.Integer(validate=validate.Range(min=0, max=MAX_SECONDS), metadata={
        "description": "lasting at least this many seconds"})
    max_seconds = fields.Integer(validate=validate.Range(min=0, max=MAX_SECONDS), metadata={
        "description": "lasting at most this many whole seconds (12.4 s is within 12)"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "stored (the default: those with a file to hear), another status, "
                       "or any"})


class RecordingSchema(Schema):
    """One recording with its call: when, caller, queue, agent, disposition, length."""

    id = fields.Integer(required=True)
    call_uuid = fields.String(required=True)
    started_at = fields.String(required=True, metadata={"description": WHEN})
    caller = fields.String(allow_none=True, metadata={
        "description": "the caller's number (null when the call record is not stored yet)"})
    queue = fields.String(allow_none=True)
    agent = fields.String(allow_none=True, metadata={"description": "the agent's extension"})
    disposition = fields.String(allow_none=True, metadata={
        "description": "how that agent filed the call, or null"})
    duration_ms = fields.Integer(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES[:-1])})
    mode = fields.String(metadata={"description": "mixed or stereo"})
    audio_url = fields.String(allow_none=True, metadata={
        "description": "the player's source (byte ranges served); null without a file"})
    download_url = fields.String(allow_none=True, metadata={
        "description": "the file as an attachment; null without a file"})


class RecordingPageSchema(Schema):
    """One page of recordings, newest first."""

    recordings = fields.List(fields.Nested(RecordingSchema), required=True)
    total = fields.Integer(required=True)
    limit = fields.Integer(required=True)
    offset = fields.Integer(required=True)
