"""IVR flow rules: keep every version, save through the validator, diff, restore, draw the graph.

A save (web or API) is checked by the engine's own validator against today's queues and flows;
an error refuses it (422, each message with line and column). An accepted text becomes version
N+1 and the flow's current one in one transaction (a compare-and-set on ``ivr_flows``, so an
edit started from an older version is refused with 409), then its file is written (beside, then
renamed: an engine polling the folder never reads half a file) and the engines are told to
reload, as catalog changes tell them. The engine reports each text it takes into use
(``events.FlowVersionLoaded``); the worker keeps one that is new as a version by "file".
"""

import difflib
import logging
import os
import pathlib
import re

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fs_cc import events
from fs_cc.acd.queue_def import QueueSettingError, parse_queue
from fs_cc.control import ControlRefused, ControlUnavailable
from fs_cc.errors import ConfigError
from fs_cc.ivr import flow as flowmod  # the loader's own node parser draws the graph
from fs_cc.ivr.versions import flow_problems, sha256_of
from fs_cc.ivr.yamlmarks import load_yaml
from web.audit import actions as audit_actions
from web.audit.services import AuditLog
from web.catalog.errors import Conflict, InvalidField, NotFound
from web.catalog.models import DidRoute, Queue
from web.catalog.rules import FlowDirectory
from web.errors import WebError
from web.ivr.models import COMMENT_LENGTH, FILE_AUTHOR, IvrFlow, IvrFlowVersion
from web.types import utcnow

logger = logging.getLogger(__name__)

FLOW_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
MAX_YAML_BYTES = 256 * 1024


class FlowRefused(WebError):
    """The validator found errors in a flow text; ``messages`` holds every problem."""

    status = 422

    def __init__(self, problems):
        self.messages = [problem_dict(p) for p in problems]
        errors = [m for m in self.messages if m["severity"] == "error"]
        first = errors[0] if errors else {"line": 1, "column": 1, "message": "refused"}
        super().__init__(f"the flow has {len(errors)} error(s), nothing saved; line "
                         f"{first['line']}, column {first['column']}: {first['message']}",
                         field="yaml")

    def to_dict(self):
        """The JSON error body, with each message's line, column and severity."""
        return dict(super().to_dict(), messages=self.messages)


def problem_dict(problem):
    """A validator Problem as the API shows it."""
    return {"line": problem.line, "column": problem.column, "severity": problem.severity,
            "message": problem.message}


def flow_name(value, field="name"):
    """A flow name usable as a file name: letters, digits, ``_``, ``-``, ``.``."""
    if not isinstance(value, str) or not FLOW_NAME_RE.match(value):
        raise InvalidField(f"{field}: a flow name holds only letters, digits, _, - and . "
                           f"(64 at most, not starting with . or -)", field=field)
    return value


def flow_text(value, field="yaml"):
    """A flow's YAML text, as text of reasonable size."""
    if not isinstance(value, str):
        raise InvalidField(f"{field} must be text", field=field)
    if len(value.encode("utf-8")) > MAX_YAML_BYTES:
        raise InvalidField(f"{field} is longer than {MAX_YAML_BYTES} bytes", field=field)
    return value


