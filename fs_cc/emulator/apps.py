"""Dialplan applications (mod_dptools' and mod_event_socket's), registered in execution.APPS."""

from fs_cc.emulator.channel import ChannelState, WakeReason
from fs_cc.emulator.eavesdrop import app_eavesdrop
from fs_cc.emulator.events import now_us
# execute, park_loop and run_queued are the core's too, which imports them from here
from fs_cc.emulator.execution import APPS, RESPONSE_VAR, execute, park_loop, run_queued  # noqa: F401
from fs_cc.emulator.originate import OriginateError, dial
from fs_cc.emulator.outbound import run_socket_app
from fs_cc.emulator.playback import (DEFAULT_PROMPT_SECONDS, app_play_and_get_digits,
                                     app_playback, app_read)
from fs_cc.emulator.recording import start_recording
from fs_cc.emulator import record_app  # noqa: F401 (registers the record application)


def _set(channel, arg):
    key, _, value = arg.partition("=")
    channel.set_var(key.strip(), value)


def app_export(channel, arg):
    """export k=v: set here and list it in export_vars."""
    _set(channel, arg)
    key = arg.partition("=")[0].strip()
    names = [n for n in channel.get_var("export_vars", "").split(",") if n]
    if key not in names:
        names.append(key)
    channel.set_var("export_vars", ",".join(names))


def app_hangup(channel, arg):
    """hangup [cause]."""
    channel.hangup(arg.strip() or "NORMAL_CLEARING")


def app_sleep(channel, arg):
    """sleep <ms>."""
    channel.wait(int(arg or 0) / 1000.0)


def app_until_hangup(channel, _arg):
    """echo, conference, eavesdrop: media until hangup or another job."""
    channel.wait()


def app_transfer(channel, arg):
    """transfer <ext> [dialplan] [context]."""
    parts = arg.split()
    context = parts[2] if len(parts) > 2 else channel.profile.context
    channel.switch.transfer(channel, parts[0], context)


def app_respond(channel, arg):
    """respond <code>: 18x rings, 2xx answers, anything else hangs up."""
    code = arg.strip().split()[0] if arg.strip() else ""
    if code.startswith("18"):
        channel.pre_answer()
    elif code.startswith("2"):
        channel.answer()
    else:
        channel.hangup("CALL_REJECTED")


def app_record_session(channel, arg):
    """record_session <path>: RECORD_START now, RECORD_STOP at hangup (nothing is written)."""
    start_recording(channel, arg.strip().split()[0] if arg.strip() else "")


def app_media(channel, _arg):
    """say/speak: a two-second prompt."""
    reason = channel.wait(DEFAULT_PROMPT_SECONDS)
    return "PLAYBACK ERROR" if reason == WakeReason.HANGUP else None


def app_bridge(channel, arg):
    """bridge <dialstring>: dial, join, return when either side hangs up."""
    switch = channel.switch
    extra = {"origination_caller_id_number": channel.profile.caller_id_number}
    if channel.profile.caller_id_name:
        extra["origination_caller_id_name"] = channel.profile.caller_id_name
    timeout = channel.get_var("call_timeout") or 60
    try:
        other = dial(switch, arg, extra, default_timeout=float(timeout))
    except OriginateError as exc:
        for key in ("originate_disposition", "DIALSTATUS", "originate_failed_cause"):
            channel.set_var(key, exc.cause)
        continue_on_fail = channel.get_var("continue_on_fail", "false")
        if continue_on_fail.lower() not in ("true", "yes", "1") and exc.cause not in continue_on_fail.split(","):
            channel.hangup(exc.cause)
        return None
    channel.set_var("originate_disposition", "SUCCESS")
    channel.set_var("DIALSTATUS", "SUCCESS")
    if channel.answer_state != "answered":
        channel.answer()
    bridge_a_side(channel, other, start_b=True)
    after_bridge(channel, other)  # else the dialplan (or the socket) goes on
    return None


