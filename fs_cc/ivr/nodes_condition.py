"""The ``condition`` node: ordered branches, the first whose ``when`` holds wins, else ``else``.

::

    route:
      type: condition
      branches:
        - when: {hours: {tz: Asia/Shanghai, mon-fri: "09:00-18:00", sat: "10:00-16:00",
                         holidays: [2026-10-01, 2026-10-02], holidays_file: holidays.txt}}
          then: open_menu            # open now (a holiday counts as closed)
        - when: {variable: tier, equals: gold}
          then: vip
        - when: {variable: tier, in: [silver, bronze]}
          then: members
        - when: {variable: card_number, matches: "^62[0-9]{14}$"}
          then: union_pay
        - when: {variable: points, above: 1000, below: 5000}   # numbers: above, below,
          then: mid_tier                                       # at_least, at_most
        - when: {caller_prefix: ["138", "139"]}                # or caller_matches: regex
          then: mobile
        - when: {queue: sales, estimated_wait: {above: 300}}   # seconds
          then: offer_callback
        - when: {queue: sales, agents_available: {below: 1}}
          then: voicemail
      else: general

All the tests in one ``when`` must hold. Times are judged by the runner's clock in the time zone
``tz``; a day takes one range or a list of ranges ("09:00-12:00", "13:00-18:00"); the end
``24:00`` is midnight. ``holidays_file`` (next to the flow file) holds one date a line
(``YYYY-MM-DD``, ``#`` comments).
"""

import dataclasses
import logging
import os
import re
import typing

from fs_cc.errors import ConfigError
from fs_cc.hours import Hours, HoursParser
from fs_cc.ivr.nodes import VARIABLE_RE, Node, Target, node_type

logger = logging.getLogger(__name__)

NUMBER_TESTS = ("above", "below", "at_least", "at_most")
VARIABLE_TESTS = ("equals", "in", "matches") + NUMBER_TESTS
QUEUE_FIGURES = ("estimated_wait", "agents_available")


@dataclasses.dataclass(frozen=True)
class Context:
    """What a branch is judged on: the call's variables and number, the time, queue figures."""

    variables: typing.Any  # .get(name, default=None): the value of a variable
    caller_number: str
    now: float  # epoch seconds
    figures: typing.Callable[[str], typing.Mapping[str, float]]  # queue -> its figures


@dataclasses.dataclass(frozen=True)
class Test:
    """One test of a ``when``: ``kind`` (variable, caller_prefix, caller_matches, hours, queue)."""

    kind: str
    subject: str = ""  # the variable or queue name
    ops: typing.Tuple[typing.Tuple[str, typing.Any], ...] = ()  # (operator, operand)
    hours: typing.Optional[Hours] = None

    def holds(self, context):
        """Whether the test holds in ``context``."""
        if self.kind == "hours":
            return self.hours.open_at(context.now)
        if self.kind == "caller_prefix":
            return any((context.caller_number or "").startswith(p) for p in self.ops[0][1])
        if self.kind == "caller_matches":
            return re.search(self.ops[0][1], context.caller_number or "") is not None
        if self.kind == "queue":
            figures = context.figures(self.subject) or {}
            return all(_number_holds(op, operand, figures.get(figure))
                       for figure, (op, operand) in self.ops)
        value = context.variables.get(self.subject)
        return all(_variable_holds(op, operand, value) for op, operand in self.ops)


def _number(value):
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _number_holds(op, operand, value):
    number = _number(value)
    if number is None:
        return False
    return {"above": number > operand, "below": number < operand,
            "at_least": number >= operand, "at_most": number <= operand,
            "equals": number == operand}[op]


def _variable_holds(op, operand, value):
    if op in NUMBER_TESTS:
        return _number_holds(op, operand, value)
    text = "" if value is None else str(value)
    if op == "equals":
        return text == operand
    if op == "in":
        return text in operand
    return re.search(operand, text) is not None


