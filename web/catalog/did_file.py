"""Reading a DID file: ``routes: [{number, flow, description?, enabled?}]`` and ``default: FLOW``.

Every problem is collected with its file and line (fs_cc.ivr.yamlmarks), so one pass reports all
of them. ``default`` names a flow; the first route of that flow in the file becomes the default
route (the one numbers without a route of their own fall back to).
"""

import dataclasses
import typing

from fs_cc.errors import ConfigError
from fs_cc.ivr.yamlmarks import LineDict, LineList, load_yaml
from web.catalog import rules
from web.catalog.errors import InvalidField

ROUTE_FIELDS = ("number", "flow", "description", "enabled")
TOP_FIELDS = ("routes", "default")


@dataclasses.dataclass(frozen=True)
class RouteRow:
    """One route of the file, checked, with the line it starts on."""

    number: str
    flow: str
    description: str
    enabled: bool
    line: int


@dataclasses.dataclass(frozen=True)
class DidFile:
    """A checked DID file: its routes, and the number of the route marked default (or None)."""

    source: str
    routes: typing.Tuple[RouteRow, ...]
    default_number: typing.Optional[str]


def parse_did_file(text, source, flows):
    """Check DID file ``text`` against ``flows`` (a FlowDirectory); returns a DidFile.

    Raises DidFileProblems listing every problem found, each naming ``source`` and a line.
    """
    problems = []
    try:
        document = load_yaml(text, source)
    except ConfigError as exc:
        raise DidFileProblems([exc]) from exc
    if not isinstance(document, LineDict):
        raise DidFileProblems([ConfigError("the file must be a mapping with 'routes' (and "
                                           "'default')", source, 1)])
    for key in document:
        if key not in TOP_FIELDS:
            problems.append(ConfigError(f"unknown key {key!r} (known: routes, default)", source,
                                        document.key_line_of(key)))
    routes = _routes(document, source, flows, problems)
    default_number = _default(document, routes, source, flows, problems)
    if problems:
        raise DidFileProblems(problems)
    return DidFile(source, tuple(routes), default_number)


class DidFileProblems(Exception):
    """What is wrong with a DID file: ``problems``, ConfigErrors with file and line."""

    def __init__(self, problems):
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def _routes(document, source, flows, problems):
    items = document.get("routes")
    if not isinstance(items, LineList):
        problems.append(ConfigError("'routes' must be a list of {number, flow, description}",
                                    source, document.line_of("routes")))
        return []
    routes = []
    seen = {}
    for index, item in enumerate(items):
        line = items.line_of(index)
        if not isinstance(item, LineDict):
            problems.append(ConfigError("a route must be a mapping with number and flow",
                                        source, line))
            continue
        row = _route(item, line, source, flows, problems)
        if row is None:
            continue
        if row.number in seen:
            problems.append(ConfigError(f"number {row.number} is given twice (first on line "
                                        f"{seen[row.number]})", source, item.line_of("number")))
            continue
        seen[row.number] = item.line_of("number")
        routes.append(row)
    return routes


def _route(item, line, source, flows, problems):
    ok = True
    for key in item:
        if key not in ROUTE_FIELDS:
            problems.append(ConfigError(f"unknown route key {key!r} (known: "
                                        f"{', '.join(ROUTE_FIELDS)})", source,
                                        item.key_line_of(key)))
            ok = False
    checks = (("number", _quoted_number), ("flow", flows.check),
              ("description", _description), ("enabled", _enabled))
    values = {}
    for field, check in checks:
        try:
            values[field] = check(item.get(field))
        except InvalidField as exc:
            problems.append(ConfigError(exc.message, source, item.line_of(field)))
            ok = False
    if not ok:
        return None
    return RouteRow(line=line, **values)


def _description(value):
    return rules.text(value, "description", 255, required=False)


def _enabled(value):
    return True if value is None else rules.flag(value, "enabled")


def _quoted_number(value):
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML reads 04000 as octal and drops a leading +: only quoted text keeps a number whole
        raise InvalidField(f"number {value} must be quoted, like \"{value}\"", field="number")
    return rules.number(value)


def _default(document, routes, source, flows, problems):
    if "default" not in document:
        return None
    line = document.line_of("default")
    try:
        flow = flows.check(document["default"], field="default")
    except InvalidField as exc:
        problems.append(ConfigError(exc.message, source, line))
        return None
    for row in routes:
        if row.flow == flow:
            return row.number
    given = document.get("routes") if isinstance(document.get("routes"), list) else ()
    if not any(isinstance(item, dict) and item.get("flow") == flow for item in given):
        # (a route of that flow with another problem is reported already)
        problems.append(ConfigError(f"default flow {flow!r} is the flow of no route in this "
                                    "file: give it a number", source, line))
    return None
