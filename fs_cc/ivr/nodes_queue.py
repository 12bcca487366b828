"""The nodes that put a caller in line: ``set`` (variables, the caller's priority and skills) and
``queue`` (hand the caller to an ACD queue, with an outcome per exit)."""

import dataclasses
import typing

from fs_cc.errors import ConfigError
from fs_cc.ivr.nodes import MENU_DIGITS, VARIABLE_RE, Node, Target, node_type


@node_type
@dataclasses.dataclass(frozen=True)
class QueueNode(Node):
    """Hand the caller to the ACD queue ``queue``.

    An answered call leaves the flow here, unless ``outcomes: {answered: NODE}``: then the
    caller goes on at NODE once the agent hangs up (a survey, fs_cc.ivr.nodes_survey). An agent
    may transfer the caller into another IVR flow: it runs from its start (fs_cc.ivr.sessions),
    with no outcome of its own here. The other
    outcomes (``timeout`` after ``max_wait``
    seconds, ``exit_key`` when the caller presses ``exit_key``, ``full``, ``no_agents`` when the
    queue is open but nobody staffs it, ``closed`` at once when the queue is outside its opening
    hours or closed by an admin, fs_cc.acd.queue_def) go to the
    node ``outcomes`` names for them; an outcome without a node ends the call. With
    ``callback_after_wait`` (seconds), a caller whose estimated wait is longer is offered a
    callback instead of queueing: outcome ``callback`` (docs/callbacks.rst).
    """

    queue: str = ""
    queue_line: int = 0
    priority: int = 0
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    max_wait: typing.Optional[float] = None
    exit_key: typing.Optional[str] = None
    on: typing.Mapping[str, str] = dataclasses.field(default_factory=dict)  # outcome -> node
    on_lines: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    callback_after_wait: typing.Optional[float] = None

    type_name: typing.ClassVar[str] = "queue"
    terminal: typing.ClassVar[bool] = True
    OUTCOMES: typing.ClassVar[typing.Tuple[str, ...]] = ("timeout", "exit_key", "full",
                                                         "no_agents", "closed", "callback",
                                                         "answered")

    @classmethod
    def parse(cls, node_id, fields):
        queue = fields.text("queue")
        priority = fields.integer("priority", 0, minimum=0)
        max_wait, present = fields._get("max_wait", False, None)
        if present:
            max_wait = fields.number("max_wait", None)
        exit_key = fields._get("exit_key", False, None)[0]
        if exit_key is not None:
            exit_key = str(exit_key)
            if len(exit_key) != 1 or exit_key not in MENU_DIGITS + "#":
                fields.fail(f"'exit_key' must be one key (0-9, * or #), not {exit_key!r}",
                            "exit_key")
        skills = cls._skills(fields)
        on, lines = cls._outcomes(fields)
        if "exit_key" in on and exit_key is None:
            fields.fail("'outcomes: exit_key' needs an 'exit_key'", "outcomes")
        if "timeout" in on and max_wait is None:
            fields.fail("'outcomes: timeout' needs a 'max_wait'", "outcomes")
        callback_after_wait, present = fields._get("callback_after_wait", False, None)
        if present:
            callback_after_wait = fields.number("callback_after_wait", None)
        if (callback_after_wait is None) != ("callback" not in on):
            fields.fail("'callback_after_wait' and 'outcomes: callback' go together",
                        "callback_after_wait" if present else "outcomes")
        return cls(node_id, fields.node_line, queue, fields.line("queue"), priority, skills,
                   max_wait, exit_key, on, lines, callback_after_wait)

    @staticmethod
    def _skills(fields):
        value, present = fields._get("skills", False, None)
        if not present:
            return {}
        if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
                and 1 <= v <= 10 for k, v in value.items()):
            fields.fail("'skills' must map skill names to minimum levels 1-10", "skills")
        return dict(value)

    @classmethod
    def _outcomes(cls, fields):
        # not "on": YAML 1.1 reads a bare on as true
        value, present = fields._get("outcomes", False, None)
        if not present:
            return {}, {}
        if not isinstance(value, dict):
            fields.fail(f"'outcomes' must map outcomes ({', '.join(cls.OUTCOMES)}) to nodes",
                        "outcomes")
        on, lines = {}, {}
        for outcome, target in value.items():
            line = value.line_of(outcome) if hasattr(value, "line_of") else fields.line("outcomes")
            if outcome not in cls.OUTCOMES:
                raise ConfigError(f"node '{fields.node_id}' (queue): unknown outcome "
                                  f"'{outcome}' (outcomes: {', '.join(cls.OUTCOMES)})",
                                  fields.source, line)
            if not isinstance(target, str):
                raise ConfigError(f"node '{fields.node_id}' (queue): 'outcomes: {outcome}' must "
                                  f"name a node", fields.source, line)
            on[outcome], lines[outcome] = target, line
        return on, lines

    def targets(self):
        return [Target(f"outcome {outcome}", node, self.on_lines[outcome])
                for outcome, node in self.on.items()]


