"""The messages and notices API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields

WHEN = "ISO 8601 date-time (UTC)"


class PersonSchema(Schema):
    """A user as messages name them."""

    username = fields.String(required=True)
    display_name = fields.String(required=True)


class MessageSchema(Schema):
    """One message; ``read_at`` is its read receipt (null: unread)."""

    id = fields.Integer(required=True)
    sender = fields.Nested(PersonSchema, data_key="from", required=True)
    to = fields.Nested(PersonSchema, required=True)
    body = fields.String(required=True)
    created_at = fields.String(metadata={"description": WHEN})
    read_at = fields.String(allow_none=True, metadata={"description": WHEN})


class ConversationSchema(Schema):
    """A person one may write to (or who wrote), the last message and how many are unread."""

    with_ = fields.Nested(PersonSchema, data_key="with", required=True)
    last = fields.Nested(MessageSchema, allow_none=True)
    unread = fields.Integer(required=True)


class MessagesQuerySchema(Schema):
    """Whose conversation to read (none: the list of conversations)."""

    with_ = fields.String(data_key="with", metadata={"description": "a username"})


class MessagesSchema(Schema):
    """The conversations, or the messages of one; ``cursor`` is where a stream should start."""

    conversations = fields.List(fields.Nested(ConversationSchema))
    messages = fields.List(fields.Nested(MessageSchema))
    cursor = fields.String(required=True, metadata={
        "description": "give it to /api/chat/stream as ?after= to miss nothing"})


class SendSchema(Schema):
    """A message to send."""

    to = fields.String(required=True, metadata={"description": "the recipient's username"})
    body = fields.String(required=True, metadata={"description": "at most 2000 characters"})


class NoticeSchema(Schema):
    """A notice in force; ``acked_at`` is when the asking user acknowledged it."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    author = fields.Nested(PersonSchema, allow_none=True)
    team = fields.String(allow_none=True, metadata={"description": "null: everyone"})
    created_at = fields.String(metadata={"description": WHEN})
    expires_at = fields.String(allow_none=True, metadata={"description": WHEN})
    acked_at = fields.String(allow_none=True, metadata={"description": WHEN})


class NoticeListSchema(Schema):
    """The notices in force for the user, newest first."""

    notices = fields.List(fields.Nested(NoticeSchema), required=True)
    cursor = fields.String(required=True)


class NoticePostSchema(Schema):
    """A notice to post."""

    title = fields.String(required=True, metadata={"description": "at most 200 characters"})
    body = fields.String(metadata={"description": "at most 4000 characters"})
    team = fields.String(allow_none=True, metadata={
        "description": "a team's name; absent or null: everyone (admins only)"})
    expires_at = fields.String(allow_none=True, metadata={
        "description": "ISO 8601; without an offset, in the display time zone"})


class StreamQuerySchema(Schema):
    """Where the stream starts (a Last-Event-ID header wins over it)."""

    after = fields.String(metadata={"description": "a cursor, as /api/messages gives it"})