class FlowVersions:
    """Reads and writes the versions of flows on one database session (it commits)."""

    def __init__(self, session):
        self.session = session

    def flow(self, name):
        """The IvrFlow row of ``name``, or None."""
        return self.session.execute(
            sa.select(IvrFlow).where(IvrFlow.name == name)).scalar_one_or_none()

    def flows(self):
        """Every flow with stored versions, by name."""
        return {row.name: row for row in self.session.execute(sa.select(IvrFlow)).scalars()}

    def get(self, name, version):
        """Version ``version`` of flow ``name``; NotFound when there is none."""
        row = self.session.execute(sa.select(IvrFlowVersion).where(
            IvrFlowVersion.flow == name, IvrFlowVersion.version == version)).scalar_one_or_none()
        if row is None:
            raise NotFound(f"flow {name} has no version {version}", field="version")
        return row

    def current(self, name):
        """The current version of flow ``name``, or None before its first."""
        flow = self.flow(name)
        return None if flow is None else self.get(name, flow.current_version)

    def history(self, name):
        """Every version of flow ``name``, newest first."""
        return self.session.execute(sa.select(IvrFlowVersion).where(
            IvrFlowVersion.flow == name).order_by(IvrFlowVersion.version.desc())).scalars().all()

    def by_sha256(self, name, digest):
        """The newest version of ``name`` whose text has ``digest``, or None."""
        return self.session.execute(sa.select(IvrFlowVersion).where(
            IvrFlowVersion.flow == name, IvrFlowVersion.sha256 == digest)
            .order_by(IvrFlowVersion.version.desc()).limit(1)).scalar_one_or_none()

    def add(self, name, text, author, *, author_id=None, comment="", restored_from=None,
            base_version=None, check_base=True, created_at=None):
        """Store ``text`` as the next version of ``name`` and make it current; the new row.

        With ``check_base``, Conflict (409) unless ``base_version`` is the current version
        (None: the flow has none yet), so an edit of an older version never wins silently.
        """
        flow = self.flow(name)
        current = None if flow is None else flow.current_version
        if check_base and base_version != current:
            raise Conflict(f"flow {name} is at version {current}, not {base_version}: someone "
                           f"saved it meanwhile; reload it and edit again",
                           field="base_version")
        latest = self.session.execute(sa.select(sa.func.max(IvrFlowVersion.version)).where(
            IvrFlowVersion.flow == name)).scalar() or 0
        now = created_at or utcnow()
        row = IvrFlowVersion(flow=name, version=latest + 1, yaml=text, sha256=sha256_of(text),
                             author=author[:64], author_id=author_id, created_at=now,
                             comment=(comment or "")[:COMMENT_LENGTH],
                             restored_from=restored_from)
        self.session.add(row)
        try:
            if flow is None:
                self.session.add(IvrFlow(name=name, current_version=row.version, updated_at=now))
                self.session.flush()
            else:
                # compare-and-set: a save that committed since we read the row makes this miss
                moved = self.session.execute(
                    sa.update(IvrFlow).where(IvrFlow.name == name,
                                             IvrFlow.current_version == current)
                    .values(current_version=row.version, updated_at=now)).rowcount
                if moved != 1:
                    raise Conflict(f"flow {name} was saved meanwhile; reload it and edit again",
                                   field="base_version")
            self.session.commit()
        except IntegrityError:
            self.session.rollback()
            raise Conflict(f"flow {name} was saved meanwhile; reload it and edit again",
                           field="base_version") from None
        except BaseException:
            self.session.rollback()
            raise
        logger.info("flow %s: version %s by %s%s", name, row.version, row.author,
                    f" (restored from {restored_from})" if restored_from else "")
        return row

    def diff(self, name, first, second):
        """The unified diff from version ``first`` to version ``second`` of flow ``name``."""
        old, new = self.get(name, first), self.get(name, second)
        return "".join(difflib.unified_diff(
            old.yaml.splitlines(keepends=True), new.yaml.splitlines(keepends=True),
            fromfile=f"{name} version {first}", tofile=f"{name} version {second}"))

    def record_loaded(self, event):
        """Keep the text an engine took into use (FlowVersionLoaded) when it is new; the row.

        Not new: the current version has that sha256, or was made after the engine loaded the
        text (a late report of a text already replaced). A text equal to an older version is
        kept as a new version restored from it. Its time is when the engine took it.
        """
        current = self.current(event.flow)
        if current is not None and (current.sha256 == event.sha256
                                    or current.created_at >= event.ts):
            return None
        earlier = self.by_sha256(event.flow, event.sha256)
        where = f" from {event.path}" if event.path else ""
        return self.add(event.flow, event.text, FILE_AUTHOR, check_base=False,
                        comment=f"taken into use by engine {event.engine}{where}",
                        restored_from=earlier.version if earlier is not None else None,
                        created_at=event.ts)


class FlowVersionRecorder:
    """The worker's side: keeps the flow texts engines report, once each (it commits)."""

    ATTEMPTS = 2  # a save in the web may take the number first: look again once

    def __init__(self, session):
        self.versions = FlowVersions(session)

    def apply(self, facts):
        """Record every FlowVersionLoaded among ``facts``, in their order; how many kept."""
        kept = 0
        for event in facts:
            if not isinstance(event, events.FlowVersionLoaded):
                continue
            for attempt in range(self.ATTEMPTS):
                try:
                    kept += self.versions.record_loaded(event) is not None
                    break
                except Conflict as exc:
                    logger.info("flow %s: version from engine %s: %s (attempt %s)",
                                event.flow, event.engine, exc.message, attempt + 1)
        return kept

    def fill_version(self, values, call_events):
        """``values`` of a call record with ``flow_version`` found by the text's sha256 when
        the engine ran a text it had no number for yet."""
        if values.get("flow") is None or values.get("flow_version") is not None:
            return values
        started = next((e for e in call_events if isinstance(e, events.FlowStarted)), None)
        if started is not None:
            found = self.versions.by_sha256(started.flow, started.sha256)
            if found is not None:
                values = dict(values, flow_version=found.version)
        return values


