"""Events: FreeSWITCH's header layout per event type and the `event plain` serialisation."""

import itertools
import time

from fs_cc.emulator.protocol import url_encode

# Where FreeSWITCH raises each event (Event-Calling-File/Function/Line-Number).
CALLING = {
    "CHANNEL_CREATE": ("switch_core_state_machine.c", "switch_core_session_run", 626),
    "CHANNEL_STATE": ("switch_channel.c", "switch_channel_perform_set_running_state", 2408),
    "CHANNEL_CALLSTATE": ("switch_channel.c", "switch_channel_perform_set_callstate", 321),
    "CHANNEL_ANSWER": ("switch_channel.c", "switch_channel_perform_mark_answered", 3936),
    "CHANNEL_PROGRESS": ("switch_channel.c", "switch_channel_perform_mark_ring_ready_value", 3592),
    "CHANNEL_PROGRESS_MEDIA": ("switch_channel.c", "switch_channel_perform_mark_pre_answered", 3703),
    "CHANNEL_EXECUTE": ("switch_core_session.c", "switch_core_session_exec", 2920),
    "CHANNEL_EXECUTE_COMPLETE": ("switch_core_session.c", "switch_core_session_exec", 2967),
    "CHANNEL_PARK": ("switch_ivr.c", "switch_ivr_park", 1002),
    "CHANNEL_UNPARK": ("switch_ivr.c", "switch_ivr_park", 1384),
    "CHANNEL_BRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689),
    "CHANNEL_UNBRIDGE": ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1862),
    "CHANNEL_HANGUP": ("switch_channel.c", "switch_channel_perform_hangup", 3463),
    "CHANNEL_HANGUP_COMPLETE": ("switch_core_state_machine.c", "switch_core_session_reporting_state", 947),
    "CHANNEL_DESTROY": ("switch_core_session.c", "switch_core_session_perform_destroy", 1672),
    "CHANNEL_UUID": ("switch_core_session.c", "switch_core_session_set_uuid", 2051),
    "CHANNEL_OUTGOING": ("switch_core_session.c", "switch_core_session_outgoing_channel", 768),
    "CHANNEL_ORIGINATE": ("switch_core_session.c", "switch_core_session_outgoing_channel", 785),
    "CHANNEL_DATA": ("mod_event_socket.c", "parse_command", 2021),
    "CODEC": ("switch_core_codec.c", "switch_core_session_set_read_codec", 279),
    "CALL_UPDATE": ("switch_channel.c", "switch_channel_flip_cid", 3277),
    "DTMF": ("switch_channel.c", "switch_channel_dequeue_dtmf", 677),
    "API": ("switch_loadable_module.c", "switch_api_execute", 2954),
    "BACKGROUND_JOB": ("mod_event_socket.c", "api_exec", 1572),
    "HEARTBEAT": ("switch_core.c", "send_heartbeat", 95),
    "RE_SCHEDULE": ("switch_scheduler.c", "switch_scheduler_execute", 73),
    "CUSTOM": ("mod_fs_cc_emulator.c", "fs_cc_flood", 1),
    "PLAYBACK_START": ("switch_ivr_play_say.c", "switch_ivr_play_file", 1646),
    "PLAYBACK_STOP": ("switch_ivr_play_say.c", "switch_ivr_play_file", 2020),
    "RECORD_START": ("switch_ivr_async.c", "record_callback", 1481),
    "RECORD_STOP": ("switch_ivr_async.c", "send_record_stop_event", 1240),
    "MEDIA_BUG_START": ("switch_core_media_bug.c", "switch_core_media_bug_add", 1014),
    "MEDIA_BUG_STOP": ("switch_core_media_bug.c", "switch_core_media_bug_destroy", 84),
}

# Channel events that carry the channel variables (switch_channel_event_set_extended_data).
WITH_VARIABLES = frozenset({
    "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_UUID", "CHANNEL_ANSWER", "CHANNEL_PROGRESS",
    "CHANNEL_PROGRESS_MEDIA", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_PARK",
    "CHANNEL_UNPARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP",
    "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_DATA", "CALL_UPDATE",
    "PLAYBACK_START", "PLAYBACK_STOP", "RECORD_START", "RECORD_STOP", "MEDIA_BUG_START",
    "MEDIA_BUG_STOP", "API",  # API: the channel data `expand uuid:<uuid>` adds to it
    "CHANNEL_HOLD", "CHANNEL_UNHOLD",
})

