"""How a flow run ends, and the registry of node types run outside fs_cc.ivr.runner.

A node type in a module of its own registers how it runs with :func:`step`::

    @step(LookupNode)
    def run_lookup(runner, session, node):
        ...
        return node.next            # the next node id, or a FlowResult when the flow is over

``runner`` is the :class:`fs_cc.ivr.runner.FlowRunner` (``runner.emit``, ``runner.facts``,
``runner.flows``, ``runner.services``); the module is imported by ``fs_cc.ivr``.
"""

import dataclasses
import enum
import typing

from fs_cc.events import HangupSide


class FlowOutcome(enum.Enum):
    """How a run of a flow ended."""

    QUEUED = "queued"  # handed to the ACD, which has finished with the call
    CALLER_HUNG_UP = "caller_hung_up"  # in the IVR (or while waiting in a queue)
    FLOW_HUNG_UP = "flow_hung_up"  # a hangup node (or the step limit)
    TRANSFERRED = "transferred"  # sent on by a transfer node: the call left this engine's flow
    RETURNED = "returned"  # a return node ended a subflow: its caller goes on (nodes_subflow)


@dataclasses.dataclass
class FlowResult:
    """The outcome of one run, the node it ended in, the hangup cause and side when known."""

    outcome: FlowOutcome
    node_id: typing.Optional[str] = None
    hangup_cause: typing.Optional[str] = None
    side: typing.Optional[HangupSide] = None


STEPS = {}  # node class -> function(runner, session, node) -> next node id or FlowResult


def step(node_class):
    """Register the decorated function as how nodes of ``node_class`` run."""

    def register(function):
        STEPS[node_class] = function
        return function

    return register
