"""Mute: the agent's microphone silenced towards the other party, by UUID.

What FreeSWITCH 1.10 does (mod_commands.c session_audio_function, switch_ivr_async.c
switch_ivr_session_audio): ``uuid_audio <leg> start read mute <level>`` adds the media bug
``audio`` (target ``mute``) to the leg, which replaces what is read from the agent's phone by
silence (a level above 1 would be comfort noise instead), and answers ``+OK``; a second start
changes the same bug. ``uuid_audio <leg> stop`` removes the bug (``+OK`` whether there was one or
not). An unknown leg answers ``-ERR No such channel!``. The mute belongs to the agent's leg: a
transfer to another leg leaves the call unmuted.
"""

import logging

from fs_cc import events
from fs_cc.acd.transfer import CallControls, ControlRefused

logger = logging.getLogger(__name__)

MUTE_LEVEL = -4  # any level below 2 is pure silence (session_audio_callback)


def _word(value, what):
    text = str(value)
    if not text or any(ch.isspace() for ch in text):
        raise ValueError(f"{what} must be one non-empty word, got {text!r}")
    return text


def uuid_audio_mute(leg, level=MUTE_LEVEL):
    """``uuid_audio <leg> start read mute <level>``: what the leg's phone says is not heard."""
    return f"uuid_audio {_word(leg, 'uuid')} start read mute {int(level)}"


def uuid_audio_stop(leg):
    """``uuid_audio <leg> stop``: the leg's audio as it is again."""
    return f"uuid_audio {_word(leg, 'uuid')} stop"


class Muting:
    """Mutes the agent's leg of an ACD call or of an agent's outbound call (``dialer``)."""

    def __init__(self, acd, dialer):
        self.acd = acd
        self.dialer = dialer
        self.muted = set()  # (call_uuid, agent leg) muted now

    def agent_leg(self, call_uuid, by_agent=None):
        """The agent's leg talking to the call (ControlRefused naming the field if none)."""
        call = self.dialer.calls.get(call_uuid)
        if call is not None:
            if not call.answered:
                raise ControlRefused("call_uuid", f"call {call_uuid} is not answered yet")
            if by_agent is not None and call.agent != by_agent:
                raise ControlRefused("by_agent", f"call {call_uuid} is not agent {by_agent}'s")
            return call.leg
        return CallControls(self.acd).connected(call_uuid, by_agent).leg

    def is_muted(self, call_uuid):
        """Whether the agent's current leg of the call is muted."""
        try:
            leg = self.agent_leg(call_uuid)
        except ControlRefused:
            return False
        return (call_uuid, leg) in self.muted

    def mute(self, call_uuid, by_agent=None):
        """Silence the agent towards the call; CallMuted."""
        leg = self.agent_leg(call_uuid, by_agent)
        if (call_uuid, leg) in self.muted:
            raise ControlRefused("call_uuid", f"call {call_uuid} is already muted")
        self.acd.ctl.api(uuid_audio_mute(leg))
        self._forget_gone(call_uuid)
        self.muted.add((call_uuid, leg))
        logger.info("call %s: agent leg %s muted", call_uuid, leg)
        self.acd.emit(events.CallMuted, call_uuid=call_uuid, leg_uuid=leg, by_agent=by_agent)
        return leg

    def unmute(self, call_uuid, by_agent=None):
        """The agent is heard again; CallUnmuted."""
        leg = self.agent_leg(call_uuid, by_agent)
        if (call_uuid, leg) not in self.muted:
            raise ControlRefused("call_uuid", f"call {call_uuid} is not muted")
        self.acd.ctl.api(uuid_audio_stop(leg))
        self.muted.discard((call_uuid, leg))
        logger.info("call %s: agent leg %s unmuted", call_uuid, leg)
        self.acd.emit(events.CallUnmuted, call_uuid=call_uuid, leg_uuid=leg, by_agent=by_agent)
        return leg

    def _forget_gone(self, call_uuid):
        # entries of calls the engine no longer holds (ended, or their agent leg replaced)
        live = set(self.dialer.calls) | set(self.acd.callers)
        self.muted = {(uuid, leg) for uuid, leg in self.muted if uuid in live and uuid != call_uuid}
