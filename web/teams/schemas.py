"""The teams API's shapes (web.api.openapi checks requests against them)."""

from marshmallow import Schema, fields

WHEN = "ISO 8601 date-time (UTC)"


class TeamCreateSchema(Schema):
    """A new team: its name, supervisors (one or more, holding supervise) and members."""

    name = fields.String(required=True, metadata={"description": "unique, at most 64 characters"})
    description = fields.String()
    supervisors = fields.List(fields.String(), required=True,
                              metadata={"description": "usernames"})
    members = fields.List(fields.String(), metadata={
        "description": "usernames; a user is a member of one team at most"})


class TeamChangeSchema(Schema):
    """The fields of a team to change; a list given replaces the team's."""

    name = fields.String()
    description = fields.String()
    supervisors = fields.List(fields.String())
    members = fields.List(fields.String())


class TeamSchema(Schema):
    """A team with its supervisors' and members' usernames."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    description = fields.String(required=True)
    supervisors = fields.List(fields.String(), required=True)
    members = fields.List(fields.String(), required=True)
    created_at = fields.String(metadata={"description": WHEN})
    updated_at = fields.String(metadata={"description": WHEN})


class TeamListSchema(Schema):
    """Every team, by name."""

    teams = fields.List(fields.Nested(TeamSchema), required=True)


class TeamDeletedSchema(Schema):
    """The team removed."""

    id = fields.Integer(required=True)
    deleted = fields.Boolean(required=True)
