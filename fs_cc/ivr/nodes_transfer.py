"""The ``transfer`` node: put the caller through to an extension, another flow or a number.

::

    front_desk:
      type: transfer
      to: extension             # extension, flow or number
      extension: "8001"         # to: extension -> bridged to user/8001 (the directory's phone)
      # flow: complaint         # to: flow   -> that flow runs on the call from its start
      # number: "+8613800138000"  # to: number -> through the gateway (settings.callback_dial)
      failed: sorry             # optional: the bridge failed (busy, no answer...); else hang up
      next: survey              # optional: where the caller goes on once the other side hangs up;
                                #   without it the call ends then

A transfer emits ``CallTransferred`` (kind agent, ivr or number, by_agent None) when it starts.
To a flow, the other flow decides how the call ends (a ``return`` there hangs up; see
fs_cc.ivr.nodes_subflow); the caller's variables, priority and skills go along.
A bridge is the ``bridge`` application on the caller's channel with ``continue_on_fail`` (so a
failure comes back to the flow) and ``hangup_after_bridge=false`` (so the flow, not the switch,
ends the call and says who hung up: the agent for an extension, the system for a number).
"""

import dataclasses
import logging
import re
import typing

from fs_cc import events
from fs_cc.events import HangupSide, TransferKind
from fs_cc.ivr.nodes import Node, Target, node_type
from fs_cc.ivr.nodes_subflow import TRANSFER, flow_name_field, refuse, run_nested
from fs_cc.ivr.services import flow_service
from fs_cc.ivr.steps import FlowOutcome, FlowResult, step

logger = logging.getLogger(__name__)

KINDS = ("extension", "flow", "number")
EXTENSION_RE = re.compile(r"^[0-9]{1,32}$")
NUMBER_RE = re.compile(r"^\+?[0-9]{3,20}$")
SERVICE = "dial_strings"  # runner.services[SERVICE]: DialStrings
TRANSFER_KINDS = {"extension": TransferKind.AGENT, "flow": TransferKind.IVR,
                  "number": TransferKind.NUMBER}


@dataclasses.dataclass(frozen=True)
class DialStrings:
    """How the switch reaches an extension and an outside number (``{extension}``/``{number}``).

    ``user/`` is the directory's user: its dial-string rings the agent's phone (a SIP phone, or a
    loopback phone on a test switch; fs_cc.directory), as ACD offers do.
    """

    extension: str = "user/{extension}"
    number: str = "loopback/{number}/default"

    def dial(self, kind, target):
        """The bridge argument for ``target`` of ``kind`` (extension or number)."""
        if kind == "extension":
            return self.extension.format(extension=target)
        return self.number.format(number=target)


@flow_service(SERVICE)
def build_dial_strings(engine):
    """The engine's dial strings: numbers go out as callbacks do (settings.callback_dial)."""
    return DialStrings(number=engine.settings.callback_dial)


@node_type
@dataclasses.dataclass(frozen=True)
class TransferNode(Node):
    """Send the caller to ``target`` (an extension, a flow or a number, as ``to`` says)."""

    to: str = ""
    target: str = ""
    target_line: int = 0
    flow: typing.Optional[str] = None  # the target when to: flow (the validator checks it)
    flow_line: int = 0
    failed: typing.Optional[str] = None
    failed_line: int = 0
    next: typing.Optional[str] = None
    next_line: int = 0

    type_name: typing.ClassVar[str] = "transfer"
    terminal: typing.ClassVar[bool] = True  # a put-through call can end here

    @classmethod
    def parse(cls, node_id, fields):
        to = fields.text("to")
        if to not in KINDS:
            fields.fail(f"'to' must be one of {', '.join(KINDS)}, not {to!r}", "to")
        for other in KINDS:
            fields.used.add(other)
            if other != to and other in fields.data:
                fields.fail(f"'{other}' does not go with 'to: {to}'", other)
        if to == "flow":
            target = flow_name_field(fields)
        else:
            value, _ = fields._get(to, True, None)
            target = str(value) if isinstance(value, (str, int)) and not isinstance(
                value, bool) else ""
            pattern, what = ((EXTENSION_RE, "digits") if to == "extension"
                             else (NUMBER_RE, "3 to 20 digits, an optional + first"))
            if not pattern.match(target):
                fields.fail(f"'{to}' must be {what}, not {value!r}", to)
        failed = fields.node_ref("failed", required=False)
        nxt = fields.node_ref("next", required=False)
        if to == "flow" and (failed is not None or nxt is not None):
            fields.fail("a transfer to a flow does not come back: no 'failed' or 'next' "
                        "(use a subflow node to come back)", "failed" if failed else "next")
        return cls(node_id, fields.node_line, to, target, fields.line(to),
                   target if to == "flow" else None, fields.line(to), failed,
                   fields.line("failed"), nxt, fields.line("next"))

    def targets(self):
        edges = []
        if self.failed is not None:
            edges.append(Target("failed", self.failed, self.failed_line))
        if self.next is not None:
            edges.append(Target("next", self.next, self.next_line))
        return edges


@step(TransferNode)
def run_transfer(runner, session, node):
    """Put the caller through; a FlowResult when the call is over, else ``failed``/``next``."""
    # not runner.emit: the fact is about the call, not about a flow
    runner.emitter.emit(events.CallTransferred, call_uuid=session.uuid,
                        target_kind=TRANSFER_KINDS[node.to], target=node.target, by_agent=None)
    if node.to == "flow":
        result = run_nested(runner, session, node.target, TRANSFER)
        return refuse(session, node) if result is None else result
    dial = (runner.services.get(SERVICE) or DialStrings()).dial(node.to, node.target)
    session.set_var("continue_on_fail", "true")
    session.set_var("hangup_after_bridge", "false")
    event = session.execute("bridge", dial)  # returns when either side hangs up, or it failed
    disposition = (event.variable("originate_disposition") if event is not None else None) \
        or session.get_var("originate_disposition") or ""
    if disposition != "SUCCESS":
        cause = disposition or "NORMAL_TEMPORARY_FAILURE"
        logger.info("call %s: transfer %s to %s failed: %s", session.uuid, node.id, dial, cause)
        if node.failed is not None:
            return node.failed
        session.hangup(cause)
        return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, cause, HangupSide.SYSTEM)
    if node.next is not None:
        return node.next
    cause = session.get_var("bridge_hangup_cause") or "NORMAL_CLEARING"
    session.hangup("NORMAL_CLEARING")
    side = HangupSide.AGENT if node.to == "extension" else HangupSide.SYSTEM
    return FlowResult(FlowOutcome.TRANSFERRED, node.id, cause, side)
