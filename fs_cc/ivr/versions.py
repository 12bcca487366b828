"""Flow versions on the engine side: the text each flow runs, and hot reload of changed files.

The engine builds its flows from texts it keeps (:class:`FlowSource`: the YAML, its sha256 and,
when the web has numbered it, its version), so a call's record can name what the caller heard
(``events.FlowStarted``) and the worker can keep every text the engine took into use
(``events.FlowVersionLoaded``, stored as a version by author "file" when it is new).

A file changed on disk is noticed by :class:`FlowWatcher` (it compares modification times every
``flow_watch_seconds``, then the text's sha256, so a mere touch changes nothing), checked by the
validator against today's queues and flows, and either taken for new calls or refused with each
problem logged as file:line:column while the last good version keeps running. A reload builds a
new table of new runners: a call already in a flow holds its runner and finishes on it.
"""

import dataclasses
import difflib
import hashlib
import logging
import os
import typing

import gevent
import gevent.lock
import sqlalchemy as sa
import sqlalchemy.exc

from fs_cc import events
from fs_cc.errors import ConfigError
from fs_cc.ivr.flow import parse_flow
from fs_cc.ivr.datasources import source_names_beside
from fs_cc.ivr.validate import Problem, validate_text
from fs_cc.sounds import sound_prefix

logger = logging.getLogger(__name__)

DEFAULT_WATCH_SECONDS = 2.0
_versions = sa.table("ivr_flow_versions", sa.column("flow", sa.String),
                     sa.column("version", sa.Integer), sa.column("sha256", sa.String),
                     sa.column("yaml", sa.Text), sa.column("author", sa.String),
                     sa.column("created_at", sa.DateTime), sa.column("comment", sa.String),
                     sa.column("restored_from", sa.Integer))


def sha256_of(text):
    """The hex sha256 of a flow's YAML text (UTF-8): the same text is the same version."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_text(path):
    """The text of the flow file at ``path``; ConfigError naming it when it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read flow file: {exc.strerror}", str(path)) from exc


def flow_problems(text, path, queues, sound_prefix, flows):
    """Every validator problem of ``text`` as the flow file ``path``: today's ``queues`` and
    ``flows``, the sounds under ``sound_prefix`` and the data sources beside the file."""
    sources, broken = source_names_beside(str(path))
    if broken is not None:
        return [Problem(broken.path, broken.line or 1, 1, "error", broken.message)]
    return validate_text(text, str(path), queues, sound_prefix, flows, sources)


@dataclasses.dataclass(frozen=True)
class FlowSource:
    """The text one flow was built from: its file, YAML, sha256 and stored version (or None)."""

    name: str
    path: str
    text: str
    sha256: str
    version: typing.Optional[int] = None

    def parse(self, queues=None):
        """The checked Flow of this text (ConfigError with file and line when it is wrong)."""
        flow = parse_flow(self.text, self.path, queues)
        for warning in flow.warnings:
            logger.warning("IVR flow %s: %s", flow.name, warning)
        return flow


def load_source(name, path, text=None, versions=None):
    """The FlowSource of flow ``name``: ``text`` when given, else the file's; numbered by
    ``versions(name, sha256)`` when given."""
    if text is None:
        text = read_text(path)
    digest = sha256_of(text)
    version = versions(name, digest) if versions is not None else None
    return FlowSource(name, str(path), text, digest, version)


class VersionLookup:
    """The stored version of a flow text, read from the web's ``ivr_flow_versions`` table.

    The engine only reads it (the worker and the web write): a database without the table yet,
    or one that does not answer, gives None and the call names its flow by sha256 alone.
    """

    def __init__(self, database_url):
        self.database_url = database_url
        self._engine = None

    def __call__(self, flow, sha256):
        """The newest version of ``flow`` whose text has ``sha256``, or None."""
        if self._engine is None:
            self._engine = sa.create_engine(self.database_url)
        try:
            with self._engine.connect() as connection:
                return connection.execute(
                    sa.select(sa.func.max(_versions.c.version))
                    .where(_versions.c.flow == flow, _versions.c.sha256 == sha256)).scalar()
        except sqlalchemy.exc.SQLAlchemyError as exc:
            logger.debug("flow %s: no stored version looked up: %s", flow,
                         str(exc).splitlines()[0])
            return None

    def close(self):
        """Close the database connections."""
        if self._engine is not None:
            self._engine.dispose()


def stored_versions(database_url, flow):
    """Every stored version of ``flow``, oldest first, as rows (`fs-cc ivr versions`)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sa.select(_versions.c.version, _versions.c.author, _versions.c.created_at,
                          _versions.c.sha256, _versions.c.restored_from, _versions.c.comment)
                .where(_versions.c.flow == flow).order_by(_versions.c.version)).all()
    finally:
        engine.dispose()


def stored_diff(database_url, flow, first, second):
    """The unified diff of ``flow`` from version ``first`` to ``second`` (`fs-cc ivr diff`);
    ConfigError naming a version that is not stored."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            texts = dict(connection.execute(
                sa.select(_versions.c.version, _versions.c.yaml)
                .where(_versions.c.flow == flow, _versions.c.version.in_((first, second)))).all())
    finally:
        engine.dispose()
    for version in (first, second):
        if version not in texts:
            raise ConfigError(f"flow {flow} has no version {version}")
    return "".join(difflib.unified_diff(
        texts[first].splitlines(keepends=True), texts[second].splitlines(keepends=True),
        fromfile=f"{flow} version {first}", tofile=f"{flow} version {second}"))


