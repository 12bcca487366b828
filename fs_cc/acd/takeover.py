"""A supervisor takes over an agent's connected call: their own phone rings, and once answered
the caller is bridged to it and the agent's leg is released to wrap-up.

The supervisor need not be an ACD agent: their leg is followed like an outside party a blind
transfer bridged the caller to (fs_cc.acd.transfer's Handover and ring), so no agent is reserved.
"""

from fs_cc.acd.transfer import ControlRefused
from fs_cc.events import TransferKind


def take_over(controls, call_uuid, extension):
    """Ring ``extension`` for the caller of ``call_uuid`` (a CallControls' connected caller); the
    Handover (ControlRefused naming the field when the call is not connected or is theirs)."""
    caller = controls.connected(call_uuid)
    if extension == caller.agent:
        raise ControlRefused("extension", f"extension {extension} already has call {call_uuid}")
    return controls._start(caller, TransferKind.AGENT, extension, None, f"user/{extension}")

