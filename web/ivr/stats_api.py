"""The IVR statistics' JSON API and CSV download under ``/api/ivr/flows/<name>/stats``.

``from``/``to`` (ISO 8601; a bare ``to`` date includes that day; without an offset, the display
time zone) choose the period, by default the last 7 days; ``version`` one version of the flow
(else every version). ``format=csv`` (or ``/stats.csv``) answers a CSV file whose first lines
name the flow, the version and the period. Needs ``calls.view_all``: they are the calls' data.
"""

import csv
import datetime
import io

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema, fields, validate

from web.api.openapi import operation
from web.auth.decorators import permission_required
from web.calls.filters import parse_datetime
from web.errors import InvalidFilter
from web.extensions import db
from web.ivr.stats import flow_stats
from web.timezone import display_timezone

bp = Blueprint("ivr_stats_api", __name__, url_prefix="/api/ivr/flows")

VIEW = "calls.view_all"
DEFAULT_DAYS = 7
MAX_NAME = 128
CSV_COLUMNS = ("node", "visits", "timeouts", "invalid", "hangups", "self_service", "queued",
               "avg_seconds")


class IvrStatsQuerySchema(Schema):
    """The period, version and format of a flow's statistics."""

    from_ = fields.String(data_key="from", metadata={
        "description": "calls that entered the flow at or after: ISO 8601 date or date-time "
                       "(without an offset: the display time zone); default 7 days ago"})
    to = fields.String(metadata={"description": "entered before (a bare date includes the "
                                                "whole day); default now"})
    version = fields.String(validate=validate.Length(max=32), metadata={
        "description": "one version of the flow (default, or all: every version)"})
    format = fields.String(validate=validate.OneOf(("json", "csv")), metadata={
        "description": "json (default) or csv"})


class IvrNodeStatsSchema(Schema):
    """What callers did at one node."""

    node = fields.String(required=True)
    visits = fields.Integer(required=True)
    choices = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                          metadata={"description": "menu key -> times chosen"})
    timeouts = fields.Integer(required=True)
    invalid = fields.Integer(required=True)
    hangups = fields.Integer(required=True, metadata={
        "description": "calls the caller ended here before an agent answered"})
    self_service = fields.Integer(required=True, metadata={
        "description": "calls that ended here without a queue, an agent or a transfer"})
    queued = fields.Integer(required=True, metadata={
        "description": "calls handed to a queue from here"})
    avg_seconds = fields.Float(allow_none=True, required=True)


class IvrFlowStatsSchema(Schema):
    """A flow's statistics over a period, per node in the order callers met them."""

    flow = fields.String(required=True)
    version = fields.String(allow_none=True, required=True)
    from_ = fields.String(data_key="from", required=True)
    to = fields.String(required=True)
    calls = fields.Integer(required=True)
    self_service = fields.Integer(required=True)
    queued = fields.Integer(required=True)
    answered = fields.Integer(required=True)
    hung_up = fields.Integer(required=True, metadata={
        "description": "calls the caller ended in the flow before reaching a queue"})
    versions = fields.List(fields.String(), required=True, metadata={
        "description": "the versions the period's calls ran"})
    nodes = fields.List(fields.Nested(IvrNodeStatsSchema), required=True)


def stats_from_request(name):
    """The FlowStats the request's query asks for (400 naming a bad parameter)."""
    if len(name) > MAX_NAME:
        raise InvalidFilter(f"name: longer than {MAX_NAME} characters", field="name")
    tz = display_timezone()
    now = datetime.datetime.now(datetime.timezone.utc)
    start_text = request.args.get("from", "")
    end_text = request.args.get("to", "")
    end = parse_datetime(end_text, "to", end_of_day=True, tz=tz) if end_text else now
    start = (parse_datetime(start_text, "from", tz=tz) if start_text
             else end - datetime.timedelta(days=DEFAULT_DAYS))
    if start >= end:
        raise InvalidFilter("from: the period must start before it ends", field="from")
    version = request.args.get("version") or None
    if version == "all":
        version = None
    return flow_stats(db.session, name, start, end, version=version)


def stats_csv(stats):
    """The CSV text of ``stats``: the flow, version and period first, then a row per node."""
    keys = sorted({key for node in stats.nodes.values() for key in node.choices})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("flow", stats.flow))
    writer.writerow(("version", stats.version or "all"))
    writer.writerow(("from", stats.start.isoformat()))
    writer.writerow(("to", stats.end.isoformat()))
    writer.writerow(("calls", stats.calls, "self_service", stats.self_service, "queued",
                     stats.queued, "answered", stats.answered, "hung_up", stats.hung_up))
    writer.writerow(())
    writer.writerow(CSV_COLUMNS + tuple(f"key_{key}" for key in keys))
    for node in stats.nodes.values():
        row = node.to_dict()
        writer.writerow([("" if row[column] is None else row[column]) for column in CSV_COLUMNS]
                        + [node.choices.get(key, 0) for key in keys])
    return out.getvalue()


def _csv_response(stats):
    filename = f"ivr-{stats.flow}-{stats.version or 'all'}-{stats.start:%Y%m%d}.csv"
    return Response(stats_csv(stats), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/<name>/stats")
@permission_required(VIEW)
@operation(query=IvrStatsQuerySchema, response=IvrFlowStatsSchema, tag="ivr")
def flow_statistics(name):
    """Per-node statistics of a flow over a period (JSON, or CSV with ``format=csv``)."""
    stats = stats_from_request(name)
    if request.args.get("format") == "csv":
        return _csv_response(stats)
    return jsonify(stats.to_dict())


@bp.get("/<name>/stats.csv")
@permission_required(VIEW)
@operation(query=IvrStatsQuerySchema, content_type="text/csv", tag="ivr",
           response_description="The statistics as CSV: flow, version, period, then the nodes")
def flow_statistics_csv(name):
    """Per-node statistics of a flow over a period, as a CSV download."""
    return _csv_response(stats_from_request(name))
