"""The `eavesdrop` application: a supervisor leg listens to, whispers to or barges into a call.

Follows switch_ivr_eavesdrop_session (src/switch_ivr_async.c) and eavesdrop_function
(mod_dptools.c): the spy is pre-answered if needed, DTMF `1` talks to the other party (ED_MUX_READ),
`2` whispers to the eavesdropped leg (ED_MUX_WRITE), `3` barges in (both), `0` goes back to
listening, `*` leaves (or moves to the next channel with `eavesdrop all`). FreeSWITCH keeps the mode
in media-bug flags only; the emulator shows it as the `fs_cc_sim_eavesdrop_mode` variable and in
`Emulator.eavesdrops`. The eavesdropped channel carries the media bug `eavesdrop` (MEDIA_BUG_START
/ MEDIA_BUG_STOP there, Media-Bug-Target its own uuid; nothing on the spy's channel). An unknown
target returns at once (Application-Response `_none_`).
"""

import enum
import logging

from fs_cc.emulator.channel import WakeReason
from fs_cc.emulator.recording import MediaBug

logger = logging.getLogger(__name__)

MEDIA_WAIT_SECONDS = 6.0  # the 600 x 10 ms sanity loop waiting for the target's media


class EavesdropMode(enum.Enum):
    """Who hears the spy: nobody, the other party, the eavesdropped leg, or both."""
    LISTEN = "listen"
    TALK = "talk"        # DTMF 1, eavesdrop_whisper_aleg: the eavesdropped leg's partner hears the spy
    WHISPER = "whisper"  # DTMF 2, eavesdrop_whisper_bleg: the eavesdropped leg hears the spy
    BARGE = "barge"      # DTMF 3: three-way

    @classmethod
    def from_flags(cls, mux_read, mux_write):
        """ED_MUX_READ / ED_MUX_WRITE to a mode."""
        return {(False, False): cls.LISTEN, (True, False): cls.TALK,
                (False, True): cls.WHISPER, (True, True): cls.BARGE}[(mux_read, mux_write)]


DIGIT_MODES = {"0": EavesdropMode.LISTEN, "1": EavesdropMode.TALK,
               "2": EavesdropMode.WHISPER, "3": EavesdropMode.BARGE}


def _true(value):
    return str(value or "").lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


class EavesdropSession:
    """One spy on one target: the mode and who hears whom."""

    def __init__(self, spy, target, mode, hears_target=True, hears_other=True):
        self.spy = spy
        self.target = target
        self.mode = mode
        self.hears_target = hears_target
        self.hears_other = hears_other

    @property
    def other_uuid(self):
        """The party the eavesdropped leg is bridged to (or its loopback twin), if any."""
        target = self.target
        if target.bridged_to:
            return target.bridged_to
        return target.loopback_partner.uuid if target.loopback_partner is not None else None

    @property
    def heard_by(self):
        """UUIDs of the legs that hear the spy in the current mode."""
        heard = set()
        if self.mode in (EavesdropMode.WHISPER, EavesdropMode.BARGE):
            heard.add(self.target.uuid)
        if self.mode in (EavesdropMode.TALK, EavesdropMode.BARGE) and self.other_uuid:
            heard.add(self.other_uuid)
        return heard

    def set_mode(self, mode):
        """Change the mode and publish it on the spy's channel."""
        self.mode = mode
        self.spy.set_var("fs_cc_sim_eavesdrop_mode", mode.value)
        logger.debug("%s: eavesdrop on %s now %s", self.spy.uuid, self.target.uuid, mode.value)


def _media_up(channel):
    return channel.answer_state in ("answered", "early")


def eavesdrop_session(spy, target_uuid):
    """Spy on one channel until it or the spy hangs up, or `*`; returns True when `*` ended it."""
    switch = spy.switch
    target = switch.channels.get(target_uuid)
    if target is None or target.hungup or target is spy:
        logger.info("%s: eavesdrop target %s not found", spy.uuid, target_uuid)
        return False
    deadline = switch.clock.monotonic() + MEDIA_WAIT_SECONDS
    while not _media_up(target) and not target.hungup and switch.clock.monotonic() < deadline:
        target.state_changed.clear()
        target.state_changed.wait(0.01)
    if not _media_up(target) or spy.hungup:
        return False
    if spy.answer_state == "ringing":
        spy.pre_answer()
    dtmf_enabled = _true(spy.get_var("eavesdrop_enable_dtmf", "true"))
    mode = EavesdropMode.from_flags(_true(spy.get_var("eavesdrop_whisper_aleg")),
                                    _true(spy.get_var("eavesdrop_whisper_bleg")))
    bridge_a, bridge_b = _true(spy.get_var("eavesdrop_bridge_aleg")), _true(spy.get_var("eavesdrop_bridge_bleg"))
    if not (bridge_a or bridge_b):  # "Make sure that at least one leg is bridged, default to both"
        bridge_a = bridge_b = True
    session = EavesdropSession(spy, target, mode, hears_target=bridge_a, hears_other=bridge_b)
    switch.eavesdrops[spy.uuid] = session
    spy.set_var("fs_cc_sim_eavesdrop_target", target.uuid)
    session.set_mode(mode)
    # the bug sits on the eavesdropped channel, its target that channel's own uuid
    bug = MediaBug(target, "eavesdrop", target.uuid).add()
    wake = lambda _ch: spy.wake()
    target.on_hangup.append(wake)
    starred = False
    try:
        while not target.hungup and not spy.hungup and not spy.taken_over:
            reason = spy.wait(dtmf=dtmf_enabled, any_signal=True)
            if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
                break
            if reason == WakeReason.DTMF:
                digits, spy.dtmf_buffer = spy.dtmf_buffer, ""
                for digit in digits:
                    if digit == "*":
                        starred = True
                        break
                    if digit in DIGIT_MODES:
                        session.set_mode(DIGIT_MODES[digit])
                if starred:
                    break
    finally:
        if not target.hungup:  # else the target's CS_HANGUP removes it (and fires MEDIA_BUG_STOP)
            bug.remove()
        if wake in target.on_hangup:
            target.on_hangup.remove(wake)
        switch.eavesdrops.pop(spy.uuid, None)
        spy.set_var("fs_cc_sim_eavesdrop_mode", None)
        spy.set_var("fs_cc_sim_eavesdrop_target", None)
    return starred


def app_eavesdrop(channel, arg):
    """eavesdrop <uuid>|all."""
    target = arg.strip()
    if not target:
        logger.error("%s: Usage: eavesdrop [all | <uuid>]", channel.uuid)
        return None
    if target.lower() != "all":
        eavesdrop_session(channel, target)
        return None
    # eavesdrop all: every other channel in turn, `*` moves on; idle waits 2 s between looks.
    while not channel.hungup and not channel.taken_over:
        others = [u for u in list(channel.switch.channels) if u != channel.uuid]
        for uuid in others:
            if channel.hungup or channel.taken_over:
                break
            eavesdrop_session(channel, uuid)
        if channel.wait(0.05 if others else 2.0) in (WakeReason.HANGUP, WakeReason.TAKEOVER):
            break
    return None