@dataclasses.dataclass(frozen=True)
class Branch:
    """``when`` (every test must hold) leads to ``then``."""

    tests: typing.Tuple[Test, ...]
    then: str
    line: int


@node_type
@dataclasses.dataclass(frozen=True)
class ConditionNode(Node):
    """Go to the ``then`` of the first branch whose tests hold, else to ``otherwise``."""

    branches: typing.Tuple[Branch, ...] = ()
    otherwise: str = ""
    otherwise_line: int = 0

    type_name: typing.ClassVar[str] = "condition"

    @classmethod
    def parse(cls, node_id, fields):
        raw, _ = fields._get("branches", True, None)
        if not isinstance(raw, list) or not raw:
            fields.fail("'branches' must be a list of 'when: ... then: node'", "branches")
        parser = _Parser(fields)
        branches = tuple(parser.branch(item, raw.line_of(index)) for index, item in enumerate(raw))
        otherwise = fields.node_ref("else")
        return cls(node_id, fields.node_line, branches, otherwise, fields.line("else"))

    def choose(self, context):
        """The node the call goes to in ``context`` and the branch taken (its index, or None)."""
        for index, branch in enumerate(self.branches):
            if all(test.holds(context) for test in branch.tests):
                return branch.then, index
        return self.otherwise, None

    def queues(self):
        """The queues this node reads figures of."""
        return sorted({t.subject for b in self.branches for t in b.tests if t.kind == "queue"})

    def targets(self):
        edges = [Target(f"branch {index + 1}", b.then, b.line)
                 for index, b in enumerate(self.branches)]
        edges.append(Target("else", self.otherwise, self.otherwise_line))
        return edges


