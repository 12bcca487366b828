"""The node types of an IVR flow: plain data, parsed from YAML with every problem reported by line.

To add a node type: subclass :class:`Node`, set ``type_name`` (and ``terminal`` when the call leaves
the flow there), implement ``parse`` and ``targets``, decorate with :func:`node_type`, and teach
:class:`fs_cc.ivr.runner.FlowRunner` to run it.
"""

import dataclasses
import difflib
import re
import typing

from fs_cc.errors import ConfigError

NODE_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
MENU_DIGITS = "0123456789*"
HANGUP_CAUSE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
DEFAULT_INVALID_PROMPT = "ivr/ivr-that_was_an_invalid_entry.wav"
LANGUAGES = ("en", "zh")  # what a flow or a node may be spoken in
DEFAULT_LANGUAGE = "en"

NODE_TYPES = {}


def node_type(cls):
    """Register a node class under its ``type_name``."""
    NODE_TYPES[cls.type_name] = cls
    return cls


@dataclasses.dataclass(frozen=True)
class Target:
    """One edge of the flow graph: which field of which node points where, and on which line."""

    label: str  # e.g. "next", "option '1'", "default"
    node_id: str
    line: int


class Fields:
    """Reads the fields of one node mapping, raising ConfigError with file and line."""

    def __init__(self, data, node_id, type_name, source, line):
        self.data = data
        self.node_line = line
        self.node_id = node_id
        self.type_name = type_name
        self.source = source
        self.used = {"type"}

    def fail(self, message, key=None):
        """Raise a ConfigError about this node, at the line of ``key`` (or of the node)."""
        line = self.data.line_of(key) if key is not None else self.node_line
        raise ConfigError(f"node '{self.node_id}' ({self.type_name}): {message}", self.source, line)

    def line(self, key):
        """Line of the value of ``key``."""
        return self.data.line_of(key)

    def _get(self, key, required, default):
        self.used.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                typo = difflib.get_close_matches(key, [k for k in self.data if isinstance(k, str)
                                                       and k != key], n=1, cutoff=0.75)
                if typo:
                    self.fail(f"missing required field '{key}' (is '{typo[0]}' a typo?)", typo[0])
                self.fail(f"missing required field '{key}'")
            return default, False
        return self.data[key], True

    def text(self, key, required=True, default=None):
        """A non-empty string field."""
        value, present = self._get(key, required, default)
        if present and (not isinstance(value, str) or not value.strip()):
            self.fail(f"'{key}' must be a non-empty text, not {value!r}", key)
        return value

    def node_ref(self, key, required=True):
        """A field naming another node."""
        value, present = self._get(key, required, None)
        if present and not isinstance(value, str):
            self.fail(f"'{key}' must name a node, not {value!r}", key)
        return value

    def prompts(self, key, required=True, default=None):
        """One sound (text) or a list of sounds; no spaces (FreeSWITCH splits arguments on them)."""
        value, present = self._get(key, required, default)
        if not present:
            return default
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.fail(f"'{key}' must be a sound file or a list of sound files", key)
        for index, item in enumerate(items):
            line = items.line_of(index) if hasattr(items, "line_of") else self.line(key)
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"node '{self.node_id}' ({self.type_name}): '{key}' has an "
                                  f"empty or non-text sound {item!r}", self.source, line)
            if any(ch.isspace() for ch in item):
                raise ConfigError(f"node '{self.node_id}' ({self.type_name}): sound {item!r} "
                                  f"contains a space", self.source, line)
        return tuple(items)

    def number(self, key, default, minimum=0.0):
        """A number of seconds above ``minimum``."""
        value, present = self._get(key, False, default)
        if present and (isinstance(value, bool) or not isinstance(value, (int, float))
                        or value <= minimum):
            self.fail(f"'{key}' must be a number above {minimum:g}, not {value!r}", key)
        return float(value)

    def integer(self, key, default, minimum=1):
        """A whole number at least ``minimum``."""
        value, present = self._get(key, False, default)
        if present and (isinstance(value, bool) or not isinstance(value, int) or value < minimum):
            self.fail(f"'{key}' must be a whole number of at least {minimum}, not {value!r}", key)
        return value

    def finish(self):
        """Refuse fields this node type does not know (usually a typo)."""
        for key in self.data:
            if key not in self.used:
                known = ", ".join(sorted(k for k in self.used if k != "type"))
                self.fail(f"unknown field '{key}' (fields of a {self.type_name} node: {known})",
                          key)


@dataclasses.dataclass(frozen=True)
class Node:
    """Base of all node types."""

    id: str
    line: int

    type_name: typing.ClassVar[str] = ""
    terminal: typing.ClassVar[bool] = False  # the call leaves the flow at this node

    @classmethod
    def parse(cls, node_id, fields):
        """Build the node from its :class:`Fields`."""
        raise NotImplementedError

    def targets(self):
        """The nodes this one can lead to, as :class:`Target` values."""
        return []

    def sounds(self):
        """The sounds this node plays (files, tones, streams), in order."""
        return ()

    def speech_texts(self, language):
        """The texts this node speaks in ``language``, synthesised when the flow loads."""
        return ()


def language_field(fields):
    """A node's optional ``language`` (None: the flow's), one of LANGUAGES."""
    language = fields.text("language", required=False)
    if language is not None and language not in LANGUAGES:
        fields.fail(f"unknown language '{language}' (languages: {', '.join(LANGUAGES)})",
                    "language")
    return language