# Channel events without the caller profile block.
WITHOUT_PROFILE = frozenset({"CODEC"})

PROFILE_FIELDS = (
    ("Direction", "direction"), ("Logical-Direction", "logical_direction"),
    ("Dialplan", "dialplan"), ("Caller-ID-Name", "caller_id_name"),
    ("Caller-ID-Number", "caller_id_number"), ("Orig-Caller-ID-Name", "orig_caller_id_name"),
    ("Orig-Caller-ID-Number", "orig_caller_id_number"), ("Callee-ID-Name", "callee_id_name"),
    ("Callee-ID-Number", "callee_id_number"), ("ANI", "ani"), ("RDNIS", "rdnis"),
    ("Destination-Number", "destination_number"), ("Unique-ID", "uuid"), ("Source", "source"),
    ("Transfer-Source", "transfer_source"), ("Context", "context"),
    ("Channel-Name", "channel_name"),
)
PROFILE_TIMES = (
    ("Profile-Created-Time", "profile_created"), ("Channel-Created-Time", "created"),
    ("Channel-Answered-Time", "answered"), ("Channel-Progress-Time", "progress"),
    ("Channel-Progress-Media-Time", "progress_media"), ("Channel-Hangup-Time", "hangup"),
    ("Channel-Transfer-Time", "transfer"), ("Channel-Resurrect-Time", "resurrect"),
    ("Channel-Bridged-Time", "bridged"), ("Channel-Last-Hold", "last_hold"),
    ("Channel-Hold-Accum", "hold_accum"),
)


TICK_US = 20_000  # FreeSWITCH's event clock (runtime.timestamp) moves once a timer tick
_clock = {"tick": 0}


def now_us():
    """Wall clock in microseconds as FreeSWITCH stamps events: it moves in 20 ms steps.

    switch_micro_time_now() returns runtime.timestamp, which the core's timer thread advances
    once a tick, so two events of one tick (both legs' hangups, say) carry the same
    Event-Date-Timestamp; only Event-Sequence orders them.
    """
    now = int(time.time() * 1_000_000)
    tick = _clock["tick"]
    if now - tick >= TICK_US or now < tick:
        _clock["tick"] = tick = now - (now - tick) % TICK_US if 0 < tick < now else now
    return tick


class Event:
    """One event: ordered headers, optional body, and its serialised `plain` form, built once."""

    __slots__ = ("name", "headers", "body", "uuid", "_plain", "_framed")

    def __init__(self, name, headers, body=None, uuid=None):
        self.name = name
        self.headers = headers
        self.body = body
        self.uuid = uuid
        self._plain = None
        self._framed = None

    def framed(self, fmt):
        """The whole message in `plain`, `json` or `xml` format, built once per format."""
        if fmt == "plain":
            return self.plain()
        if self._framed is None:
            self._framed = {}
        if fmt not in self._framed:
            from fs_cc.emulator.formats import frame
            self._framed[fmt] = frame(self, fmt)
        return self._framed[fmt]

    def get(self, key, default=None):
        """Value of the first header called key."""
        for k, v in self.headers:
            if k == key:
                return v
        return default

    def plain(self):
        """The whole `text/event-plain` message as bytes."""
        if self._plain is None:
            parts = ["%s: %s\n" % (k, url_encode(str(v))) for k, v in self.headers]
            if self.body is not None:
                data = self.body.encode("utf-8")
                parts.append("Content-Length: %d\n\n" % len(data))
                inner = "".join(parts).encode("utf-8") + data
            else:
                parts.append("\n")
                inner = "".join(parts).encode("utf-8")
            self._plain = (b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(inner)) + inner
        return self._plain


