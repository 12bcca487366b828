"""Dialplan applications (mod_dptools' and mod_event_socket's), registered in execution.APPS."""

import logging
import os
import re

from fs_cc.emulator.channel import ChannelState, WakeReason
from fs_cc.emulator.eavesdrop import app_eavesdrop
from fs_cc.emulator.events import now_us
# execute, park_loop and run_queued are the core's too, which imports them from here
from fs_cc.emulator.execution import APPS, RESPONSE_VAR, execute, park_loop, run_queued  # noqa: F401
from fs_cc.emulator.originate import OriginateError, dial
from fs_cc.emulator.outbound import run_socket_app
from fs_cc.emulator.recording import start_recording
from fs_cc.sounds import candidates, is_file, pieces

logger = logging.getLogger(__name__)

DEFAULT_PROMPT_SECONDS = 2.0
FOREVER = None
NOT_FOUND = "not found"  # what _play returns for a sound the switch cannot open


def media_seconds(path, default=DEFAULT_PROMPT_SECONDS):
    """Simulated length of a media path; None means it plays until interrupted."""
    if path.startswith("local_stream://"):
        return FOREVER
    if path.startswith("silence_stream://"):
        ms = int(re.split(r"[,;]", path[len("silence_stream://"):])[0] or 0)
        return FOREVER if ms < 0 else ms / 1000.0
    if path.startswith("tone_stream://"):
        spec = path[len("tone_stream://"):]
        loops = 1
        match = re.search(r"loops=(-?\d+)", spec)
        if match:
            loops = int(match.group(1))
        if loops < 0:
            return FOREVER
        total = 0
        for group in re.findall(r"%\(([^)]*)\)", spec):
            numbers = group.split(",")
            total += int(numbers[0] or 0) + (int(numbers[1] or 0) if len(numbers) > 1 else 0)
        return total * loops / 1000.0
    return default


def _found(channel, sound):
    """Whether the switch can open ``sound``: a tone or stream, or a file under sound_prefix."""
    if not is_file(sound):
        return True
    prefix = channel.get_var("sound_prefix", "")
    return any(os.path.exists(path) for path in candidates(sound, prefix))