class _Parser:
    """Reads branches and their tests, raising ConfigError at the line of the bad part."""

    def __init__(self, fields):
        self.fields = fields

    def fail(self, message, line):
        raise ConfigError(f"node '{self.fields.node_id}' (condition): {message}",
                          self.fields.source, line)

    def branch(self, item, line):
        if not isinstance(item, dict) or "when" not in item or "then" not in item:
            self.fail("each branch needs 'when:' (the tests) and 'then:' (a node)", line)
        for key in item:
            if key not in ("when", "then"):
                self.fail(f"unknown field '{key}' in a branch (fields: when, then)",
                          item.key_line_of(key))
        then = item["then"]
        if not isinstance(then, str):
            self.fail(f"'then' must name a node, not {then!r}", item.line_of("then"))
        when = item["when"]
        if not isinstance(when, dict) or not when:
            self.fail("'when' must map tests to values, e.g. {variable: tier, equals: gold}",
                      item.line_of("when"))
        return Branch(tuple(self.tests(when)), then, item.line_of("then"))

    def tests(self, when):
        keys = set(when)
        out = []
        if "variable" in keys:
            out.append(self.variable(when))
            keys -= {"variable", *VARIABLE_TESTS}
        if "queue" in keys:
            out.append(self.queue(when))
            keys -= {"queue", *QUEUE_FIGURES}
        if "caller_prefix" in keys:
            prefixes = when["caller_prefix"]
            prefixes = [prefixes] if isinstance(prefixes, (str, int)) else prefixes
            if not isinstance(prefixes, list) or not prefixes or not all(
                    isinstance(p, (str, int)) and not isinstance(p, bool) for p in prefixes):
                self.fail("'caller_prefix' must be a number prefix or a list of them",
                          when.line_of("caller_prefix"))
            out.append(Test("caller_prefix", ops=(("prefix", tuple(map(str, prefixes))),)))
            keys.discard("caller_prefix")
        if "caller_matches" in keys:
            out.append(Test("caller_matches",
                            ops=(("matches", self.regex(when, "caller_matches")),)))
            keys.discard("caller_matches")
        if "hours" in keys:
            out.append(Test("hours", hours=self.hours(when["hours"], when.line_of("hours"))))
            keys.discard("hours")
        for key in when:  # file order: the first stray key
            if key in keys:
                self.fail(f"unknown test '{key}' (tests: variable with {', '.join(VARIABLE_TESTS)};"
                          f" caller_prefix, caller_matches, hours; queue with "
                          f"{', '.join(QUEUE_FIGURES)})", when.key_line_of(key))
        return out

    def regex(self, mapping, key):
        value = mapping[key]
        if not isinstance(value, str) or not value:
            self.fail(f"'{key}' must be a regular expression", mapping.line_of(key))
        try:
            re.compile(value)
        except re.error as exc:
            self.fail(f"bad regex {value!r}: {exc}", mapping.line_of(key))
        return value

    def number(self, mapping, key):
        value = mapping[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(f"'{key}' must be a number, not {value!r}", mapping.line_of(key))
        return float(value)

    def variable(self, when):
        name = when["variable"]
        if not isinstance(name, str) or not VARIABLE_RE.match(name):
            self.fail(f"'variable' must be a variable name, not {name!r}", when.line_of("variable"))
        ops = []
        for op in VARIABLE_TESTS:
            if op not in when:
                continue
            if op == "equals":
                value = when[op]
                if isinstance(value, (dict, list)) or value is None:
                    self.fail("'equals' must be a text or a number", when.line_of(op))
                ops.append((op, str(value)))
            elif op == "in":
                items = when[op]
                if not isinstance(items, list) or not items or any(
                        isinstance(v, (dict, list)) or v is None for v in items):
                    self.fail("'in' must be a list of values", when.line_of(op))
                ops.append((op, tuple(str(v) for v in items)))
            elif op == "matches":
                ops.append((op, self.regex(when, op)))
            else:
                ops.append((op, self.number(when, op)))
        if not ops:
            self.fail(f"variable '{name}' needs a comparison ({', '.join(VARIABLE_TESTS)})",
                      when.line_of("variable"))
        return Test("variable", name, tuple(ops))

    def queue(self, when):
        name = when["queue"]
        if not isinstance(name, str) or not name:
            self.fail(f"'queue' must name a queue, not {name!r}", when.line_of("queue"))
        ops = []
        for figure in QUEUE_FIGURES:
            if figure not in when:
                continue
            spec = when[figure]
            if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in (
                    NUMBER_TESTS + ("equals",)):
                self.fail(f"'{figure}' must be one comparison, e.g. {{above: 60}} "
                          f"({', '.join(NUMBER_TESTS)}, equals)", when.line_of(figure))
            op = next(iter(spec))
            ops.append((figure, (op, self.number(spec, op))))
        if not ops:
            self.fail(f"queue '{name}' needs a figure ({', '.join(QUEUE_FIGURES)})",
                      when.line_of("queue"))
        return Test("queue", name, tuple(ops))

    def hours(self, raw, line):
        folder = os.path.dirname(self.fields.source)  # a holidays_file sits beside the flow
        return HoursParser(self.fail, folder).hours(raw, line)


def queue_figures(acd, name):
    """``estimated_wait`` (seconds for a caller joining now) and ``agents_available`` of a queue.

    An ACD with a ``queue_figures`` port answers itself; fs_cc.acd.ACD's are derived from its
    ``queues()`` view and its announcer's wait estimate. Unknown figures are left out (a test on
    them does not hold).
    """
    port = getattr(acd, "queue_figures", None)
    if port is not None:
        return port(name) or {}
    figures = {}
    listing = getattr(acd, "queues", None)
    row = next((q for q in (listing() if listing is not None else ()) if q.get("name") == name),
               None)
    if row is None:
        return figures
    figures["agents_available"] = row.get("agents_available")
    announcer = getattr(acd, "announcer", None)
    if announcer is not None:
        figures["estimated_wait"] = announcer.wait_at(name, int(row.get("waiting", 0)) + 1)
    return figures
