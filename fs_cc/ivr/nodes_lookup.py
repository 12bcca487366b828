"""The ``lookup`` node: ask a named data source for the caller's record, fields into variables.

::

    find_points:
      type: lookup
      source: points_by_card        # a name of data_sources/sources.yaml (fs_cc.ivr.datasources)
      key: "{card_number}"          # a text with {variables}, or a variable's name: card_number
      into:                         # variable: field of the record ("data.points": nested,
        points: data.points         #   "items.0.id": a list's first item; an SQL row: column)
        tier: data.tier
      timeout: 3                    # seconds the caller may wait (default: the source's)
      next: say_points              # found: the variables are set, on the channel too
      not_found: unknown_card       # optional, default 'failed': no record (404, empty, no row)
      failed: sorry                 # the source failed: timeout, error status, not JSON

The source is asked in a greenlet of its own while the call's greenlet waits for it, for the
timeout, or for the caller's hang-up, whichever comes first: a caller is never held past the
timeout, and one who hangs up ends the run at once. Each lookup is an ``IvrLookup`` event
(found, not_found, failed, hung_up) with its time.
"""

import dataclasses
import json
import logging
import time
import typing

import gevent

from fs_cc import events
from fs_cc.errors import ConfigError
from fs_cc.esl.errors import CallerHungUp
from fs_cc.ivr.datasources import DEFAULT_TIMEOUT, LookupFailed
from fs_cc.ivr.nodes import VARIABLE_RE, Node, Target, node_type
from fs_cc.ivr.speech import VARIABLE_RE as TEMPLATE_VARIABLE_RE
from fs_cc.ivr.steps import step

logger = logging.getLogger(__name__)

SERVICE = "data_sources"  # runner.services[SERVICE]: a fs_cc.ivr.datasources.DataSources
FOUND, NOT_FOUND, FAILED, HUNG_UP = "found", "not_found", "failed", "hung_up"
CALLER_NUMBER = "caller_id_number"  # the key "{caller_id_number}" reads the caller's number


class MissingField(LookupFailed):
    """The record has no value at a path the node reads (usually a mistyped path)."""


@node_type
@dataclasses.dataclass(frozen=True)
class LookupNode(Node):
    """Look ``key`` up in data source ``source``; ``into`` picks variables out of the record."""

    source: str = ""
    source_line: int = 0
    key: str = ""  # a template: "{card_number}"
    into: typing.Tuple[typing.Tuple[str, str], ...] = ()  # (variable, field path), file order
    timeout: typing.Optional[float] = None  # None: the source's own
    next: str = ""
    next_line: int = 0
    not_found: str = ""
    not_found_line: int = 0
    failed: str = ""
    failed_line: int = 0

    type_name: typing.ClassVar[str] = "lookup"

    @classmethod
    def parse(cls, node_id, fields):
        source = fields.text("source")
        raw_key = fields._get("key", True, None)[0]
        if isinstance(raw_key, dict):  # key: {card_number} unquoted is a YAML mapping
            fields.fail("write the key in quotes, e.g. key: \"{card_number}\"", "key")
        key = str(raw_key)
        if "{" not in key:
            if not VARIABLE_RE.match(key):
                fields.fail(f"'key' must name a variable or be a text with {{variables}}, not "
                            f"{key!r}", "key")
            key = "{" + key + "}"
        elif not TEMPLATE_VARIABLE_RE.search(key):
            fields.fail(f"'key' {key!r} names no variable in braces", "key")
        raw, _ = fields._get("into", True, None)
        if not isinstance(raw, dict) or not raw:
            fields.fail("'into' must map variables to fields of the record, e.g. "
                        "'points: data.points'", "into")
        into = []
        for name, path in raw.items():
            where = f"node '{node_id}' (lookup): 'into'"
            if not isinstance(name, str) or not VARIABLE_RE.match(name):
                raise ConfigError(f"{where}: {name!r} is not a variable name (letters, digits, _ "
                                  f"and .)", fields.source, raw.line_of(name))
            if not isinstance(path, (str, int)) or isinstance(path, bool) or not str(path):
                raise ConfigError(f"{where}: '{name}' must be a field of the record, like "
                                  f"data.points", fields.source, raw.line_of(name))
            into.append((name, str(path)))
        timeout, present = fields._get("timeout", False, None)
        if present:
            timeout = fields.number("timeout", None)
        nxt = fields.node_ref("next")
        failed = fields.node_ref("failed")
        not_found = fields.node_ref("not_found", required=False)
        not_found_line = fields.line("not_found" if not_found is not None else "failed")
        return cls(node_id, fields.node_line, source, fields.line("source"), key, tuple(into),
                   timeout, nxt, fields.line("next"), not_found or failed, not_found_line,
                   failed, fields.line("failed"))

    def key_variables(self):
        """The variables the key is made of."""
        return TEMPLATE_VARIABLE_RE.findall(self.key)

    def provided(self):
        """The variables a found record sets."""
        return {name for name, _ in self.into}

    def targets(self):
        edges = [Target("next", self.next, self.next_line),
                 Target("failed", self.failed, self.failed_line)]
        if self.not_found != self.failed:
            edges.insert(1, Target("not_found", self.not_found, self.not_found_line))
        return edges


