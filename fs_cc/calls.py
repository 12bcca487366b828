"""The record of one inbound call, filled in as the call travels IVR, queue and agent."""

import dataclasses
import datetime
import typing

from fs_cc import events

# Who hung up is a fact of fs_cc.events; the record holds the same Enum.
HangupSide = events.HangupSide


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.datetime.now(datetime.timezone.utc)


@dataclasses.dataclass
class CallRecord:
    """Everything a call record holds; the engine or the journal fills it, the worker stores it."""

    uuid: str
    caller_number: str = ""
    did: str = ""
    ivr_path: typing.List[str] = dataclasses.field(default_factory=list)
    queue: typing.Optional[str] = None
    agent: typing.Optional[str] = None  # the agent's extension, e.g. "1000"
    started_at: datetime.datetime = dataclasses.field(default_factory=utcnow)
    queued_at: typing.Optional[datetime.datetime] = None
    answered_at: typing.Optional[datetime.datetime] = None  # agent answered
    ended_at: typing.Optional[datetime.datetime] = None
    hangup_cause: typing.Optional[str] = None
    hangup_side: typing.Optional[HangupSide] = None
    flow: typing.Optional[str] = None  # the IVR flow the call ran (events.FlowStarted)
    flow_version: typing.Optional[int] = None  # its version, when numbered

    @property
    def wait_seconds(self):
        """Seconds from queue entry to agent answer (or to the end when abandoned)."""
        if self.queued_at is None:
            return 0.0
        until = self.answered_at or self.ended_at
        if until is None:
            return 0.0
        return max(0.0, (until - self.queued_at).total_seconds())

    @property
    def talk_seconds(self):
        """Seconds from agent answer to the end of the call."""
        if self.answered_at is None or self.ended_at is None:
            return 0.0
        return max(0.0, (self.ended_at - self.answered_at).total_seconds())

    def to_dict(self):
        """Return a JSON-safe dict (ISO 8601 times, the side's value) for the storing task."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, datetime.datetime):
                value = value.isoformat()
            elif isinstance(value, list):
                value = list(value)
            out[field.name] = value
        if self.hangup_side is not None:
            # HangupSide(...) also takes the plain value code not yet moved to the Enum assigns
            out["hangup_side"] = HangupSide(self.hangup_side).value
        out["wait_seconds"] = round(self.wait_seconds, 3)
        out["talk_seconds"] = round(self.talk_seconds, 3)
        return out

    @classmethod
    def from_dict(cls, data):
        """Build a record back from :meth:`to_dict` output (derived figures are recomputed)."""
        kwargs = {}
        for field in dataclasses.fields(cls):
            if field.name not in data:
                continue
            value = data[field.name]
            if field.name.endswith("_at") and isinstance(value, str):
                value = datetime.datetime.fromisoformat(value)
            elif field.name == "hangup_side" and value is not None:
                value = HangupSide(value)
            kwargs[field.name] = value
        return cls(**kwargs)
