"""A customer's contact history: one timeline, newest first, drawn from several sources.

Each source is a function ``(session, context) -> [TimelineItem]`` registered with
``@timeline_source``: calls (by the customer's numbers, with their recordings), callbacks,
notes and the record's change history today; tickets, SMS and follow-ups add their own source
when they exist, without this module changing. Calls and callbacks are matched by every way
a switch may have written the number (web.crm.phones.dialled_forms), exactly, so the call
records' own index on the caller number serves.
``customer_for_number`` is the screen pop's lookup: the caller's customer and last contacts.
"""

import dataclasses
import datetime
import typing

import sqlalchemy as sa
from flask import has_request_context, url_for

from web.callbacks.models import CallbackRequest
from web.calls.models import CallRecord
from web.crm.models import Customer, CustomerNote, CustomerPhone, HistoryEntry
from web.crm.phones import dialled_forms, try_parse
from web.recordings.models import Recording, RecordingStatus
from web.desktop.models import CallDisposition

SOURCES = []
LOOKUP_CONTACTS = 5


@dataclasses.dataclass(frozen=True)
class TimelineItem:
    """One contact or change: when, what kind, a one-line title and the details."""

    at: datetime.datetime
    kind: str  # call, callback, note, change (tickets, sms... later)
    title: str
    detail: dict

    def to_dict(self):
        """The item as JSON."""
        return {"at": self.at.isoformat(), "kind": self.kind, "title": self.title,
                "detail": self.detail}


@dataclasses.dataclass(frozen=True)
class TimelineContext:
    """What a source needs: the customer, the forms of their numbers, how many items at most."""

    customer: typing.Any
    numbers: tuple
    limit: int


def timeline_source(function):
    """Register a timeline source (it returns at most ``context.limit`` items, newest first)."""
    SOURCES.append(function)
    return function


def numbers_of(customer, region):
    """Every dialled form of every phone of ``customer``."""
    forms = set()
    for phone in customer.phones:
        parsed = try_parse(phone.e164, region)
        if parsed is not None:
            forms.update(dialled_forms(parsed, region))
    return tuple(sorted(forms))


def timeline(session, customer, region, limit=100):
    """The customer's timeline: every source's items, newest first, ``limit`` at most."""
    context = TimelineContext(customer, numbers_of(customer, region), limit)
    items = [item for source in SOURCES for item in source(session, context)]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


@timeline_source
def calls(session, context):
    """The customer's calls, with their queue, agent, outcome, recordings and disposition."""
    if not context.numbers:
        return []
    rows = session.execute(
        sa.select(CallRecord).where(CallRecord.caller_number.in_(context.numbers))
        .order_by(CallRecord.started_at.desc()).limit(context.limit)).scalars().all()
    recordings = {}
    if rows:
        for recording in session.execute(sa.select(Recording).where(
                Recording.call_uuid.in_([row.uuid for row in rows]))).scalars():
            recordings.setdefault(recording.call_uuid, []).append(
                {"id": recording.id, "path": recording.path,
                 "status": recording.status.value, "duration_ms": recording.duration_ms,
                 "url": _recording_url(recording)})
    filed = {}
    if rows:
        for row in session.execute(sa.select(CallDisposition).where(
                CallDisposition.call_uuid.in_([row.uuid for row in rows]))
                .order_by(CallDisposition.id)).scalars():
            filed.setdefault(row.call_uuid, {"disposition": row.disposition, "notes": row.notes,
                                             "agent": row.agent})
    items = []
    for row in rows:
        answered = row.answered_at is not None
        title = (f"call to {row.queue or row.did}: " + (
            f"answered by {row.agent}, {row.talk_seconds:.0f} s" if answered
            else f"not answered ({row.hangup_cause or 'in progress'})"))
        if row.uuid in filed:
            title += f" — {filed[row.uuid]['disposition']}"
        items.append(TimelineItem(row.started_at, "call", title, {
            "uuid": row.uuid, "caller_number": row.caller_number, "did": row.did,
            "queue": row.queue, "agent": row.agent, "answered": answered,
            "wait_seconds": row.wait_seconds, "talk_seconds": row.talk_seconds,
            "hangup_cause": row.hangup_cause, "recordings": recordings.get(row.uuid, []),
            "disposition": filed.get(row.uuid)}))
    return items


def _recording_url(recording):
    # the permission-checked player route (web.recordings.views), for a file there is to hear
    if recording.status is not RecordingStatus.STORED or not has_request_context():
        return None
    return url_for("recordings.audio", recording_id=recording.id)


@timeline_source
def callbacks(session, context):
    """Callbacks asked for from, or to, one of the customer's numbers."""
    if not context.numbers:
        return []
    rows = session.execute(
        sa.select(CallbackRequest).where(sa.or_(
            CallbackRequest.number.in_(context.numbers),
            CallbackRequest.caller_number.in_(context.numbers)))
        .order_by(CallbackRequest.requested_at.desc()).limit(context.limit)).scalars().all()
    return [TimelineItem(row.requested_at, "callback",
                         f"callback in {row.queue}: {row.state.value}", {
                             "id": row.id, "queue": row.queue, "number": row.number,
                             "state": row.state.value, "attempts": row.attempts,
                             "agent": row.agent, "last_word": row.last_word})
            for row in rows]


@timeline_source
def notes(session, context):
    """Notes agents wrote."""
    rows = session.execute(
        sa.select(CustomerNote).where(CustomerNote.customer_id == context.customer.id)
        .order_by(CustomerNote.at.desc()).limit(context.limit)).scalars().all()
    return [TimelineItem(row.at, "note", f"note by {row.author or 'someone'}", row.to_dict())
            for row in rows]


@timeline_source
def changes(session, context):
    """Changes of the record (created, edited, merged, deleted, restored)."""
    rows = session.execute(
        sa.select(HistoryEntry).where(HistoryEntry.customer_id == context.customer.id)
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc()).limit(context.limit)
    ).scalars().all()
    return [TimelineItem(row.at, "change", _change_title(row), row.to_dict()) for row in rows]


def _change_title(row):
    who = row.username or "someone"
    if row.field is None:
        return f"{row.action} by {who}"
    return f"{row.field}: {row.old_value or '—'} → {row.new_value or '—'} ({row.action} by {who})"


@dataclasses.dataclass(frozen=True)
class Lookup:
    """The screen pop: the caller's customer, their last contacts, other customers sharing it."""

    number: str  # E.164
    customer: typing.Any
    contacts: list
    others: list  # ids of other live customers with the same number

    def to_dict(self):
        """The JSON shape of /api/crm/lookup."""
        return {"number": self.number, "customer": self.customer.to_dict(),
                "contacts": [item.to_dict() for item in self.contacts],
                "other_customer_ids": self.others}


def customer_for_number(session, raw_number, region, contacts=LOOKUP_CONTACTS):
    """The Lookup of whoever calls from ``raw_number`` (any common format), or None.

    None for a number that is no valid number or that no live customer has. When several
    share it (a family's landline), the one changed last is shown and the others listed.
    """
    parsed = try_parse(str(raw_number or ""), region)
    if parsed is None:
        return None
    found = session.execute(
        sa.select(Customer).join(CustomerPhone, CustomerPhone.customer_id == Customer.id)
        .where(CustomerPhone.e164 == parsed.e164, Customer.deleted_at.is_(None))
        .order_by(Customer.updated_at.desc(), Customer.id.desc())).scalars().unique().all()
    if not found:
        return None
    return Lookup(parsed.e164, found[0], timeline(session, found[0], region, contacts),
                  [customer.id for customer in found[1:]])