def _true(value):
    """switch_true."""
    return (value or "").strip().lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


def after_bridge(channel, peer):
    """The originator's fate once a bridge ends; True when it is decided (the tail of
    switch_ivr_multi_threaded_bridge, for the bridge application and uuid_bridge alike).

    In this order: park_after_bridge parks it; transfer_after_bridge (``ext[:dialplan[:context]]``)
    transfers it; hangup_after_bridge hangs it up with the peer's cause, only if the peer had
    answered. With none of them the caller goes on with its dialplan (False).
    """
    if channel.hungup or channel.taken_over:
        return True
    if _true(channel.get_var("park_after_bridge")):
        def park():  # switch_ivr_park_session: CS_PARK, then the park (28_release_caller_to_park)
            channel.set_state(ChannelState.CS_PARK)
            park_loop(channel)
        channel.take_over(park)
        return True
    where = channel.get_var("transfer_after_bridge")
    if where:
        channel.set_var("transfer_after_bridge", None)
        parts = (where.split(":") + ["", ""])[:3]
        channel.switch.transfer(channel, parts[0], parts[2] or channel.profile.context,
                                parts[1] or "XML")
        return True
    if peer.profile.answered and _true(channel.get_var("hangup_after_bridge")):
        channel.hangup(peer.hangup_cause or "NORMAL_CLEARING")
        return True
    return False


def bridge_a_side(a_leg, b_leg, start_b=False):
    """Join two legs; a_leg fires BRIDGE/UNBRIDGE and waits for either side to end."""
    a_leg.bridged_to, b_leg.bridged_to = b_leg.uuid, a_leg.uuid
    a_leg.other_type, a_leg.other_profile = "originatee", b_leg.profile
    b_leg.other_type, b_leg.other_profile = "originator", a_leg.profile
    a_leg.set_var("bridge_channel", b_leg.name)
    a_leg.set_var("bridge_uuid", b_leg.uuid)
    a_leg.set_var("signal_bond", b_leg.uuid)
    b_leg.set_var("signal_bond", a_leg.uuid)
    a_leg.set_var("last_bridge_to", b_leg.uuid)
    b_leg.call_uuid = a_leg.call_uuid
    # check_bridge_export (switch_ivr_bridge.c): the originator takes the originatee's callee id
    a_leg.profile.callee_id_name = b_leg.profile.callee_id_name
    a_leg.profile.callee_id_number = b_leg.profile.callee_id_number
    wake = lambda _ch: a_leg.wake()
    b_leg.on_hangup.append(wake)
    if start_b:
        b_leg.take_over(lambda: bridge_b_side(b_leg, a_leg))
    a_leg.profile.bridged = b_leg.profile.bridged = now_us()
    a_leg.fire("CHANNEL_BRIDGE", pre=[("Bridge-A-Unique-ID", a_leg.uuid), ("Bridge-B-Unique-ID", b_leg.uuid)])
    a_leg.state_changed.set()
    b_leg.state_changed.set()
    b_leg.wake()
    while (not a_leg.hungup and not b_leg.hungup and not a_leg.taken_over
           and b_leg.bridged_to == a_leg.uuid):
        a_leg.wait(any_signal=True)
        run_queued(a_leg)  # the bridge loop parses the session's events: broadcasts play in it
    b_left = b_leg.bridged_to != a_leg.uuid  # taken away itself (uuid_transfer -bleg, uuid_bridge)
    if b_leg.hangup_cause:  # SWITCH_BRIDGE_HANGUP_CAUSE_VARIABLE, set before the UNBRIDGE
        a_leg.set_var("bridge_hangup_cause", b_leg.hangup_cause)
    if a_leg.hangup_cause:
        b_leg.set_var("bridge_hangup_cause", a_leg.hangup_cause)
    a_leg.fire("CHANNEL_UNBRIDGE", pre=[("Bridge-A-Unique-ID", a_leg.uuid), ("Bridge-B-Unique-ID", b_leg.uuid)])
    if b_leg.on_hangup and wake in b_leg.on_hangup:
        b_leg.on_hangup.remove(wake)
    a_leg.bridged_to = None
    if not b_left:
        b_leg.bridged_to = None
        b_leg.stop_broadcast()
        b_leg.wake()
    # audio_bridge_on_exchange_media: a b-leg left in the bridge hangs up, unless it parks or
    # transfers after the bridge (bridge_b_side does that on its own session)
    if not b_leg.hungup and not b_left and not _b_after_bridge(b_leg):
        b_leg.hangup("NORMAL_CLEARING")


