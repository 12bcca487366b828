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


def engine_refusal(exc, error_class=WebError):
    """The web error answering the engine's ControlUnavailable (503) or ControlRefused (its own
    400, 404 or 409 with the field it named; 409 for any other status)."""
    from fs_cc.control import ControlUnavailable

    if isinstance(exc, ControlUnavailable):
        return error_class("the engine is unavailable; try again in a moment", status=503)
    status = exc.status if exc.status in (400, 404, 409) else 409
    return error_class(exc.error, field=exc.field, status=status)