@node_type
@dataclasses.dataclass(frozen=True)
class SetNode(Node):
    """Set variables, and the caller's priority and required skills for the next queue node.

    ``variable``/``value`` sets one variable, ``variables`` several (name: value); ``priority``
    and ``skills`` (name: minimum level) are merged into the next queue node's own: the higher
    priority, and per skill the higher minimum. At least one of them; then ``next``.
    """

    variable: str = ""  # the first variable set (kept for the one-variable form)
    value: str = ""
    next: str = ""
    next_line: int = 0
    variables: typing.Tuple[typing.Tuple[str, str], ...] = ()  # (name, value), in file order
    priority: typing.Optional[int] = None
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)

    type_name: typing.ClassVar[str] = "set"

    @classmethod
    def parse(cls, node_id, fields):
        pairs = []
        if "variable" in fields.data or "value" in fields.data:
            variable = fields.text("variable")
            value, _ = fields._get("value", True, None)
            pairs.append((variable, cls._value(fields, "value", value, fields.line("value")),
                          fields.line("variable")))
        fields.used.update(("variable", "value"))
        raw, present = fields._get("variables", False, None)
        if present:
            if not isinstance(raw, dict) or not raw:
                fields.fail("'variables' must map variable names to values", "variables")
            for name, value in raw.items():
                line = raw.line_of(name)
                pairs.append((str(name), cls._value(fields, f"variables: {name}", value, line),
                              line))
        seen = set()
        for name, _, line in pairs:
            if not VARIABLE_RE.match(name):
                raise ConfigError(f"node '{node_id}' (set): '{name}' is not a channel variable "
                                  f"name (letters, digits, _ and .)", fields.source, line)
            if name in seen:
                raise ConfigError(f"node '{node_id}' (set): variable '{name}' is set twice",
                                  fields.source, line)
            seen.add(name)
        priority, present = fields._get("priority", False, None)
        if present:
            priority = fields.integer("priority", 0, minimum=0)
        skills = QueueNode._skills(fields)
        if not pairs and priority is None and not skills:
            fields.used.add("next")
            fields.finish()  # a misspelt field is the likelier mistake
            fields.fail("give 'variable' and 'value', 'variables', 'priority' or 'skills'")
        nxt = fields.node_ref("next")
        variables = tuple((name, value) for name, value, _ in pairs)
        first = variables[0] if variables else ("", "")
        return cls(node_id, fields.node_line, first[0], first[1], nxt, fields.line("next"),
                   variables, priority, skills)

    @staticmethod
    def _value(fields, label, value, line):
        if isinstance(value, (dict, list)):
            raise ConfigError(f"node '{fields.node_id}' (set): '{label}' must be a text or a "
                              f"number", fields.source, line)
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    def targets(self):
        return [Target("next", self.next, self.next_line)]
