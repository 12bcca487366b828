"""A caller joining a queue: whether it may (the queue known, not full, staffed when it must be),
and the timers that relax its skill requirement as it waits."""

import logging

from fs_cc.acd.agents import UnknownQueue
from fs_cc.acd.skills import steps_due
from fs_cc.callbacks_wait import NOT_STAFFED
from fs_cc.events import QueueOutcome

logger = logging.getLogger(__name__)


def refusal(store, caller, queue):
    """Why ``caller`` cannot join ``queue`` (unknown, closed, full, nobody staffing it while the
    queue has a ``no_agents`` overflow), or None."""
    if queue is None:
        logger.error("call %s: %s", caller.call_uuid, UnknownQueue(caller.queue))
        return QueueOutcome.UNKNOWN_QUEUE
    if queue.closed_at(store.clock()):
        logger.info("call %s: queue %s is closed", caller.call_uuid, queue.name)
        return QueueOutcome.CLOSED
    if queue.max_callers and len(store.waiting_callers(queue.name)) >= queue.max_callers:
        logger.info("call %s: queue %s is full (%s waiting)", caller.call_uuid, queue.name,
                    queue.max_callers)
        return QueueOutcome.FULL
    if "no_agents" in queue.overflow and not any(
            queue.name in agent.queues and agent.status not in NOT_STAFFED
            for agent in store.list_agents()):
        logger.info("call %s: nobody staffs queue %s", caller.call_uuid, queue.name)
        return QueueOutcome.NO_AGENTS
    return None


def arm_relaxation(acd, caller):
    """Arm one timer per step of the queue's skill relaxation still to come for ``caller``;
    each looks at the caller again when it comes due."""
    waited = max(0.0, acd.store.clock() - caller.since)
    caller.relaxed = steps_due(caller.relax, waited)
    for number, step in enumerate(caller.relax, start=1):
        if number > caller.relaxed:
            caller.greenlets.append(acd.spawn_later(step.after - waited, _relax, acd, caller,
                                                    number))


def _relax(acd, caller, number):
    caller.relaxed = max(caller.relaxed, number)
    logger.info("call %s: skills relaxed (step %s) to %s", caller.call_uuid, number,
                caller.required)
    acd.router.caller_waiting(caller)
