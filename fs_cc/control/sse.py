"""Server-sent events (text/event-stream) of domain events: the frames written and read back.

One event is one frame: ``id: <engine>:<seq>`` and one ``data:`` line holding
:func:`fs_cc.events.encode` (JSON on one line: json.dumps escapes newlines inside texts).
A line starting with ``:`` is a comment (the heartbeat); a blank line ends a frame.
"""

import dataclasses
import typing

from fs_cc import events

CONTENT_TYPE = "text/event-stream"
HEADERS = [("Content-Type", f"{CONTENT_TYPE}; charset=utf-8"),
           ("Cache-Control", "no-store"),
           # a proxy in front (nginx) must pass each frame on at once, not when its buffer fills
           ("X-Accel-Buffering", "no")]


def event_id(event):
    """The SSE id of an event: its engine and its sequence number there."""
    return f"{event.engine}:{event.seq}"


def event_frame(event):
    """The frame of one domain event."""
    return f"id: {event_id(event)}\ndata: {events.encode(event)}\n\n"


def comment(text):
    """A comment frame (clients ignore it; it keeps the connection and its proxies awake)."""
    return f": {text}\n\n"


def named_frame(name, data="{}"):
    """A frame of a named event (a browser hears it only through addEventListener(name))."""
    return f"event: {name}\ndata: {data}\n\n"


@dataclasses.dataclass(frozen=True)
class Frame:
    """One frame read from a stream: its id, event name (None: "message") and data.

    A comment (``comment`` true) holds its text in ``data``.
    """

    id: typing.Optional[str]
    event: typing.Optional[str]
    data: str
    comment: bool = False


def read_frames(lines, comments=False):
    """The frames of a stream given as lines (str or bytes, with or without their line end).

    A frame without data is no frame (as EventSource does). Comments are skipped, or with
    ``comments`` yielded as they come (a reader may act on a heartbeat: see if it should stop).
    """
    frame_id, name, data = None, None, []
    for raw in lines:
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield Frame(frame_id, name, "\n".join(data))
            frame_id, name, data = None, None, []
            continue
        if line.startswith(":"):
            if comments:
                yield Frame(None, None, line[1:].strip(), comment=True)
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "data":
            data.append(value)
        elif key == "id":
            frame_id = value
        elif key == "event":
            name = value
