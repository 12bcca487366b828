"""The ``sms`` node: send the caller (or anyone) a text message, through the worker.

::

    send_address:
      type: sms
      to: "{caller_number}"               # a number, or a variable holding one
      text: "Hotel Lotus, 88 Nanjing Road. Your booking: {booking_id}"
      done_prompt: ivr/sms-sent.wav       # optional: played once the request is accepted
      next: goodbye

The node does not send anything itself: it emits ``call.sms_requested`` (number, text, a new
request id) into the engine's durable outbox, and the worker stores the request and sends it
through its SMS gateway (web.messages.gateways), retrying a failed send. So a request the caller
was told about survives an engine or worker that stops. ``{name}`` in ``to`` and ``text`` is a
flow variable (set, collect, lookup), a channel variable, or ``caller_number``.

A number that is not 3 to 20 digits (an optional leading ``+``) once filled in is not sent: the
node logs it and goes on to ``next`` (a caller with a hidden number gets no message).
"""

import dataclasses
import logging
import re
import typing
import uuid as uuidlib

from fs_cc import events
from fs_cc.ivr.nodes import Node, Target, node_type
from fs_cc.ivr.speech import VARIABLE_RE
from fs_cc.ivr.steps import step

logger = logging.getLogger(__name__)

NUMBER_RE = re.compile(r"^\+?[0-9]{3,20}$")
MAX_TEXT = 500  # characters: a few concatenated SMS, far below any gateway's limit
SMS_ID_VARIABLE = "fs_cc_sms_request_id"  # set on the caller's channel once requested
CALLER_NUMBER = "caller_number"  # always known: the caller id of the call


def fill(template, lookup):
    """``template`` with each ``{name}`` replaced by ``lookup(name)`` ("" when unknown)."""
    return VARIABLE_RE.sub(lambda match: str(lookup(match.group(1)) or ""), template)


@node_type
@dataclasses.dataclass(frozen=True)
class SmsNode(Node):
    """Ask the worker to send ``text`` to ``to``; then ``next``."""

    to: str = ""
    text: str = ""
    done_prompts: typing.Tuple[str, ...] = ()
    next: str = ""
    next_line: int = 0

    type_name: typing.ClassVar[str] = "sms"

    @classmethod
    def parse(cls, node_id, fields):
        to = fields.text("to")
        if not VARIABLE_RE.search(to) and not NUMBER_RE.match(to):
            fields.fail(f"'to' must be a phone number or a variable like \"{{caller_number}}\","
                        f" not {to!r}", "to")
        text = fields.text("text")
        if len(text) > MAX_TEXT:
            fields.fail(f"'text' is {len(text)} characters; at most {MAX_TEXT}", "text")
        done = fields.prompts("done_prompt", required=False, default=())
        nxt = fields.node_ref("next")
        return cls(node_id, fields.node_line, to, text, done, nxt, fields.line("next"))

    def targets(self):
        return [Target("next", self.next, self.next_line)]

    def sounds(self):
        return self.done_prompts

    def variables_read(self):
        """The variables ``to`` and ``text`` name (``caller_number`` is the node's own)."""
        return [name for part in (self.to, self.text) for name in VARIABLE_RE.findall(part)
                if name != CALLER_NUMBER]


def call_lookup(runner, session):
    """How a node reads ``{name}``: the flow's variables, ``caller_number``, the channel's."""
    known = runner.facts(session).variables

    def lookup(name):
        if name in known:
            return known[name]
        if name == CALLER_NUMBER:
            return session.caller_number
        return session.get_var(name)

    return lookup


@step(SmsNode)
def run_sms(runner, session, node, new_id=lambda: str(uuidlib.uuid4())):
    """An sms node on a call: ``call.sms_requested`` (the worker sends it); ``next``."""
    lookup = call_lookup(runner, session)
    number = re.sub(r"[\s-]", "", fill(node.to, lookup))
    if not NUMBER_RE.match(number):
        logger.warning("call %s: sms node %s: %r is not a number to text; nothing sent",
                       session.uuid, node.id, number)
        return node.next
    request_id = new_id()
    runner.emit(events.SmsRequested, session, node=node.id, request_id=request_id,
                number=number, text=fill(node.text, lookup))
    logger.info("call %s: sms %s to %s requested", session.uuid, request_id, number)
    session.set_var(SMS_ID_VARIABLE, request_id)
    for prompt in node.done_prompts:
        session.execute("playback", prompt)
    return node.next