def unknown_sources(flow, known):
    """(node, message, line) for each lookup node of ``flow`` asking a source not in ``known``
    (a set of names; None: unknown, nothing is said)."""
    if known is None:
        return []
    names = ", ".join(sorted(known)) or "none defined"
    return [(node, f"node '{node.id}' (lookup) asks the unknown data source '{node.source}' "
                   f"(data sources: {names})", node.source_line)
            for node in flow.nodes.values()
            if isinstance(node, LookupNode) and node.source not in known]


def field_value(record, path):
    """The value at dotted ``path`` in ``record`` (dicts by key, lists by index) as text."""
    value = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise KeyError(path)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def key_of(node, known, session):
    """The node's key for this call: its template with the variables' values."""
    def value(match):
        name = match.group(1)
        if name in known:
            return known[name]
        found = session.get_var(name)
        if found is None and name == CALLER_NUMBER:
            found = session.caller_number
        return found or ""
    return TEMPLATE_VARIABLE_RE.sub(value, node.key).strip()


def _ask(sources, node, key):
    """(result, variables, reason) of one lookup, run in its own greenlet."""
    try:
        record = sources.fetch(node.source, key)
    except LookupFailed as exc:
        return FAILED, {}, exc.reason
    if record is None:
        return NOT_FOUND, {}, "no record"
    variables = {}
    for name, path in node.into:
        try:
            variables[name] = field_value(record, path)
        except KeyError:
            return FAILED, {}, f"the record has no field '{path}' (for variable '{name}')"
    return FOUND, variables, ""


@step(LookupNode)
def run_lookup(runner, session, node):
    """Look up, waiting at most the timeout; the next node by the result."""
    sources = runner.services.get(SERVICE)
    facts = runner.facts(session)
    key = key_of(node, facts.variables, session)
    source = sources.get(node.source) if sources is not None else None
    timeout = node.timeout or (source.timeout if source is not None else DEFAULT_TIMEOUT)
    started = time.monotonic()
    if sources is None:
        result, variables, reason = FAILED, {}, "this engine has no data sources"
    elif not key:
        result, variables, reason = NOT_FOUND, {}, "the key is empty"
    else:
        job = gevent.spawn(_ask, sources, node, key)
        gevent.wait([job, session.hungup], count=1, timeout=timeout)
        answered = job.ready()
        if not answered:
            job.kill(block=False)  # its socket or query is dropped with it
        if session.hungup.is_set():
            _emit(runner, session, node, HUNG_UP, started)
            raise CallerHungUp(session.uuid, session.hangup_cause)
        if answered and job.successful():
            result, variables, reason = job.value
        elif answered:  # a fault of ours, not the source's: say so, the caller goes on
            logger.error("call %s: lookup %s crashed", session.uuid, node.id,
                         exc_info=job.exc_info)
            result, variables, reason = FAILED, {}, f"error: {job.exception!r}"
        else:
            result, variables, reason = FAILED, {}, f"no answer within {timeout:g} s"
    if result != FOUND:
        logger.info("call %s: lookup %s in %s: %s (%s)", session.uuid, node.id, node.source,
                    result, reason)
    for name, value in variables.items():
        session.set_var(name, value)
        facts.variables[name] = value
    _emit(runner, session, node, result, started)
    return {FOUND: node.next, NOT_FOUND: node.not_found}.get(result, node.failed)


def _emit(runner, session, node, result, started):
    runner.emit(events.IvrLookup, session, node=node.id, source=node.source, result=result,
                elapsed_ms=int((time.monotonic() - started) * 1000))
