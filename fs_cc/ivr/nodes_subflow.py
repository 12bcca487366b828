"""The ``subflow`` and ``return`` nodes: run another flow's nodes, then come back.

::

    ask_card:
      type: subflow
      flow: card_check          # another flow file (ivr_flows/card_check.yaml), from its start
      next: menu                # where the caller goes on when card_check reaches a return node

    # in card_check.yaml
    done: {type: return}

A ``hangup`` or ``queue`` inside the subflow ends the call as it would anywhere; a caller hanging
up there ends the run at once. Variables, priority and skills set on either side are known on the
other (the subflow starts with the caller's and hands its own back). The subflow's nodes are
events of the subflow (``IvrNodeEntered`` with its name), so its statistics are its own.

``return`` belongs to flows used as subflows: in a flow run directly (a number's flow, or the
target of a transfer) it ends the call politely (hangup NORMAL_CLEARING) and the engine logs a
warning. Nesting is limited: a subflow may not call a flow it is already inside (the validator
refuses a flow calling itself; a longer circle is refused when the call gets there), and at most
MAX_DEPTH flows run inside one another (subflows and transfers to flows together).
"""

import contextvars
import dataclasses
import logging
import typing

from fs_cc.events import HangupSide
from fs_cc.ivr.nodes import NODE_ID_RE, Node, Target, node_type
from fs_cc.ivr.steps import FlowOutcome, FlowResult, step

logger = logging.getLogger(__name__)

MAX_DEPTH = 8
SUBFLOW, TRANSFER = "subflow", "transfer"
REFUSED_CAUSE = "NORMAL_TEMPORARY_FAILURE"  # the flow to run is missing or would recurse


@dataclasses.dataclass(frozen=True)
class Frame:
    """One flow run inside another on a call: its name, how it was entered, and from where."""

    flow: str
    kind: str  # SUBFLOW or TRANSFER
    caller: str  # the flow whose node ran it


# the flows the current call's greenlet runs inside one another (each greenlet has its own context)
_FRAMES = contextvars.ContextVar("fs_cc_ivr_frames", default=())


def flow_name_field(fields, key="flow"):
    """A field naming another flow (its file name without .yaml)."""
    name = fields.text(key)
    if not NODE_ID_RE.match(name):
        fields.fail(f"'{key}' must be a flow's name (its file without .yaml), not {name!r}", key)
    return name


@node_type
@dataclasses.dataclass(frozen=True)
class SubflowNode(Node):
    """Run flow ``flow`` from its start; a return node there comes back to ``next``."""

    flow: str = ""
    flow_line: int = 0
    next: str = ""
    next_line: int = 0

    type_name: typing.ClassVar[str] = "subflow"

    @classmethod
    def parse(cls, node_id, fields):
        name = flow_name_field(fields)
        return cls(node_id, fields.node_line, name, fields.line("flow"),
                   fields.node_ref("next"), fields.line("next"))

    def targets(self):
        return [Target("next", self.next, self.next_line)]


@node_type
@dataclasses.dataclass(frozen=True)
class ReturnNode(Node):
    """End a subflow: the calling flow goes on at its subflow node's ``next``."""

    type_name: typing.ClassVar[str] = "return"
    terminal: typing.ClassVar[bool] = True  # the call leaves this flow here

    @classmethod
    def parse(cls, node_id, fields):
        return cls(node_id, fields.node_line)


def self_calls(flow):
    """(node, message) for each subflow node of ``flow`` that calls ``flow`` itself."""
    return [(node, f"node '{node.id}' (subflow) calls its own flow '{flow.name}': the caller "
                   f"would go round for ever; use a goto to go back inside a flow")
            for node in flow.nodes.values()
            if isinstance(node, SubflowNode) and node.flow == flow.name]


def _copy_facts(source, target):
    target.variables.update(source.variables)
    target.priority = source.priority
    target.skills = dict(source.skills)


def run_nested(runner, session, name, kind):
    """The FlowResult of flow ``name`` run on the call inside ``runner``'s; None when it cannot
    (no such flow loaded, too deep, or a subflow already running)."""
    other = runner.flows(name) if runner.flows is not None else None
    frames = _FRAMES.get()
    # the flows waiting for a return: a subflow may not run one of them again
    inside = {runner.flow.name}.union(*({f.flow, f.caller} for f in frames if f.kind == SUBFLOW))
    if other is None:
        logger.error("call %s: flow %s: no flow '%s' is loaded", session.uuid, runner.flow.name,
                     name)
        return None
    if len(frames) >= MAX_DEPTH or (kind == SUBFLOW and name in inside):
        logger.error("call %s: flow %s: refusing to run flow '%s' inside %s (%s)", session.uuid,
                     runner.flow.name, name, " > ".join(f.flow for f in frames) or "nothing",
                     "too deep" if len(frames) >= MAX_DEPTH else "it would call itself")
        return None
    mine, theirs = runner.facts(session), other.facts(session)
    _copy_facts(mine, theirs)
    token = _FRAMES.set(frames + (Frame(name, kind, runner.flow.name),))
    try:
        # the other flow answers again: a no-op on an answered channel
        result = other.run(session)
    finally:
        _FRAMES.reset(token)
    _copy_facts(theirs, mine)
    return result


def refuse(session, node):
    """End the call when the flow a node names cannot run."""
    session.hangup(REFUSED_CAUSE)
    return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, REFUSED_CAUSE, HangupSide.SYSTEM)


@step(SubflowNode)
def run_subflow(runner, session, node):
    """Run the subflow; ``next`` after its return node, else how it ended the call."""
    result = run_nested(runner, session, node.flow, SUBFLOW)
    if result is None:
        return refuse(session, node)
    if result.outcome is FlowOutcome.RETURNED:
        return node.next
    return result


@step(ReturnNode)
def run_return(runner, session, node):
    """Back to the calling flow; in a flow not run as a subflow, a polite hang-up."""
    frames = _FRAMES.get()
    if frames and frames[-1].kind == SUBFLOW and frames[-1].flow == runner.flow.name:
        return FlowResult(FlowOutcome.RETURNED, node.id)
    logger.warning("call %s: flow %s reached return node %s but was not run as a subflow; "
                   "hanging up", session.uuid, runner.flow.name, node.id)
    session.hangup("NORMAL_CLEARING")
    return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, "NORMAL_CLEARING", HangupSide.SYSTEM)
