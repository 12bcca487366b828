"""The query parameters a page or JSON route takes, declared on the view and checked at its door.

A parameter the view does not name is refused (400, ``field`` naming it) rather than ignored:
a misspelt filter (``?quee=sales``) would otherwise show every call as if it were the answer.
Each decorated view carries its list (``view.query_params``), so a test can walk the app's URL
map and prove that every GET route declares one.
"""

import functools

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


def query_params(*names):
    """Let the view run only when every query parameter of the request is one of ``names``."""
    allowed = frozenset(names)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            check_query(allowed)
            return view(*args, **kwargs)

        wrapped.query_params = allowed
        return wrapped

    return decorator
