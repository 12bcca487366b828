"""The ``callback`` node (遇忙回拨): the caller leaves a number and keeps their place in line.

::

    offer_callback:
      type: callback
      queue: sales              # optional after a queue node: the queue the caller waited in
      prompt: [...]             # "1: call me back at this number; 2: another number"
      say_number: true          # read the caller's number back after the prompt (digits/N.wav)
      confirm_key: "1"          # keep the number the caller calls from
      other_key: "2"            # key another one
      number_prompt: [...]      # "key the number, then #" (also for a hidden caller id)
      min_digits: 5
      max_digits: 15
      done_prompt: [...]        # played once the request is recorded (optional)
      next: goodbye             # recorded
      default: goodbye          # no valid choice after max_attempts, or no number

The request keeps the caller's place when the node follows a queue node: that queue, the
original queue time, priority and skills (fs_cc.ivr.callback_step runs it).
"""

import dataclasses
import typing

from fs_cc.ivr.nodes import (DEFAULT_INVALID_PROMPT, MENU_DIGITS, Node, Target, node_type)

DIGIT_SOUND = "digits/{}.wav"  # what say_number plays for each digit of the caller's number


@node_type
@dataclasses.dataclass(frozen=True)
class CallbackNode(Node):
    """Offer and record a callback: confirm the caller's number or key another; then ``next``."""

    queue: typing.Optional[str] = None
    queue_line: int = 0
    prompts: typing.Tuple[str, ...] = ()
    say_number: bool = False
    confirm_key: str = "1"
    other_key: str = "2"
    number_prompts: typing.Tuple[str, ...] = ()
    min_digits: int = 5
    max_digits: int = 15
    timeout: float = 5.0
    max_attempts: int = 3
    invalid_prompts: typing.Tuple[str, ...] = (DEFAULT_INVALID_PROMPT,)
    done_prompts: typing.Tuple[str, ...] = ()
    priority: typing.Optional[int] = None  # None: the waiting caller's (else 0)
    next: str = ""
    next_line: int = 0
    default: str = ""
    default_line: int = 0

    type_name: typing.ClassVar[str] = "callback"

    @classmethod
    def parse(cls, node_id, fields):
        queue = fields.text("queue", required=False)
        prompts = fields.prompts("prompt")
        say_number, present = fields._get("say_number", False, False)
        if present and not isinstance(say_number, bool):
            fields.fail(f"'say_number' must be true or false, not {say_number!r}", "say_number")
        confirm_key = cls._key(fields, "confirm_key", "1")
        other_key = cls._key(fields, "other_key", "2")
        if confirm_key == other_key:
            fields.fail(f"'confirm_key' and 'other_key' are both '{confirm_key}'", "other_key")
        number_prompts = fields.prompts("number_prompt")
        min_digits = fields.integer("min_digits", 5, minimum=3)
        max_digits = fields.integer("max_digits", 15, minimum=3)
        if max_digits > 20 or max_digits < min_digits:
            fields.fail(f"'max_digits' must be {min_digits} to 20, not {max_digits}",
                        "max_digits")
        timeout = fields.number("timeout", 5.0)
        max_attempts = fields.integer("max_attempts", 3)
        invalid = fields.prompts("invalid_prompt", required=False,
                                 default=(DEFAULT_INVALID_PROMPT,))
        done = fields.prompts("done_prompt", required=False, default=())
        priority, present = fields._get("priority", False, None)
        if present:
            priority = fields.integer("priority", 0, minimum=0)
        nxt = fields.node_ref("next")
        default = fields.node_ref("default")
        return cls(node_id, fields.node_line, queue, fields.line("queue"), prompts,
                   say_number, confirm_key, other_key, number_prompts, min_digits, max_digits,
                   timeout, max_attempts, invalid, done, priority, nxt, fields.line("next"),
                   default, fields.line("default"))

    @staticmethod
    def _key(fields, name, default):
        value = fields._get(name, False, default)[0]
        key = str(value)
        if isinstance(value, bool) or len(key) != 1 or key not in MENU_DIGITS:
            fields.fail(f"'{name}' must be one key, 0-9 or *, not {value!r}", name)
        return key

    def targets(self):
        return [Target("next", self.next, self.next_line),
                Target("default", self.default, self.default_line)]

    def sounds(self):
        digits = tuple(DIGIT_SOUND.format(digit) for digit in "0123456789") \
            if self.say_number else ()
        return (self.prompts + digits + self.number_prompts + self.invalid_prompts
                + self.done_prompts)
