"""Where a caller goes when a queue lets go of it and the flow's queue node names no node for why.

The queue's ``overflow`` setting (fs_cc.acd.queue_def) names a target per reason (``timeout``,
``full``, ``exit_key``, ``no_agents``):

- ``queue:NAME``: the caller waits in that queue next (its own limits and overflow apply; at most
  ``MAX_HOPS`` queues in a row, so two queues overflowing into each other end);
- ``flow:NAME``: that IVR flow runs from its start;
- ``callback``: the flow's callback node (the offer to be called back), if the flow has one;
- ``hangup`` (``hangup:SOUND``): the sound, then the call ends;
- ``voicemail`` (``voicemail:BOX``): the caller leaves a message in the queue's box (or BOX),
  as a voicemail node would (fs_cc.ivr.nodes_record), then the call ends.

A flow's own ``outcomes`` for the reason always win over the queue's overflow.
"""

import dataclasses
import logging

from fs_cc.ivr.nodes_record import overflow_voicemail

logger = logging.getLogger(__name__)

MAX_HOPS = 5


class Overflows:
    """Follows queue overflows for one FlowRunner (its flow, the ACD, the other flows)."""

    def __init__(self, runner):
        self.runner = runner

    def target(self, queue, outcome):
        """The Overflow of ``queue`` for ``outcome`` (a QueueOutcome), or None."""
        definition = getattr(self.runner.acd, "queue_definition", lambda name: None)(queue)
        overflow = getattr(definition, "overflow", None) or {}
        return overflow.get(outcome.value)

    def follow(self, session, node, overflow, hops):
        """Go where ``overflow`` says from queue node ``node``: the next node id, a FlowResult,
        or None when the call should end as if there were no overflow."""
        runner = self.runner
        logger.info("call %s: queue %s overflows to %s", session.uuid, node.queue, overflow)
        if overflow.kind == "queue":
            if hops >= MAX_HOPS:
                logger.warning("call %s: %s queue overflows in a row; ending the call",
                               session.uuid, hops)
                return None
            # the next queue's own max_wait, exit key and overflow apply, not this node's
            hop = dataclasses.replace(node, queue=overflow.target, max_wait=None, exit_key=None,
                                      on={}, callback_after_wait=None)
            return runner.queue_step(session, hop, hops + 1)
        if overflow.kind == "flow":
            other = runner.flows(overflow.target) if runner.flows is not None else None
            if other is None:
                logger.error("call %s: overflow flow %r is not loaded; ending the call",
                             session.uuid, overflow.target)
                return None
            return other.run(session)
        if overflow.kind == "callback":
            node_id = runner.callback_node_id()
            if node_id is None:
                logger.error("call %s: queue %s overflows to a callback offer, but flow %s has "
                             "no callback node; ending the call", session.uuid, node.queue,
                             runner.flow.name)
            return node_id
        if overflow.kind == "voicemail":
            overflow_voicemail(runner, session, node, overflow.target)
            return None
        if overflow.target:  # hangup with a message
            session.execute("playback", overflow.target)
        return None