def _play(channel, path, stop_on_dtmf=False):
    """Play one file (or a file_string:// list); returns the WakeReason that ended it.

    NOT_FOUND when the file cannot be opened, at once (switch_ivr_play_file's
    SWITCH_STATUS_NOTFOUND), without PLAYBACK_START / PLAYBACK_STOP; a file_string:// list
    skips its missing files (next_file in mod_dptools.c) and is NOT_FOUND only when none can be
    opened. Whatever plays is framed by one PLAYBACK_START and one PLAYBACK_STOP.
    """
    started = None
    reason = WakeReason.TIMEOUT
    for piece in pieces(path):
        if not _found(channel, piece):
            logger.warning("%s: cannot open sound %s", channel.uuid, piece)
            continue
        if started is None:
            started = channel.switch.clock.monotonic()
            _playback_event(channel, "PLAYBACK_START", path)
        reason = _play_one(channel, _limited(channel, media_seconds(piece), started),
                           stop_on_dtmf)
        if reason != WakeReason.TIMEOUT:
            break
    if started is None:
        return NOT_FOUND
    ms = int((channel.switch.clock.monotonic() - started) * channel.switch.clock.speed * 1000)
    samples = ms * 8  # L16 at 8 kHz
    for key, value in (("playback_last_offset_pos", samples), ("playback_seconds", ms // 1000),
                       ("playback_ms", ms), ("playback_samples", samples)):
        channel.set_var(key, value)
    broken = reason in (WakeReason.BREAK, WakeReason.DTMF)
    _playback_event(channel, "PLAYBACK_STOP", path, status="break" if broken else "done")
    return reason


def playback_file_path(channel, path):
    """The path switch_ivr_play_file opens: a relative file gets the channel's sound_prefix."""
    if not is_file(path) or "://" in path or os.path.isabs(path) or path.startswith("{"):
        return path
    prefix = channel.get_var("sound_prefix")
    return "%s%s%s" % (prefix, os.sep, path) if prefix else path


def _limited(channel, seconds, started):
    """The playback_timeout_sec channel variable caps a playback (switch_ivr_play_file)."""
    limit = channel.get_var("playback_timeout_sec")
    try:
        limit = float(limit) if limit else None
    except ValueError:
        limit = None
    if limit is None or limit <= 0:
        return seconds
    elapsed = (channel.switch.clock.monotonic() - started) * channel.switch.clock.speed
    left = max(0.0, limit - elapsed)
    return left if seconds is None or seconds == FOREVER or seconds > left else seconds


def _playback_event(channel, name, path, status=None):
    """PLAYBACK_START / PLAYBACK_STOP as switch_ivr_play_file fires them."""
    post = []
    if path.startswith("local_stream:"):
        post.append(("Playback-File-Type", "local_stream"))
    if path.startswith("tone_stream:"):
        post.append(("Playback-File-Type", "tone_stream"))
    post.append(("Playback-File-Path", playback_file_path(channel, path)))
    if status:
        post.append(("Playback-Status", status))
    channel.fire(name, post=post)


def _play_one(channel, seconds, stop_on_dtmf):
    """switch_ivr_play_file's loop: it parses the session's queued messages between frames.

    So an application sent with sendmsg while a file plays runs at once, nested inside the
    playback, which then goes on (unless the playing application holds an event lock).
    """
    clock = channel.switch.clock
    deadline = None if seconds is None else clock.monotonic() + clock.real(seconds)
    while True:
        remaining = None if deadline is None else max(0.0, deadline - clock.monotonic())
        reason = channel.wait(remaining, dtmf=stop_on_dtmf, queue=not channel.event_lock,
                              simulated=False)
        if reason != WakeReason.QUEUE:
            return reason
        run_queued(channel)


def app_playback(channel, arg):
    """playback <file>: FILE PLAYED, FILE NOT FOUND, or PLAYBACK ERROR when the caller hangs up
    or is taken away (uuid_bridge, transfer: as recorded, 14_attended_transfer)."""
    reason = _play(channel, arg)
    if reason == NOT_FOUND:
        return "FILE NOT FOUND"
    if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
        return "PLAYBACK ERROR"
    return "FILE PLAYED"


def _collect(channel, min_digits, max_digits, timeout_ms, terminators, digit_timeout_ms, prompt):
    """Play prompt (interrupted by DTMF) and collect digits. Returns (digits, terminator)."""
    channel.prompts_started += 1
    channel.state_changed.set()
    reason = _play(channel, prompt, stop_on_dtmf=True) if prompt else WakeReason.TIMEOUT
    if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
        return None, ""
    if reason == NOT_FOUND:
        # switch_ivr_read gives up before collecting when its prompt cannot be played: the
        # attempt fails at once and the keys the caller presses are never read
        return "", ""
    digits = ""
    wait_ms = timeout_ms
    while len(digits) < max_digits:
        if not channel.dtmf_buffer:
            reason = channel.wait(wait_ms / 1000.0, dtmf=True)
            if reason != WakeReason.DTMF:
                if reason in (WakeReason.HANGUP, WakeReason.TAKEOVER):
                    return None, ""
                break
        digit, channel.dtmf_buffer = channel.dtmf_buffer[0], channel.dtmf_buffer[1:]
        if digit in terminators:
            return digits, digit
        digits += digit
        wait_ms = digit_timeout_ms
    return digits, ""


def app_play_and_get_digits(channel, arg):
    """play_and_get_digits min max tries timeout terminators file invalid var regexp digit_timeout.

    As switch_play_and_get_digits (1.10): after a failed last try the variable keeps what
    switch_ivr_read left (too few keys stay in it); a regexp miss is in ``<var>_invalid``.
    """
    parts = arg.split()
    min_d, max_d, tries, timeout = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3])
    terminators = parts[4] if len(parts) > 4 else "#"
    prompt = parts[5] if len(parts) > 5 else ""
    invalid = parts[6] if len(parts) > 6 else ""
    var = parts[7] if len(parts) > 7 else "pagd_input"
    regexp = parts[8] if len(parts) > 8 else ".*"
    digit_timeout = int(parts[9]) if len(parts) > 9 else timeout
    channel.dtmf_buffer = ""
    channel.set_var(var + "_invalid", None)
    for _ in range(max(1, tries)):
        channel.set_var(var, None)  # switch_ivr_read clears it before each try
        digits, _term = _collect(channel, min_d, max_d, timeout,
                                 "" if terminators == "none" else terminators, digit_timeout, prompt)
        if digits is None:
            return "_none_"
        if digits:
            # switch_ivr_read leaves whatever was keyed in the variable, too few keys as well
            channel.set_var(var, digits)
        if len(digits) >= min_d and re.fullmatch(regexp, digits):
            channel.set_var("read_result", "success")
            return "_none_"
        if digits and len(digits) >= min_d:
            # switch_play_and_get_digits: a regexp miss clears the variable, keeps <var>_invalid
            channel.set_var("read_result", "success")
            channel.set_var(var, None)
            channel.set_var(var + "_invalid", digits)
        else:
            channel.set_var("read_result", "failure")
        if invalid and _play(channel, invalid) == WakeReason.HANGUP:
            return "_none_"
    return "_none_"


def app_read(channel, arg):
    """read min max file var timeout terminators."""
    parts = arg.split()
    min_d, max_d = int(parts[0]), int(parts[1])
    prompt = parts[2] if len(parts) > 2 else ""
    var = parts[3] if len(parts) > 3 else "read_input"
    timeout = int(parts[4]) if len(parts) > 4 else 5000
    terminators = parts[5] if len(parts) > 5 else "#"
    channel.dtmf_buffer = ""
    digits, _term = _collect(channel, min_d, max_d, timeout, terminators, timeout, prompt)
    if digits is None:
        return "_none_"
    if len(digits) >= min_d:
        channel.set_var("read_result", "success")
        channel.set_var(var, digits)
    else:
        channel.set_var("read_result", "timeout")
    return "_none_"


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
        channel.take_over(lambda: park_loop(channel))  # switch_ivr_park_session
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
