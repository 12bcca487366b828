"""A caller waiting in line moved to another queue by a supervisor, keeping its place.

Its time in line (``since``) and its priority go with it, so it stands in the new queue where a
caller who joined at the same moment would; the events tell it as leaving the old queue
(``transferred``) and joining the new one.
"""

import logging

from fs_cc import events
from fs_cc.acd.waiting import Phase
from fs_cc.esl.errors import ESLError
from fs_cc.events import QueueOutcome

logger = logging.getLogger(__name__)


def move_caller(acd, caller, queue):
    """Move ``caller`` (an ACD's Caller) to the Queue ``queue``; False when it is not waiting
    (offered, connected, gone)."""
    store, call_uuid, old = acd.store, caller.call_uuid, caller.queue
    if caller.phase is not Phase.WAITING or caller.hungup.is_set():
        return False
    position = store.caller_position(old, call_uuid)
    if not store.dequeue_caller(old, call_uuid):
        return False  # the router took it for an offer meanwhile
    waited = max(0.0, store.clock() - caller.since)
    acd.emit(events.QueueLeft, call_uuid=call_uuid, queue=old, outcome=QueueOutcome.TRANSFERRED,
             waited=round(waited, 3), position=position)
    before = acd.queue_definition(old)
    caller.queue = queue.name
    position = store.enqueue_caller(queue.name, call_uuid, caller.since, caller.priority)
    acd.emit(events.CallQueued, call_uuid=call_uuid, queue=queue.name, priority=caller.priority,
             skills=caller.skills, position=position)
    logger.info("call %s: moved from %s to %s at position %s", call_uuid, old, queue.name,
                position)
    moh = queue.moh or acd.moh
    if before is None or (before.moh or acd.moh) != moh:
        try:  # the new queue's music instead of the old one's
            acd.ctl.stop_media(call_uuid)
            acd.ctl.play(call_uuid, moh)
        except ESLError as exc:
            logger.warning("call %s: music of %s not started: %s", call_uuid, queue.name, exc)
    acd.router.caller_waiting(caller)
    return True