class FlowWatcher:
    """Polls the files of the flows in use; hands a file whose text changed to ``on_change``.

    ``sources()`` gives {name: FlowSource} of the flows running now; ``on_change(name, path,
    text)`` takes or refuses the new text. A file is read again only when its modification time
    or size moved, and handed on only when its text is not the one running.
    """

    def __init__(self, sources, on_change, interval=DEFAULT_WATCH_SECONDS):
        self._sources = sources
        self._on_change = on_change
        self.interval = interval
        self._seen = {}  # path -> (mtime_ns, size) when last read
        self._greenlet = None

    def start(self):
        """Poll every ``interval`` seconds in a greenlet (not at all when it is 0)."""
        if self.interval <= 0:
            logger.info("flow files are not watched (flow_watch_seconds is 0)")
            return
        self._greenlet = gevent.spawn(self._run)
        self._greenlet.link_exception(
            lambda g: logger.error("flow file watcher stopped: %r", g.exception))

    def stop(self):
        """Stop polling."""
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def _run(self):
        while True:
            gevent.sleep(self.interval)
            try:
                self.poll_once()
            except (OSError, ConfigError) as exc:  # the folder itself gone: try again later
                logger.error("flow files not checked: %s", exc)

    def poll_once(self):
        """Look at every flow file once; returns the names handed on."""
        changed = []
        for name, source in sorted(self._sources().items()):
            try:
                stat = os.stat(source.path)
            except OSError as exc:
                if self._seen.pop(source.path, None) is not None:
                    logger.warning("flow %s: %s: %s; version in use goes on running", name,
                                   source.path, exc.strerror)
                continue
            mark = (stat.st_mtime_ns, stat.st_size)
            if self._seen.get(source.path) == mark:
                continue
            self._seen[source.path] = mark
            try:
                text = read_text(source.path)
            except ConfigError as exc:
                logger.warning("flow %s: %s; version in use goes on running", name, exc)
                continue
            if sha256_of(text) != source.sha256:
                changed.append(name)
                self._on_change(name, source.path, text)
        return changed


class FlowReloader:
    """Takes changed flow texts into an engine without a restart, and reports each text used.

    ``build(texts)`` builds a new fs_cc.flows.FlowTable for the engine's catalog, the flows in
    ``texts`` (name -> YAML) from those texts. The engine's ``flows`` is replaced whole.
    """

    def __init__(self, engine, build, interval=DEFAULT_WATCH_SECONDS):
        self.engine = engine
        self.build = build
        self.lock = gevent.lock.RLock()  # one table build at a time: the last one wins
        self.watcher = FlowWatcher(lambda: self.engine.flows.sources, self.file_changed,
                                   interval)

    def start(self):
        """Report the flows the engine starts with, then watch their files."""
        self.announce(None, self.engine.flows)
        self.watcher.start()

    def stop(self):
        """Stop watching."""
        self.watcher.stop()

    def announce(self, before, after):
        """Emit FlowVersionLoaded for each flow of table ``after`` whose text is new to it."""
        for name, source in sorted(after.sources.items()):
            previous = before.sources.get(name) if before is not None else None
            if previous is not None and previous.sha256 == source.sha256:
                continue
            self.engine.emitter.emit(events.FlowVersionLoaded, flow=name, sha256=source.sha256,
                                     text=source.text, path=source.path,
                                     version=source.version)

    def problems(self, name, path, text):
        """The validator's errors for ``text`` as flow ``name`` of this engine (a list)."""
        settings = self.engine.settings
        folder = os.path.dirname(os.path.abspath(path))
        flows = {os.path.splitext(entry)[0] for entry in os.listdir(folder)
                 if entry.endswith((".yaml", ".yml"))} | set(self.engine.flows.sources)
        found = flow_problems(text, path, set(self.engine.catalog.queues),
                              sound_prefix(settings.sounds_dir), flows)
        return [problem for problem in found if problem.severity == "error"]

    def file_changed(self, name, path, text):
        """Validate and take the new ``text`` of flow ``name``; False (logged) when refused."""
        errors = self.problems(name, path, text)
        for problem in errors:
            logger.error("flow %s refused, its running version stays: %s", name, problem)
        if errors:
            return False
        with self.lock:
            previous = self.engine.flows
            texts = {flow: source.text for flow, source in previous.sources.items()}
            texts[name] = text
            try:
                table = self.build(texts)
            except ConfigError as exc:
                logger.error("flow %s refused, its running version stays: %s", name, exc)
                return False
            self.engine.flows = table
        self.announce(previous, table)
        source = table.sources[name]
        logger.info("flow %s reloaded from %s (sha256 %s, version %s): new calls run it",
                    name, path, source.sha256[:12], source.version or "not numbered yet")
        return True
