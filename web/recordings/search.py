"""Finding recordings: the filters of the Recordings page and API, who may hear which, the rows.

A recording is shown with its call: the caller comes from the call record, the disposition from
the wrap-up of the agent the recording names. The recording's own queue and agent (from the
engine's recording event) win over the call record's, which names the last agent of a call
transferred on.
"""

import dataclasses
import typing

import sqlalchemy as sa

from web.calls.filters import UTC, CallFilters, parse_filters
from web.calls.models import CallRecord
from web.desktop.models import CallDisposition
from web.errors import InvalidFilter
from web.recordings.models import Recording, RecordingStatus
from web.sql import escape_like

LISTEN = "recordings.listen"
LISTEN_OWN = "recordings.listen_own"
ANY_STATUS = "any"
STATUSES = tuple(status.value for status in RecordingStatus) + (ANY_STATUS,)
# a day's recording is 86,400 s; past this a duration bound is a typing slip, not a filter
MAX_SECONDS = 10**7

AGENT = sa.func.coalesce(Recording.agent, CallRecord.agent)
QUEUE = sa.func.coalesce(Recording.queue, CallRecord.queue)


@dataclasses.dataclass
class RecordingFilters:
    """What to select from the recordings: the call filters, then the recording's own."""

    call: CallFilters = dataclasses.field(default_factory=CallFilters)
    disposition: typing.Optional[str] = None
    min_seconds: typing.Optional[int] = None  # inclusive
    max_seconds: typing.Optional[int] = None  # inclusive
    status: str = RecordingStatus.STORED.value  # or ANY_STATUS

    @property
    def limit(self):
        """Rows a page."""
        return self.call.limit

    @property
    def offset(self):
        """Rows skipped."""
        return self.call.offset

    def query_args(self):
        """The filters (not the paging) as query parameters, for links to other pages."""
        args = self.call.query_args()
        if self.disposition:
            args["disposition"] = self.disposition
        for name in ("min_seconds", "max_seconds"):
            if getattr(self, name) is not None:
                args[name] = getattr(self, name)
        if self.status != RecordingStatus.STORED.value:
            args["status"] = self.status
        return args


def _seconds(args, name):
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise InvalidFilter(f"{name}: {raw!r} is not a whole number of seconds",
                            field=name) from exc
    if not 0 <= value <= MAX_SECONDS:
        raise InvalidFilter(f"{name}: must be between 0 and {MAX_SECONDS}", field=name)
    return value


def parse_recording_filters(args, default_limit=50, max_limit=500, paging="offset", tz=UTC):
    """Build RecordingFilters from query ``args`` (InvalidFilter naming the parameter at fault).

    Dates, caller, queue, agent and paging as the call list reads them (web.calls.filters).
    """
    filters = RecordingFilters(call=parse_filters(args, default_limit=default_limit,
                                                  max_limit=max_limit, paging=paging, tz=tz))
    disposition = (args.get("disposition") or "").strip()
    if len(disposition) > 64:
        raise InvalidFilter("disposition: longer than 64 characters", field="disposition")
    filters.disposition = disposition or None
    filters.min_seconds = _seconds(args, "min_seconds")
    filters.max_seconds = _seconds(args, "max_seconds")
    if (filters.min_seconds is not None and filters.max_seconds is not None
            and filters.min_seconds > filters.max_seconds):
        raise InvalidFilter("max_seconds: must not be less than min_seconds", field="max_seconds")
    status = (args.get("status") or "").strip() or RecordingStatus.STORED.value
    if status not in STATUSES:
        raise InvalidFilter(f"status: must be one of {', '.join(STATUSES)}", field="status")
    filters.status = status
    return filters


def own_recordings(viewer):
    """The SQL condition that scopes recordings to what ``viewer`` may hear.

    ``recordings.listen``: all; ``recordings.listen_own``: those of the calls the viewer's
    extension took (none without an extension: a missing agent must not match them all);
    ``viewer`` None is the system itself.
    """
    if viewer is None or viewer.can(LISTEN):
        return sa.true()
    if viewer.can(LISTEN_OWN) and viewer.extension:
        return AGENT == viewer.extension
    return sa.false()


