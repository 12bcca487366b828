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
from fs_cc.ivr.asr import speech_field

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


def prompt_or_text(fields):
    """A reading node's ``prompt`` (sounds), else its ``text`` to speak: (prompts, text, language).

    One of them is required; a recorded prompt given with a text wins (the text is its
    transcript). The text is synthesised when the flow loads, like a play node's.
    """
    text = fields.text("text", required=False)
    prompts = fields.prompts("prompt", required=text is None, default=())
    return prompts, text, language_field(fields)


def text_unless_recorded(node):
    """The node's text to synthesise, unless a recorded prompt overrides it."""
    return (node.text,) if node.text is not None and not node.prompts else ()


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
        return text_unless_recorded(self)


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
    text: typing.Optional[str] = None  # spoken instead of a recorded prompt
    language: typing.Optional[str] = None  # None: the flow's language
    # option key -> words that choose it by voice (fs_cc.ivr.asr), when speech recognition is on
    speech: typing.Mapping[str, typing.Tuple[str, ...]] = dataclasses.field(default_factory=dict)

    type_name: typing.ClassVar[str] = "menu"

    @classmethod
    def parse(cls, node_id, fields):
        prompts, text, language = prompt_or_text(fields)
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
                   fields.line("default"), timeout, max_attempts, invalid, text=text,
                   language=language, speech=speech_field(fields, options))

    def targets(self):
        edges = [Target(f"option '{d}'", t, self.option_lines[d]) for d, t in self.options.items()]
        edges.append(Target("default", self.default, self.default_line))
        return edges

    def sounds(self):
        return self.prompts + self.invalid_prompts

    def speech_texts(self, language):
        return text_unless_recorded(self)


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
