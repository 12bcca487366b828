"""Errors raised by web services; each carries what the HTTP boundary needs to answer."""


class WebError(Exception):
    """Base of web service errors: a message, the field at fault and an HTTP status."""

    status = 400

    def __init__(self, message, field=None, status=None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def to_dict(self):
        """The JSON error body: ``{"error": ..., "field": ...}``."""
        return {"error": self.message, "field": self.field}


class InvalidFilter(WebError):
    """A query parameter (filter or paging) is not valid."""

    status = 400


class InvalidRecord(WebError):
    """A call record payload is missing a field or holds a bad value."""

    status = 400


class AuthenticationRequired(WebError):
    """No valid session or API token came with the request."""

    status = 401


class Forbidden(WebError):
    """The user is known but their role does not allow the action."""

    status = 403
