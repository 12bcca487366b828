"""The query parameters a page or JSON route takes, checked at its door.

A parameter the view does not name is refused (400, ``field`` naming it) rather than ignored:
a misspelt filter (``?quee=sales``) would otherwise show every call as if it were the answer.
The JSON routes declare theirs in their OpenAPI schema (web.api.openapi), the pages with filters
in a ``PAGE_PARAMS`` tuple of their own.
"""

from flask import request

from web.errors import InvalidFilter


class UnknownParameter(InvalidFilter):
    """The request's query string holds a parameter the route does not take."""

    def __init__(self, name, allowed):
        takes = ", ".join(sorted(allowed)) if allowed else "no query parameters"
        super().__init__(f"{name}: unknown query parameter (this takes {takes})", field=name)
        self.name = name


def check_query(allowed):
    """Raise UnknownParameter for the first query parameter of the request not in ``allowed``."""
    for name in request.args:
        if name not in allowed:
            raise UnknownParameter(name, allowed)
