"""The time zone pages show times in, for any blueprint (the app factory sets it up)."""

from flask import current_app


def display_timezone():
    """The time zone pages show times in (a zoneinfo.ZoneInfo)."""
    return current_app.extensions["fs_cc_timezone"]