def barge_in_field(fields):
    """A node's optional ``barge_in``: whether a key stops its prompt (None: the switch's say)."""
    value, present = fields._get("barge_in", False, None)
    if present and not isinstance(value, bool):
        fields.fail(f"'barge_in' must be true or false, not {value!r}", "barge_in")
    return value


@node_type
@dataclasses.dataclass(frozen=True)
class PlayNode(Node):
    """Play sound files, or speak ``text`` (synthesised when the flow loads), then go to ``next``.

    A recorded ``prompt`` given with a ``text`` overrides it: the file plays, the text is only its
    transcript. ``barge_in`` true lets any key stop the prompt, false none (playback_terminators).
    """

    prompts: typing.Tuple[str, ...] = ()
    next: str = ""
    next_line: int = 0
    text: typing.Optional[str] = None
    language: typing.Optional[str] = None  # None: the flow's language
    barge_in: typing.Optional[bool] = None  # None: the switch's playback_terminators

    type_name: typing.ClassVar[str] = "play"

    @classmethod
    def parse(cls, node_id, fields):
        text = fields.text("text", required=False)
        prompts = fields.prompts("prompts", required=False)
        if prompts is None:
            prompts = fields.prompts("prompt", required=text is None, default=())
        else:
            fields.used.add("prompt")
            if "prompt" in fields.data:
                fields.fail("give either 'prompt' or 'prompts', not both", "prompt")
        language = language_field(fields)
        barge_in = barge_in_field(fields)
        nxt = fields.node_ref("next")
        return cls(node_id, fields.node_line, prompts, nxt, fields.line("next"), text, language,
                   barge_in)

    def targets(self):
        return [Target("next", self.next, self.next_line)]

    def sounds(self):
        return self.prompts

    def speech_texts(self, language):
        """The text, unless a recorded prompt overrides it."""
        return (self.text,) if self.text is not None and not self.prompts else ()


@node_type
@dataclasses.dataclass(frozen=True)
class MenuNode(Node):
    """Play a prompt and read one key; no key or a wrong key retries, then ``default``."""

    prompts: typing.Tuple[str, ...] = ()
    options: typing.Mapping[str, str] = dataclasses.field(default_factory=dict)
    option_lines: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    default: str = ""
    default_line: int = 0
    timeout: float = 5.0  # seconds to wait for a key after the prompt
    max_attempts: int = 3
    invalid_prompts: typing.Tuple[str, ...] = (DEFAULT_INVALID_PROMPT,)

    type_name: typing.ClassVar[str] = "menu"

    @classmethod
    def parse(cls, node_id, fields):
        prompts = fields.prompts("prompt")
        raw, _ = fields._get("options", True, None)
        if not isinstance(raw, dict) or not raw:
            fields.fail("'options' must map keys to nodes, e.g. '1: sales'", "options")
        options, option_lines = {}, {}
        for key, target in raw.items():
            line = raw.line_of(key)
            digit = str(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else None
            where = f"node '{node_id}' (menu)"
            if digit == "#":
                raise ConfigError(f"{where}: bad digit '#': '#' ends the input, it cannot be an "
                                  f"option", fields.source, line)
            if digit is None or len(digit) != 1 or digit not in MENU_DIGITS:
                raise ConfigError(f"{where}: bad digit {key!r}: an option is one key, 0-9 or *",
                                  fields.source, line)
            if not isinstance(target, str):
                raise ConfigError(f"{where}: option '{digit}' must name a node, not {target!r}",
                                  fields.source, line)
            options[digit] = target
            option_lines[digit] = line
        default = fields.node_ref("default")
        timeout = fields.number("timeout", 5.0)
        max_attempts = fields.integer("max_attempts", 3)
        invalid = fields.prompts("invalid_prompt", required=False, default=(DEFAULT_INVALID_PROMPT,))
        return cls(node_id, fields.node_line, prompts, options, option_lines, default,
                   fields.line("default"), timeout, max_attempts, invalid)

    def targets(self):
        edges = [Target(f"option '{d}'", t, self.option_lines[d]) for d, t in self.options.items()]
        edges.append(Target("default", self.default, self.default_line))
        return edges

    def sounds(self):
        return self.prompts + self.invalid_prompts


@node_type
@dataclasses.dataclass(frozen=True)
class QueueNode(Node):
    """Hand the caller to the ACD queue ``queue``.

    An answered call leaves the flow here. The other outcomes (``timeout`` after ``max_wait``
    seconds, ``exit_key`` when the caller presses ``exit_key``, ``full``, ``no_agents``) go to the
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
                                                         "no_agents", "callback")

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


@node_type
@dataclasses.dataclass(frozen=True)
class HangupNode(Node):
    """Hang up the call with ``cause``."""

    cause: str = "NORMAL_CLEARING"

    type_name: typing.ClassVar[str] = "hangup"
    terminal: typing.ClassVar[bool] = True

    @classmethod
    def parse(cls, node_id, fields):
        cause = fields.text("cause", required=False, default="NORMAL_CLEARING")
        if not HANGUP_CAUSE_RE.match(cause):
            fields.fail(f"'{cause}' is not a hangup cause (like NORMAL_CLEARING)", "cause")
        return cls(node_id, fields.node_line, cause)


@node_type
@dataclasses.dataclass(frozen=True)
class GotoNode(Node):
    """Jump to another node."""

    to: str = ""
    to_line: int = 0

    type_name: typing.ClassVar[str] = "goto"

    @classmethod
    def parse(cls, node_id, fields):
        return cls(node_id, fields.node_line, fields.node_ref("to"), fields.line("to"))

    def targets(self):
        return [Target("to", self.to, self.to_line)]
