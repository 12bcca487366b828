"""Errors of the account and role services; each names the field at fault and its status."""

from web.errors import WebError


class AccountError(WebError):
    """A change to a user or a role was refused; ``field`` names the value at fault."""

    status = 400


class NotFound(AccountError):
    """No user or role has that id or name."""

    status = 404


class Conflict(AccountError):
    """The value is taken, or the change would leave no one able to manage users."""

    status = 409