@dataclasses.dataclass(frozen=True)
class RecordingRow:
    """A recording as the page lists it: when, who called, where it went, how it was filed."""

    recording: Recording
    caller: typing.Optional[str]
    queue: typing.Optional[str]
    agent: typing.Optional[str]
    disposition: typing.Optional[str]

    @property
    def playable(self):
        """Whether there is a file to hear (the audio and download routes serve it)."""
        return self.recording.status is RecordingStatus.STORED

    @property
    def seconds(self):
        """The length in seconds, or None when the switch did not say."""
        ms = self.recording.duration_ms
        return None if ms is None else ms / 1000

    def to_dict(self):
        """The JSON shape of the API (URLs added by the view)."""
        recording = self.recording
        return {"id": recording.id, "call_uuid": recording.call_uuid,
                "started_at": recording.started_at.isoformat(), "caller": self.caller,
                "queue": self.queue, "agent": self.agent, "disposition": self.disposition,
                "duration_ms": recording.duration_ms, "size_bytes": recording.size_bytes,
                "status": recording.status.value, "mode": recording.mode}


class RecordingSearch:
    """Searches the recordings on one database session, as one viewer may see them."""

    def __init__(self, session):
        self.session = session

    @staticmethod
    def _query(viewer):
        # one wrap-up a call and agent (uq_call_dispositions_call_agent): no row counted twice
        return (sa.select(Recording, CallRecord.caller_number, QUEUE, AGENT,
                          CallDisposition.disposition)
                .outerjoin(CallRecord, CallRecord.uuid == Recording.call_uuid)
                .outerjoin(CallDisposition,
                           sa.and_(CallDisposition.call_uuid == Recording.call_uuid,
                                   CallDisposition.agent == AGENT))
                .where(own_recordings(viewer)))

    def search(self, filters, viewer=None):
        """Recordings matching ``filters``, newest first, one page; returns (rows, total)."""
        query = self._query(viewer)
        call = filters.call
        if filters.status != ANY_STATUS:
            query = query.where(Recording.status == RecordingStatus(filters.status))
        if call.date_from is not None:
            query = query.where(Recording.started_at >= call.date_from)
        if call.date_to is not None:
            query = query.where(Recording.started_at < call.date_to)
        if call.caller:
            pattern = "%" + escape_like(call.caller) + "%"
            query = query.where(CallRecord.caller_number.like(pattern, escape="\\"))
        if call.queue:
            query = query.where(QUEUE == call.queue)
        if call.agent:
            query = query.where(AGENT == call.agent)
        if filters.disposition:
            query = query.where(CallDisposition.disposition == filters.disposition)
        if filters.min_seconds is not None:
            query = query.where(Recording.duration_ms >= filters.min_seconds * 1000)
        if filters.max_seconds is not None:
            # a recording of 12.4 s is within "at most 12 s" as the page rounds it
            query = query.where(Recording.duration_ms < (filters.max_seconds + 1) * 1000)
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = self.session.execute(
            query.order_by(Recording.started_at.desc(), Recording.id.desc())
            .limit(filters.limit).offset(filters.offset)).all()
        return [RecordingRow(*row) for row in rows], total

    def visible(self, recording_id, viewer):
        """The recording ``recording_id`` as a RecordingRow if ``viewer`` may hear it, else None.

        Someone else's recording is None as one that does not exist: which ones exist is not
        for an agent who may hear only their own to learn.
        """
        row = self.session.execute(self._query(viewer).where(Recording.id == recording_id)).first()
        return None if row is None else RecordingRow(*row)

    def queue_names(self):
        """Distinct queue names of recordings, for the filter form."""
        return [name for (name,) in self.session.execute(
            sa.select(Recording.queue).where(Recording.queue.is_not(None))
            .distinct().order_by(Recording.queue))]

    def disposition_names(self):
        """Distinct dispositions filed, for the filter form."""
        return [name for (name,) in self.session.execute(
            sa.select(CallDisposition.disposition).distinct()
            .order_by(CallDisposition.disposition))]
