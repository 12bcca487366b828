"""Calls in progress, read from the engine's control interface, as web.agents reads agents."""

import dataclasses
import datetime
import logging
import typing

from fs_cc.control import ControlRefused, ControlUnavailable

logger = logging.getLogger(__name__)

# what a call in progress is doing, from its agent leg (if the ACD rang one yet)
WITH_AGENT = "with agent"
RINGING_AGENT = "ringing agent"
IVR_OR_QUEUE = "IVR or queue"


@dataclasses.dataclass
class LiveCall:
    """One call in progress as the Calls page shows it."""

    uuid: str
    caller: str
    did: str
    started_at: typing.Optional[datetime.datetime]
    state: str
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None

    def to_dict(self):
        """The JSON shape served at ``/calls/in-progress``."""
        return {"uuid": self.uuid, "caller": self.caller, "did": self.did,
                "started_at": self.started_at.isoformat() if self.started_at else None,
                "state": self.state, "queue": self.queue, "agent": self.agent}


@dataclasses.dataclass
class LiveCalls:
    """One look at the engine's calls in progress, or why the engine could not be asked."""

    calls: list
    engine_available: bool
    error: typing.Optional[str] = None

    def to_dict(self):
        """The JSON shape served at ``/calls/in-progress``."""
        return {"engine_available": self.engine_available, "error": self.error,
                "calls": [call.to_dict() for call in self.calls]}


def _time(text):
    if not text:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=datetime.timezone.utc) if parsed.tzinfo is None else parsed


def live_call(call):
    """A LiveCall from one entry of the engine's ``calls()`` (fs_cc.control.commands.CallView)."""
    legs = call.get("legs") or []
    agent_leg = next((leg for leg in legs if (leg.get("variables") or {}).get("fs_cc_agent")),
                     None)
    queue = next(((leg.get("variables") or {}).get("fs_cc_queue") for leg in legs
                  if (leg.get("variables") or {}).get("fs_cc_queue")), None)
    if agent_leg is None:
        state, agent = IVR_OR_QUEUE, None
    else:
        agent = agent_leg["variables"]["fs_cc_agent"]
        state = RINGING_AGENT if agent_leg.get("phase") == "ringing" else WITH_AGENT
    return LiveCall(uuid=str(call.get("uuid") or ""), caller=call.get("caller") or "",
                    did=call.get("did") or "", started_at=_time(call.get("started_at")),
                    state=state, queue=queue, agent=agent)


class LiveCallService:
    """Asks the engine (through a ``ControlClient``) for the calls in progress."""

    def __init__(self, control):
        self.control = control

    def in_progress(self, viewer=None):
        """Calls in progress, newest first (an agent sees theirs); flagged if the engine is down."""
        try:
            calls = [live_call(call) for call in self.control.calls()]
        except ControlUnavailable as exc:
            logger.warning("engine control unavailable at %s: %s", exc.url, exc.reason)
            return LiveCalls([], False, "engine unavailable")
        except ControlRefused as exc:
            logger.warning("engine control refused (%s): %s", exc.status, exc.error)
            return LiveCalls([], False, f"engine error: {exc.error}")
        if viewer is not None and not viewer.can("calls.view_all"):
            calls = [call for call in calls if viewer.can("calls.view_own")
                     and viewer.extension is not None and call.agent == viewer.extension]
        oldest = datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)
        calls.sort(key=lambda call: call.started_at or oldest, reverse=True)
        return LiveCalls(calls, True)