def _b_after_bridge(b_leg):
    """Whether the b-leg has park_after_bridge or transfer_after_bridge."""
    return _true(b_leg.get_var("park_after_bridge")) or bool(b_leg.get_var("transfer_after_bridge"))


def bridge_b_side(b_leg, a_leg, from_park=False):
    """The B side of a bridge: exchange media until unbridged or hung up."""
    if from_park:
        joined = b_leg.profile.bridged
        for state in (ChannelState.CS_HIBERNATE, ChannelState.CS_RESET, ChannelState.CS_SOFT_EXECUTE):
            b_leg.set_state(state)
        # asleep in CS_SOFT_EXECUTE until the originator's bridge stands (its CHANNEL_BRIDGE)
        while (b_leg.profile.bridged == joined and not b_leg.hungup and not b_leg.taken_over
               and not a_leg.hungup):
            b_leg.wait(any_signal=True)
        if b_leg.hungup or b_leg.taken_over:
            return
        b_leg.set_state(ChannelState.CS_CONSUME_MEDIA)
    b_leg.set_state(ChannelState.CS_EXCHANGE_MEDIA)
    while not b_leg.hungup and b_leg.bridged_to == a_leg.uuid and not b_leg.taken_over:
        b_leg.wait(any_signal=True)
        run_queued(b_leg)
    if b_leg.bridged_to == a_leg.uuid:  # it leaves the bridge (hangup, transfer): tell the a-side
        b_leg.bridged_to = None
        a_leg.wake()
        return
    if b_leg.hungup or b_leg.taken_over:
        return
    # audio_bridge_on_exchange_media after the a-side ended the bridge
    if _true(b_leg.get_var("park_after_bridge")):
        b_leg.set_state(ChannelState.CS_PARK)  # switch_ivr_park_session
        park_loop(b_leg)
    elif b_leg.get_var("transfer_after_bridge"):
        where = b_leg.get_var("transfer_after_bridge")
        parts = (where.split(":") + ["", ""])[:3]
        b_leg.switch.transfer(b_leg, parts[0], parts[2] or b_leg.profile.context, parts[1] or "XML")


def app_socket(channel, arg):
    """socket host:port [async] [full]: hand the call to an outbound ESL server."""
    return run_socket_app(channel, arg)


def app_park(channel, _arg):
    """park."""
    park_loop(channel)


APPS.update({
    "answer": lambda ch, arg: ch.answer(),
    "pre_answer": lambda ch, arg: ch.pre_answer(),
    "ring_ready": lambda ch, arg: ch.ring_ready(),
    "park": app_park,
    "playback": app_playback,
    "play_and_get_digits": app_play_and_get_digits,
    "read": app_read,
    "bridge": app_bridge,
    "hangup": app_hangup,
    "set": lambda ch, arg: _set(ch, arg),
    "export": app_export,
    "unset": lambda ch, arg: ch.set_var(arg.strip(), None),
    "record_session": app_record_session,
    "sleep": app_sleep,
    "say": app_media,
    "speak": app_media,
    "transfer": app_transfer,
    "respond": app_respond,
    "echo": app_until_hangup,
    "conference": lambda ch, arg: ch.switch.conferences.run(ch, arg),
    "eavesdrop": app_eavesdrop,
    "socket": app_socket,
    "log": lambda ch, arg: None,
    "info": lambda ch, arg: None,
})
