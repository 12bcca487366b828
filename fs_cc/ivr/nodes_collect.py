"""The ``collect`` node: the caller keys several digits (a card number, a PIN) into a variable.

::

    card:
      type: collect
      prompt: ivr/enter-card-number.wav   # one sound or a list
      variable: card_number     # set on the channel and kept for later nodes ({card_number})
      min_length: 8             # fewer keys is an invalid attempt
      max_length: 16            # FreeSWITCH stops reading at this many keys
      terminator: "#"           # keys that end the input early ("#" by default; "" for none)
      timeout: 5                # seconds to wait for the first key
      digit_timeout: 3          # seconds to wait for each further key
      regex: "^62[0-9]+$"       # optional: the whole input must match (Python syntax)
      max_attempts: 3
      invalid_prompt: ivr/ivr-that_was_an_invalid_entry.wav
      secret: true              # the digits never appear in events (masked as x per key)
      next: lookup_card         # a valid input
      default: agent            # no valid input after max_attempts

FreeSWITCH's ``play_and_get_digits`` reads one attempt at a time (``collect_arguments``), so every
attempt is an ``IvrInput`` event (``valid``, ``invalid`` or ``timeout``) and the runner decides
validity itself, with the same rules for every switch.
"""

import dataclasses
import re
import typing

from fs_cc.ivr.nodes import (DEFAULT_INVALID_PROMPT, VARIABLE_RE, Node, Target, node_type,
                             prompt_or_text, text_unless_recorded)

COLLECT_VARIABLE = "fs_cc_collect_digits"  # the scratch variable play_and_get_digits fills
MAX_LENGTH = 128  # the digit buffer of FreeSWITCH's play_and_get_digits
KEYS = "0123456789*#"
MASK = "x"  # one per key of a secret input, in events


@node_type
@dataclasses.dataclass(frozen=True)
class CollectNode(Node):
    """Read ``min_length`` to ``max_length`` digits into ``variable``; retries, then ``default``."""

    prompts: typing.Tuple[str, ...] = ()
    variable: str = ""
    min_length: int = 1
    max_length: int = 20
    terminators: str = "#"
    timeout: float = 5.0
    digit_timeout: float = 3.0
    regex: typing.Optional[str] = None
    max_attempts: int = 3
    invalid_prompts: typing.Tuple[str, ...] = (DEFAULT_INVALID_PROMPT,)
    secret: bool = False
    next: str = ""
    next_line: int = 0
    default: str = ""
    default_line: int = 0
    text: typing.Optional[str] = None  # spoken instead of a recorded prompt
    language: typing.Optional[str] = None  # None: the flow's language

    type_name: typing.ClassVar[str] = "collect"

    @classmethod
    def parse(cls, node_id, fields):
        prompts, text, language = prompt_or_text(fields)
        variable = fields.text("variable")
        if not VARIABLE_RE.match(variable):
            fields.fail(f"'{variable}' is not a variable name (letters, digits, _ and .)",
                        "variable")
        min_length = fields.integer("min_length", 1)
        max_length = fields.integer("max_length", max(20, min_length))
        if max_length > MAX_LENGTH or max_length < min_length:
            fields.fail(f"'max_length' must be {min_length} to {MAX_LENGTH}, not {max_length}",
                        "max_length")
        terminators = cls._terminators(fields)
        timeout = fields.number("timeout", 5.0)
        digit_timeout = fields.number("digit_timeout", 3.0)
        regex = fields.text("regex", required=False)
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as exc:
                fields.fail(f"bad regex {regex!r}: {exc}", "regex")
        max_attempts = fields.integer("max_attempts", 3)
        invalid = fields.prompts("invalid_prompt", required=False,
                                 default=(DEFAULT_INVALID_PROMPT,))
        secret, present = fields._get("secret", False, False)
        if present and not isinstance(secret, bool):
            fields.fail(f"'secret' must be true or false, not {secret!r}", "secret")
        nxt = fields.node_ref("next")
        default = fields.node_ref("default")
        return cls(node_id, fields.node_line, prompts, variable, min_length, max_length,
                   terminators, timeout, digit_timeout, regex, max_attempts, invalid, secret,
                   nxt, fields.line("next"), default, fields.line("default"), text=text,
                   language=language)

    @staticmethod
    def _terminators(fields):
        value, present = fields._get("terminator", False, "#")
        if not present:
            return "#"
        if value is False or value == "":
            return ""
        text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
        if text is None or any(key not in KEYS for key in text) or len(set(text)) != len(text):
            fields.fail(f"'terminator' must be keys from 0-9, * and # (or \"\" for none), "
                        f"not {value!r}", "terminator")
        return text

    def check(self, digits):
        """``"valid"`` or ``"invalid"`` for the keys of one attempt (``"timeout"``: none)."""
        if not digits:
            return "timeout"
        if not self.min_length <= len(digits) <= self.max_length:
            return "invalid"
        if self.regex is not None and not re.fullmatch(self.regex, digits):
            return "invalid"
        return "valid"

    def shown(self, digits):
        """The digits as events may carry them: masked when the node is ``secret``."""
        if not digits:
            return None
        return MASK * len(digits) if self.secret else digits

    def targets(self):
        return [Target("next", self.next, self.next_line),
                Target("default", self.default, self.default_line)]

    def sounds(self):
        return self.prompts + self.invalid_prompts

    def speech_texts(self, language):
        return text_unless_recorded(self)


def prompt_argument(prompts):
    """``play_and_get_digits``' prompt: one sound, several as one file_string, or silence."""
    if not prompts:
        return "silence_stream://250"  # the text could not be spoken: the caller still keys
    return prompts[0] if len(prompts) == 1 else "file_string://" + "!".join(prompts)


def collect_arguments(node, variable=COLLECT_VARIABLE, prompts=None):
    """The ``play_and_get_digits`` argument for one attempt at a collect node.

    FreeSWITCH's order: min max tries timeout terminators prompt invalid-prompt variable regexp
    digit-timeout. One try per call and a regexp that takes any keys: FreeSWITCH hands back what
    the caller keyed (also too few keys) and the runner judges it and plays the invalid prompt.
    ``prompts`` (default: the node's recorded ones) are the sounds to play, e.g. its spoken text.
    """
    prompt = prompt_argument(node.prompts if prompts is None else prompts)
    terminators = node.terminators or "none"  # no key the caller can press
    return (f"{node.min_length} {node.max_length} 1 {int(node.timeout * 1000)} {terminators} "
            f"{prompt} silence_stream://250 {variable} ^[0-9*#]+$ "
            f"{int(node.digit_timeout * 1000)}")
