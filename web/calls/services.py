"""Call record rules: validating the engine's payload, storing it once per UUID, searching."""

import datetime
import logging
import numbers

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from web.calls.models import CallRecord
from web.errors import InvalidRecord
from web.sql import escape_like

logger = logging.getLogger(__name__)

UTC = datetime.timezone.utc
HANGUP_SIDES = ("caller", "agent", "system")
_TEXT_FIELDS = {"caller_number": 64, "did": 64, "queue": 64, "agent": 32,
                "hangup_cause": 64, "hangup_side": 16, "flow": 64}
_TIME_FIELDS = ("started_at", "queued_at", "answered_at", "ended_at")


def _parse_time(payload, field):
    value = payload.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidRecord(f"{field}: {value!r} is not an ISO 8601 date-time",
                                field=field) from exc
    else:
        raise InvalidRecord(f"{field}: expected an ISO 8601 string", field=field)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _seconds(payload, field, start, end):
    value = payload.get(field)
    if value is None:
        if start is None or end is None:
            return 0.0
        return max(0.0, (end - start).total_seconds())
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0:
        raise InvalidRecord(f"{field}: expected a number of seconds >= 0", field=field)
    return float(value)


def parse_record(payload):
    """Validate an engine payload (``fs_cc.calls.CallRecord.to_dict()``) into column values."""
    if not isinstance(payload, dict):
        raise InvalidRecord("the record must be a JSON object", field=None)
    uuid = payload.get("uuid")
    if not isinstance(uuid, str) or not uuid.strip():
        raise InvalidRecord("uuid: required", field="uuid")
    if len(uuid) > 64:
        raise InvalidRecord("uuid: longer than 64 characters", field="uuid")
    values = {"uuid": uuid.strip()}
    for field, max_length in _TEXT_FIELDS.items():
        value = payload.get(field)
        if value is not None and not isinstance(value, str):
            raise InvalidRecord(f"{field}: expected a string", field=field)
        if value is not None and len(value) > max_length:
            raise InvalidRecord(f"{field}: longer than {max_length} characters", field=field)
        values[field] = value or None
    values["caller_number"] = values["caller_number"] or ""
    values["did"] = values["did"] or ""
    if values["hangup_side"] not in (None,) + HANGUP_SIDES:
        raise InvalidRecord(f"hangup_side: must be one of {', '.join(HANGUP_SIDES)}",
                            field="hangup_side")
    path = payload.get("ivr_path") or []
    if not isinstance(path, list) or not all(isinstance(node, str) for node in path):
        raise InvalidRecord("ivr_path: expected a list of node names", field="ivr_path")
    values["ivr_path"] = path
    version = payload.get("flow_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise InvalidRecord("flow_version: expected a whole number", field="flow_version")
    values["flow_version"] = version
    for field in _TIME_FIELDS:
        values[field] = _parse_time(payload, field)
    if values["started_at"] is None:
        raise InvalidRecord("started_at: required", field="started_at")
    values["wait_seconds"] = _seconds(payload, "wait_seconds", values["queued_at"],
                                      values["answered_at"] or values["ended_at"])
    values["talk_seconds"] = _seconds(payload, "talk_seconds", values["answered_at"],
                                      values["ended_at"])
    return values


def own_calls(viewer, agent_column):
    """The SQL condition on ``agent_column`` that scopes a query to what ``viewer`` may see."""
    if viewer is None or viewer.can("calls.view_all"):
        return sa.true()
    if viewer.can("calls.view_own") and viewer.extension:
        return agent_column == viewer.extension
    # without an extension an agent took no call; `agent == None` would match every unanswered one
    return sa.false()


class CallRecordService:
    """Stores and searches call records on one database session."""

    def __init__(self, session):
        self.session = session

    def by_uuid(self, uuid):
        """The record for call ``uuid``, or None."""
        return self.session.execute(
            sa.select(CallRecord).where(CallRecord.uuid == uuid)).scalar_one_or_none()

    def store(self, values):
        """Insert the record, or update the row with the same UUID; commit; return (row, created)."""
        record = self.by_uuid(values["uuid"])
        created = record is None
        if created:
            record = CallRecord()
            self._apply(record, values)
            self.session.add(record)
            try:
                self.session.commit()
            except IntegrityError:
                # Another worker inserted this UUID between our look-up and our insert.
                self.session.rollback()
                logger.info("call %s inserted concurrently; updating it instead", values["uuid"])
                record = self.by_uuid(values["uuid"])
                if record is None:
                    raise
                created = False
        if not created:
            self._apply(record, values)
            self.session.commit()
        logger.info("call record %s %s", values["uuid"], "stored" if created else "updated")
        return record, created

    @staticmethod
    def _apply(record, values):
        for field, value in values.items():
            setattr(record, field, value)

    def search(self, filters, viewer=None):
        """Records matching ``filters``, newest first, one page; returns (rows, total).

        A viewer without ``calls.view_all`` sees only the calls they took (none without an
        extension); ``viewer`` None is the system itself, which sees everything.
        """
        query = sa.select(CallRecord).where(own_calls(viewer, CallRecord.agent))
        if filters.date_from is not None:
            query = query.where(CallRecord.started_at >= filters.date_from)
        if filters.date_to is not None:
            query = query.where(CallRecord.started_at < filters.date_to)
        if filters.caller:
            pattern = "%" + escape_like(filters.caller) + "%"
            query = query.where(CallRecord.caller_number.like(pattern, escape="\\"))
        if filters.queue:
            query = query.where(CallRecord.queue == filters.queue)
        if filters.agent:
            query = query.where(CallRecord.agent == filters.agent)
        total = self.session.execute(
            sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        rows = self.session.execute(
            query.order_by(CallRecord.started_at.desc(), CallRecord.id.desc())
            .limit(filters.limit).offset(filters.offset)).scalars().all()
        return rows, total

    def queue_names(self):
        """Distinct queue names seen in records, for the filter form."""
        return [name for (name,) in self.session.execute(
            sa.select(CallRecord.queue).where(CallRecord.queue.is_not(None))
            .distinct().order_by(CallRecord.queue))]