class EventFactory:
    """Builds events with the core headers (Core-UUID, host, dates, sequence)."""

    def __init__(self, core_uuid, hostname, ipv4="127.0.0.1", ipv6="::1"):
        self.core_uuid = core_uuid
        self.hostname = hostname
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self._seq = itertools.count(1)

    def core(self, name, subclass=None, sequence=True):
        """The headers every event starts with (Event-Sequence is only given when it fires)."""
        stamp = now_us()
        ts = stamp / 1_000_000
        local = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
        gmt = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(ts))
        calling = CALLING.get(name, ("switch_event.c", "switch_event_fire_detailed", 1))
        headers = [("Event-Name", name)]
        if subclass:
            headers.append(("Event-Subclass", subclass))
        headers += [
            ("Core-UUID", self.core_uuid), ("FreeSWITCH-Hostname", self.hostname),
            ("FreeSWITCH-Switchname", self.hostname), ("FreeSWITCH-IPv4", self.ipv4),
            ("FreeSWITCH-IPv6", self.ipv6), ("Event-Date-Local", local),
            ("Event-Date-GMT", gmt), ("Event-Date-Timestamp", stamp),
            ("Event-Calling-File", calling[0]), ("Event-Calling-Function", calling[1]),
            ("Event-Calling-Line-Number", calling[2]),
        ]
        if sequence:
            headers.append(("Event-Sequence", next(self._seq)))
        return headers

    def simple(self, name, extra=(), body=None, subclass=None):
        """A non-channel event: core headers, then extra, then body."""
        return Event(name, self.core(name, subclass) + list(extra), body)

    def channel(self, name, channel, pre=(), post=(), body=None):
        """A channel event laid out as switch_channel_event_set_data does."""
        headers = self.core(name) + list(pre) + channel_data(channel, name)
        headers += list(post)
        return Event(name, headers, body, channel.uuid)


    def custom_channel(self, subclass, channel, post=()):
        """A CUSTOM event with a subclass carrying a channel's data (switch_channel_event_set_data)."""
        headers = self.core("CUSTOM", subclass) + channel_basic_headers(channel)
        headers += profile_headers(channel.profile, "Caller", channel.profile_index)
        headers += [("variable_" + k, v) for k, v in channel.variables.items()]
        headers += list(post)
        return Event("CUSTOM", headers, None, channel.uuid)


def channel_data(channel, name="CHANNEL_DATA"):
    """switch_channel_event_set_data: basic data, the caller profiles, the variables if name takes them."""
    headers = channel_basic_headers(channel)
    if name not in WITHOUT_PROFILE:
        headers += profile_headers(channel.profile, "Caller", channel.profile_index)
        if channel.other_profile is not None and channel.other_type:
            headers.append(("Other-Type", channel.other_type))
            headers += profile_headers(channel.other_profile, "Other-Leg", None)
    if name in WITH_VARIABLES:
        headers += [("variable_" + k, v) for k, v in channel.variables.items()]
    return headers


def channel_basic_headers(channel):
    """Channel-State ... codecs (switch_channel_event_set_basic_data)."""
    headers = [
        ("Channel-State", channel.state.name), ("Channel-Call-State", channel.call_state.name),
        ("Channel-State-Number", channel.state.value), ("Channel-Name", channel.name),
        ("Unique-ID", channel.uuid), ("Call-Direction", channel.direction),
        ("Presence-Call-Direction", channel.direction),
        ("Channel-HIT-Dialplan", "true" if channel.hit_dialplan else "false"),
    ]
    for label, name in (("Channel-Presence-ID", "presence_id"), ("Channel-Presence-Data", "presence_data")):
        value = channel.get_var(name)
        if value:
            headers.append((label, value))
    headers += [("Channel-Call-UUID", channel.call_uuid), ("Answer-State", channel.answer_state)]
    if channel.hangup_cause:
        headers.append(("Hangup-Cause", channel.hangup_cause))
    if channel.codecs:
        headers += [
            ("Channel-Read-Codec-Name", "L16"), ("Channel-Read-Codec-Rate", "8000"),
            ("Channel-Read-Codec-Bit-Rate", "128000"), ("Channel-Write-Codec-Name", "L16"),
            ("Channel-Write-Codec-Rate", "8000"), ("Channel-Write-Codec-Bit-Rate", "128000"),
        ]
    return headers


def profile_headers(profile, prefix, index):
    """The caller profile block (switch_caller_profile_event_set_data); empty fields are skipped."""
    headers = []
    for label, attr in PROFILE_FIELDS:
        if index is None and attr == "transfer_source":
            continue
        value = getattr(profile, attr)
        if value:
            headers.append(("%s-%s" % (prefix, label), value))
    if index is not None:
        headers.append(("%s-Profile-Index" % prefix, index))
    for label, attr in PROFILE_TIMES:
        headers.append(("%s-%s" % (prefix, label), getattr(profile, attr)))
    headers += [("%s-Screen-Bit" % prefix, "true"), ("%s-Privacy-Hide-Name" % prefix, "false"),
                ("%s-Privacy-Hide-Number" % prefix, "false")]
    return headers
