"""Walks an IVR flow on one call, through the call's outbound-socket session.

The IVR path (``CallRecord.ivr_path``) lists, in order:

- the id of every node entered, e.g. ``"welcome"``, ``"menu"``, ``"sales"``;
- after a menu node, one entry per attempt: ``"<menu>:<key>"`` for a key that leads somewhere,
  ``"<menu>:invalid"`` for a key that is not an option, ``"<menu>:timeout"`` for no key at all.

So "welcome, then 1" reads ``["welcome", "menu", "menu:1", "sales"]`` and "no key three times"
reads ``["welcome", "menu", "menu:timeout", "menu:timeout", "menu:timeout", "support"]``. When the
caller hangs up, the last entry is the node they were in.
"""

import dataclasses
import enum
import logging
import typing

from fs_cc.esl.errors import CallerHungUp
from fs_cc.ivr.nodes import GotoNode, HangupNode, MenuNode, PlayNode, QueueNode, SetNode

logger = logging.getLogger(__name__)

DIGITS_VARIABLE = "fs_cc_menu_digits"
MAX_STEPS = 500  # a caller pressing "repeat" forever still ends somewhere


class FlowOutcome(enum.Enum):
    """How a run of a flow ended."""

    QUEUED = "queued"  # handed to the ACD, which has finished with the call
    CALLER_HUNG_UP = "caller_hung_up"  # in the IVR
    FLOW_HUNG_UP = "flow_hung_up"  # a hangup node (or the step limit)


@dataclasses.dataclass
class FlowResult:
    """The outcome of one run, the node it ended in and the hangup cause when known."""

    outcome: FlowOutcome
    node_id: typing.Optional[str] = None
    hangup_cause: typing.Optional[str] = None


def menu_arguments(node, variable=DIGITS_VARIABLE):
    """The ``play_and_get_digits`` argument for one attempt at a menu node.

    One try per call: the runner counts attempts itself so each one shows in the IVR path. The
    regular expression accepts any single key so that FreeSWITCH hands back wrong keys too and the
    runner decides (and plays the flow's invalid prompt).
    """
    prompt = node.prompts[0] if len(node.prompts) == 1 else "file_string://" + "!".join(node.prompts)
    timeout_ms = int(node.timeout * 1000)
    # min max tries timeout terminators prompt invalid-prompt variable regexp digit-timeout
    return (f"1 1 1 {timeout_ms} # {prompt} silence_stream://250 {variable} "
            f"^[0-9*]$ {timeout_ms}")


class FlowRunner:
    """Runs a :class:`~fs_cc.ivr.flow.Flow` on calls; hands callers to ``acd.enqueue``."""

    def __init__(self, flow, acd, *, max_steps=MAX_STEPS):
        self.flow = flow
        self.acd = acd
        self.max_steps = max_steps
        self._handlers = {
            PlayNode: self._play,
            MenuNode: self._menu,
            SetNode: self._set,
            GotoNode: self._goto,
            QueueNode: self._queue,
            HangupNode: self._hangup,
        }

    def run(self, session, record):
        """Answer the call and walk the flow; returns a :class:`FlowResult` (never raises on hangup)."""
        node_id = None
        try:
            session.execute("answer")
            node_id = self.flow.start
            for _ in range(self.max_steps):
                node = self.flow.node(node_id)
                record.ivr_path.append(node.id)
                outcome = self._handlers[type(node)](session, node, record)
                if isinstance(outcome, FlowResult):
                    return outcome
                node_id = outcome
            logger.warning("call %s: flow %s passed %d steps, hanging up", session.uuid,
                           self.flow.name, self.max_steps)
            session.hangup("NORMAL_CLEARING")
            return FlowResult(FlowOutcome.FLOW_HUNG_UP, node_id, "NORMAL_CLEARING")
        except CallerHungUp as exc:
            logger.info("call %s: caller hung up in IVR node %s (%s)", session.uuid, node_id,
                        exc.cause)
            return FlowResult(FlowOutcome.CALLER_HUNG_UP, node_id,
                              exc.cause or getattr(session, "hangup_cause", None))

    # each handler returns the next node id, or a FlowResult when the flow is over
    def _play(self, session, node, record):
        for prompt in node.prompts:
            session.execute("playback", prompt)
        return node.next

    def _menu(self, session, node, record):
        for _ in range(node.max_attempts):
            event = session.execute("play_and_get_digits", menu_arguments(node))
            digit = (event.variable(DIGITS_VARIABLE) or "").strip() if event is not None else ""
            if not digit:
                record.ivr_path.append(f"{node.id}:timeout")
                continue
            if digit in node.options:
                record.ivr_path.append(f"{node.id}:{digit}")
                return node.options[digit]
            record.ivr_path.append(f"{node.id}:invalid")
            logger.info("call %s: key %r is not an option of menu %s", session.uuid, digit, node.id)
            for prompt in node.invalid_prompts:
                session.execute("playback", prompt)
        return node.default

    def _set(self, session, node, record):
        session.set_var(node.variable, node.value)
        return node.next

    def _goto(self, session, node, record):
        return node.to

    def _queue(self, session, node, record):
        self.acd.enqueue(session, node.queue, record)
        return FlowResult(FlowOutcome.QUEUED, node.id, record.hangup_cause)

    def _hangup(self, session, node, record):
        session.hangup(node.cause)
        return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, node.cause)
