"""DID routing rules: which IVR flow answers each dialled number, and the default route."""

import dataclasses
import logging
import typing

import sqlalchemy as sa

from web.audit import actions
from web.catalog import rules
from web.catalog.did_file import DidFileProblems, parse_did_file
from web.catalog.errors import Conflict, ImportRejected, InvalidField, NotFound
from web.catalog.models import DidRoute
from web.catalog.services import CatalogChanges, Notify

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000


@dataclasses.dataclass(frozen=True)
class ImportResult:
    """What an import did: numbers created and updated, and the default route's number."""

    created: typing.Tuple[str, ...]
    updated: typing.Tuple[str, ...]
    default_number: typing.Optional[str]
    version: int


class DidService:
    """Creates, edits, disables and imports DID routes, checked against the flow files."""

    FIELDS = ("number", "flow", "description", "enabled", "default")

    def __init__(self, session, notify: Notify, flows: rules.FlowDirectory, audit=None):
        self.session = session
        self.flows = flows
        self.changes = CatalogChanges(session, notify, audit)

    def list(self):
        """Every route (enabled or not) by number."""
        return self.session.execute(
            sa.select(DidRoute).order_by(DidRoute.number)).scalars().all()

    def find(self, number):
        """The route of ``number``, or None."""
        return self.session.execute(
            sa.select(DidRoute).where(DidRoute.number == number)).scalar_one_or_none()

    def get(self, number):
        """The route of ``number``; NotFound otherwise."""
        route = self.find(number)
        if route is None:
            raise NotFound(f"no route for number {number!r}", field="number")
        return route

    def create(self, data):
        """Create a route from ``{number, flow, description?, enabled?, default?}``."""
        rules.unknown_fields(data, self.FIELDS)
        number = rules.number(data.get("number"))
        if "flow" not in data:
            raise InvalidField("flow is required", field="flow")
        route = DidRoute(number=number, description="", enabled=True, is_default=False)
        self._apply(route, data)
        with self.changes.change(f"route {number} created", actions.DID_CREATED, number, data):
            existing = self.find(number)
            if existing is not None:
                raise Conflict(f"number {number} has a route already"
                               + ("" if existing.enabled else " (disabled: enable it)"),
                               field="number")
            self.session.add(route)
            if data.get("default"):
                self._mark_default(route)
        return route

    def update(self, number, data):
        """Change a route's flow, description, enabled flag or default mark."""
        rules.unknown_fields(data, self.FIELDS)
        with self.changes.change(f"route {number} edited", actions.DID_UPDATED, number, data):
            route = self.get(number)
            if "number" in data and data["number"] != route.number:
                raise InvalidField("a route keeps its number; create a route for the new "
                                   "number instead", field="number")
            self._apply(route, data)
            if data.get("default"):
                self._mark_default(route)
        return route

    def disable(self, number):
        """Disable a route: calls to the number get the default flow (if any)."""
        return self.update(number, {"enabled": False})

    def import_file(self, text, source):
        """Import a DID file: all its routes or, when any is bad, none (ImportRejected)."""
        try:
            document = parse_did_file(text, source, self.flows)
        except DidFileProblems as exc:
            raise ImportRejected(exc.problems) from exc
        created, updated = [], []
        # the lists fill in the block; the audit entry is written as the block ends
        detail = {"created": created, "updated": updated, "default": document.default_number}
        with self.changes.change(f"{len(document.routes)} routes imported from {source}",
                                 actions.DIDS_IMPORTED, source, detail):
            for row in document.routes:
                route = self.find(row.number)
                if route is None:
                    route = DidRoute(number=row.number, is_default=False)
                    self.session.add(route)
                    created.append(row.number)
                else:
                    updated.append(row.number)
                route.flow, route.description = row.flow, row.description
                route.enabled = row.enabled
                if row.number == document.default_number:
                    self._mark_default(route)
        return ImportResult(tuple(created), tuple(updated), document.default_number,
                            self.changes.current())

    def import_bytes(self, data, source):
        """Import an uploaded DID file given as bytes (UTF-8, at most MAX_FILE_BYTES)."""
        if len(data) > MAX_FILE_BYTES:
            raise InvalidField(f"the file is larger than {MAX_FILE_BYTES} bytes", field="file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidField(f"{source} is not UTF-8 text", field="file") from exc
        return self.import_file(text, source)

    def _apply(self, route, data):
        if "flow" in data:
            route.flow = self.flows.check(data["flow"])
        if "description" in data:
            route.description = rules.text(data["description"], "description", 255,
                                           required=False)
        if "enabled" in data:
            route.enabled = rules.flag(data["enabled"], "enabled")
        if "default" in data:
            rules.flag(data["default"], "default")
            if not data["default"]:
                route.is_default = False

    def _mark_default(self, route):
        # clear the old default in its own statement first: the unique index over marked rows
        # would refuse a flush that sets the new one before clearing the old
        self.session.execute(
            sa.update(DidRoute).where(DidRoute.is_default == sa.true())
            .values(is_default=False).execution_options(synchronize_session="fetch"))
        route.is_default = True
