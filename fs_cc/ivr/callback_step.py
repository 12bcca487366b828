"""Runs a ``callback`` node on a call: the caller's choice, the number, the request recorded.

Each attempt is an ``IvrInput`` of the node, so the IVR path reads ``callback:1`` (the number
the caller calls from), ``callback:2`` then ``callback:number`` (another number keyed),
``callback:invalid`` or ``callback:timeout``; the number itself stays out of the path.
"""

import dataclasses
import logging
import typing

from fs_cc import events
from fs_cc.acd.agents import UnknownQueue
from fs_cc.callbacks import InvalidNumber, is_callable_number, normalize_number
from fs_cc.ivr.nodes_callback import DIGIT_SOUND

logger = logging.getLogger(__name__)

CALLBACK_ID_VARIABLE = "fs_cc_callback_id"  # set on the caller's channel once recorded


@dataclasses.dataclass(frozen=True)
class Place:
    """Where a caller waited: the queue, since when (epoch seconds), its priority and skills."""

    queue: str
    since: float
    priority: int = 0
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)


def _prompt(prompts):
    return prompts[0] if len(prompts) == 1 else "file_string://" + "!".join(prompts)


def choice_arguments(node, prompts, variable):
    """``play_and_get_digits`` for one attempt at the offer: one key, any key (the step decides)."""
    timeout_ms = int(node.timeout * 1000)
    return (f"1 1 1 {timeout_ms} # {_prompt(prompts)} silence_stream://250 {variable} "
            f"^[0-9*]$ {timeout_ms}")


def number_arguments(node, variable):
    """``play_and_get_digits`` for the number: min..max digits ended by #, digits only."""
    timeout_ms = int(node.timeout * 1000)
    return (f"{node.min_digits} {node.max_digits} 1 {timeout_ms} # {_prompt(node.number_prompts)} "
            f"silence_stream://250 {variable} ^[0-9]{{{node.min_digits},{node.max_digits}}}$ "
            f"{timeout_ms}")


class CallbackStep:
    """Runs callback nodes for a FlowRunner: ``requests`` records them (fs_cc.ivr.ports).

    ``emit`` is the runner's (event class, session, **fields); ``variable`` the channel variable
    the keys are read into (the runner's menus use the same one).
    """

    def __init__(self, requests, emit, variable):
        self.requests = requests
        self._emit = emit
        self.variable = variable

    def run(self, session, node, place=None):
        """The next node: ``next`` once recorded, ``default`` when the caller gave no number."""
        number = self._number(session, node)
        if number is None:
            return node.default
        queue = node.queue or (place.queue if place is not None else None)
        if queue is None:
            logger.error("call %s: callback node %s names no queue and follows none; no request",
                         session.uuid, node.id)
            return node.default
        kept = place is not None and place.queue == queue
        priority = node.priority if node.priority is not None else (
            place.priority if kept else 0)
        try:
            request = self.requests.request(
                queue, number, since=place.since if kept else None, priority=priority,
                skills=dict(place.skills) if kept else {}, call_uuid=session.uuid,
                caller_number=session.caller_number or "")
        except (InvalidNumber, UnknownQueue) as exc:
            logger.error("call %s: callback node %s: no request: %s", session.uuid, node.id, exc)
            return node.default
        session.set_var(CALLBACK_ID_VARIABLE, request.callback_id)
        for prompt in node.done_prompts:
            session.execute("playback", prompt)
        return node.next

    def _number(self, session, node):
        """The number to call back, or None after max_attempts without one."""
        own = session.caller_number or ""
        callable_own = is_callable_number(own)
        for _ in range(node.max_attempts):
            if not callable_own:
                number = self._keyed(session, node)
                if number is not None:
                    return number
                continue
            key = self._choice(session, node, own)
            if key == node.confirm_key:
                return normalize_number(own)
            if key == node.other_key:
                number = self._keyed(session, node)
                if number is not None:
                    return number
        return None

    def _choice(self, session, node, own):
        prompts = node.prompts
        if node.say_number:
            prompts = prompts + tuple(DIGIT_SOUND.format(digit) for digit in own if digit.isdigit())
        event = session.execute("play_and_get_digits",
                                choice_arguments(node, prompts, self.variable))
        key = (event.variable(self.variable) or "").strip() if event is not None else ""
        if not key:
            self._input(session, node, None, "timeout")
        elif key in (node.confirm_key, node.other_key):
            self._input(session, node, key, "option")
        else:
            self._input(session, node, key, "invalid")
            self._invalid(session, node)
        return key

    def _keyed(self, session, node):
        event = session.execute("play_and_get_digits", number_arguments(node, self.variable))
        digits = (event.variable(self.variable) or "").strip() if event is not None else ""
        if not digits:
            self._input(session, node, None, "timeout")
            return None
        try:
            number = normalize_number(digits, min_digits=node.min_digits,
                                      max_digits=node.max_digits)
        except InvalidNumber as exc:
            logger.info("call %s: callback number refused: %s", session.uuid, exc.reason)
            self._input(session, node, "number", "invalid")
            self._invalid(session, node)
            return None
        self._input(session, node, "number", "option")
        return number

    def _input(self, session, node, key, result):
        self._emit(events.IvrInput, session, node=node.id, input=key, result=result)

    @staticmethod
    def _invalid(session, node):
        for prompt in node.invalid_prompts:
            session.execute("playback", prompt)
