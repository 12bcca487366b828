"""The calls whose IVR session waits in a queue node, so an agent's transfer to a flow can go on.

A caller the IVR queued keeps its outbound-socket session while it waits and talks: the queue
node follows a ``transferred`` outcome into the flow the agent chose (fs_cc.ivr.runner). A call
with no such session (a callback's customer, a call adopted after a restart) has nothing to
continue, and the transfer is refused (fs_cc.acd.transfer.CallControls.to_ivr).
"""

import contextlib

from fs_cc.ivr.services import flow_service

SERVICE = "queue_sessions"  # runner.services[SERVICE]: WaitingSessions


class WaitingSessions:
    """The call UUIDs whose socket session waits on its queue ticket, on this engine."""

    def __init__(self):
        self._uuids = {}  # call uuid -> how many queue nodes wait for it (an overflow nests)

    @contextlib.contextmanager
    def waiting(self, call_uuid):
        """Count ``call_uuid`` as waiting in a queue node while the block runs."""
        self._uuids[call_uuid] = self._uuids.get(call_uuid, 0) + 1
        try:
            yield
        finally:
            left = self._uuids.pop(call_uuid) - 1
            if left:
                self._uuids[call_uuid] = left

    def __contains__(self, call_uuid):
        return call_uuid in self._uuids


@flow_service(SERVICE)
def build_waiting_sessions(engine):
    """One registry per engine, shared by the runners of every flow table it builds."""
    return WaitingSessions()