class FlowEditor:
    """Saves, restores and checks flows for the web: validator, versions, file, engines."""

    def __init__(self, session, flows_dir, sound_prefix, notify):
        self.session = session
        self.versions = FlowVersions(session)
        self.directory = FlowDirectory(flows_dir)
        self.sound_prefix = sound_prefix
        self.notify = notify  # () -> None: tells the engines to reload

    def path(self, name):
        """The YAML file of flow ``name``."""
        return self.directory.path / f"{name}.yaml"

    def names(self):
        """Every flow: those with a file and those with stored versions."""
        return sorted(set(self.directory.names()) | set(self.versions.flows()))

    def problems(self, name, text):
        """Every validator problem of ``text`` as flow ``name`` (today's queues and flows)."""
        # each queue's settings, so a queue node that can meet a closed queue with nowhere to
        # go is warned about (a queue whose stored settings no longer parse is known by name)
        queues = {}
        for row in self.session.execute(
                sa.select(Queue).where(Queue.enabled == sa.true())).scalars():
            try:
                queues[row.name] = parse_queue(row.settings())
            except QueueSettingError:
                queues[row.name] = parse_queue({"name": row.name})
        return flow_problems(text, self.path(name), queues, self.sound_prefix,
                             set(self.names()) | {name})

    def text_of(self, name):
        """(version row or None, text) of flow ``name``: the current version, else its file."""
        current = self.versions.current(name)
        if current is not None:
            return current, current.yaml
        try:
            return None, self.path(name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFound(f"no flow {name}", field="name") from None

    def dids(self):
        """{flow name: [the enabled DIDs routed to it]}."""
        routes = {}
        for number, flow in self.session.execute(
                sa.select(DidRoute.number, DidRoute.flow).where(DidRoute.enabled == sa.true())
                .order_by(DidRoute.number)):
            routes.setdefault(flow, []).append(number)
        return routes

    def save(self, name, text, user, comment="", base_version=None, check_base=True,
             restored_from=None):
        """Validate, store as the next version, write the file, tell the engines; the row."""
        errors = [p for p in self.problems(name, text) if p.severity == "error"]
        if errors:
            raise FlowRefused(errors)
        if self.versions.flow(name) is None and self.path(name).exists():
            # the file's text before the first save is history too
            disk = self.path(name).read_text(encoding="utf-8")
            if sha256_of(disk) != sha256_of(text):
                self.versions.add(name, disk, FILE_AUTHOR, check_base=False,
                                  comment="the file before the first save")
                base_version = 1 if base_version is None else base_version
        # in the version's own transaction: the log has it exactly when the version is stored
        AuditLog(self.session).add(
            audit_actions.FLOW_SAVED if restored_from is None else audit_actions.FLOW_RESTORED,
            target=name, user=user, detail={"sha256": sha256_of(text), "comment": comment,
                                            "restored_from": restored_from})
        partial = self._write_beside(name, text)
        try:
            row = self.versions.add(name, text, user.username, author_id=user.id,
                                    comment=comment, restored_from=restored_from,
                                    base_version=base_version, check_base=check_base)
            os.replace(partial, self.path(name))
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        self.notify()
        return row

    def restore(self, name, version, user):
        """A new version holding the text of ``version`` (validated again); the new row."""
        old = self.versions.get(name, version)
        return self.save(name, old.yaml, user, comment=f"restored from version {version}",
                         check_base=False, restored_from=version)

    def _write_beside(self, name, text):
        folder = self.directory.path
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{name}.yaml.{os.getpid()}.part"
        partial.write_text(text, encoding="utf-8")
        return str(partial)


def engine_notifier(control):
    """``notify`` of a FlowEditor: the engines reload their flows (as a catalog change does).

    The version is stored and the file written before this runs, and an engine that is down
    loads the file when it starts, so one that does not answer is only worth a warning.
    """
    def notify():
        try:
            control.reload_catalog()
        except ControlUnavailable as exc:
            logger.warning("flow saved; the engine was not told (unavailable at %s: %s); it "
                           "watches the flow files and loads them when it starts", exc.url,
                           exc.reason)
        except ControlRefused as exc:
            logger.warning("flow saved; the engine refused to reload (%s): %s", exc.status,
                           exc.error)
    return notify


def flow_graph(text, path="<flow>"):
    """The flow drawn as data: {"nodes", "edges", "start"}; None when it is not YAML at all.

    Nodes that do not parse are drawn without their edges, so the graph follows the text as
    the admin types, errors and all.
    """
    try:
        data = load_yaml(text, path, [])
    except ConfigError:
        return None
    if not isinstance(data, dict):
        return None
    raw_nodes = data.get("nodes") if isinstance(data.get("nodes"), dict) else {}
    nodes, edges = [], []
    for node_id, raw in raw_nodes.items():
        line = raw_nodes.key_line_of(node_id)
        kind = raw.get("type") if isinstance(raw, dict) else None
        nodes.append({"id": str(node_id), "type": kind if isinstance(kind, str) else None,
                      "label": str(node_id), "line": line})
        try:
            node = flowmod._parse_node(str(node_id), raw, line, path)
        except ConfigError:
            continue
        edges.extend({"from": node.id, "to": target.node_id, "label": target.label}
                     for target in node.targets())
    start = data.get("start")
    return {"nodes": nodes, "edges": edges, "start": start if isinstance(start, str) else None}


def flows_folder(settings):
    """The folder of the flow files: that of the settings' ``ivr_flow``."""
    return pathlib.Path(settings.ivr_flow).parent
