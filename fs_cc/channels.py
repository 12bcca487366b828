"""The engine's view of FreeSWITCH's live channels, kept from inbound events and ``show channels``.

Pure logic: no sockets, no greenlets. :meth:`ChannelTracker.handle` takes each channel event (it
runs on the hot path, so it routes and returns); :meth:`ChannelTracker.resync` rebuilds the view
from ``show channels as json`` after a reconnect and says which channels vanished meanwhile.
"""

import collections
import dataclasses
import datetime
import enum
import json
import logging
import typing

from fs_cc.errors import FsCcError

logger = logging.getLogger(__name__)

ENGINE_VARIABLES = "fs_cc_"  # prefix of the channel variables the engine sets, kept on each Channel
ENDED_MEMORY = 4096  # how many destroyed uuids we remember, so late events do not revive them


class Phase(enum.Enum):
    """Where a channel is in its life, as far as the call center cares."""

    RINGING = "ringing"
    ANSWERED = "answered"
    BRIDGED = "bridged"
    HUNGUP = "hungup"


# The one place that says which phase may follow which. Events can skip phases (a bridge before
# the answer event was seen) but nothing leaves HUNGUP.
TRANSITIONS = {
    Phase.RINGING: frozenset({Phase.ANSWERED, Phase.BRIDGED, Phase.HUNGUP}),
    Phase.ANSWERED: frozenset({Phase.BRIDGED, Phase.HUNGUP}),
    Phase.BRIDGED: frozenset({Phase.ANSWERED, Phase.HUNGUP}),
    Phase.HUNGUP: frozenset(),
}

# TRANSITIONS as Channel.move_to reads them: by the phase's _name_, as tuples, because an Enum
# member hashes in Python code (hash(self._name_)), on every event
_NEXT = {phase._name_: tuple(targets) for phase, targets in TRANSITIONS.items()}

# `show channels` callstate -> our phase
_CALLSTATE_PHASE = {"ACTIVE": Phase.ANSWERED, "HELD": Phase.ANSWERED, "HANGUP": Phase.HUNGUP}
_ENDED_STATES = frozenset({"CS_HANGUP", "CS_REPORTING", "CS_DESTROY"})
# what the tracker reads of every event about a channel, and of one that makes it
_STATE_HEADERS = ("Unique-ID", "Channel-State", "Channel-Call-State", "Answer-State")
_NEW_HEADERS = ("Channel-Name", "Call-Direction", "Channel-State", "Channel-Call-State", "Answer-State",
                "Caller-Caller-ID-Number", "Caller-Caller-ID-Name", "Caller-Destination-Number",
                "Channel-Call-UUID", "variable_other_loopback_leg_uuid", "Caller-Channel-Created-Time",
                "Caller-Channel-Answered-Time")
_BRIDGE_HEADERS = ("Bridge-A-Unique-ID", "Bridge-B-Unique-ID")
# what each route reads, asked at once: a lazy event finds several names in one pass over its
# text, where one look-up after another would search it again for each
_CREATE_HEADERS = ("Unique-ID",) + _NEW_HEADERS
_ANSWER_HEADERS = _STATE_HEADERS + ("Caller-Channel-Answered-Time",)
_HANGUP_HEADERS = _STATE_HEADERS + ("Hangup-Cause",)
_BRIDGING_HEADERS = _STATE_HEADERS + _BRIDGE_HEADERS


class ResyncError(FsCcError):
    """``show channels as json`` answered something that is not its JSON."""

    def __init__(self, detail, text):
        self.detail = detail
        self.text = text[:200]
        super().__init__(f"cannot resync channels: {detail} (got {self.text!r})")


def _seconds(microseconds):
    """FreeSWITCH's microsecond timestamp header -> epoch seconds, None for 0 or garbage."""
    try:
        value = int(microseconds)
    except (TypeError, ValueError):
        return None
    return value / 1_000_000 if value > 0 else None


def _iso(epoch):
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).isoformat()


@dataclasses.dataclass(slots=True, eq=False)
class Channel:
    """One live FreeSWITCH channel (a leg) as the engine knows it."""

    uuid: str
    name: typing.Optional[str] = None
    direction: typing.Optional[str] = None
    state: typing.Optional[str] = None  # Channel-State, e.g. CS_EXECUTE
    call_state: typing.Optional[str] = None  # Channel-Call-State, e.g. ACTIVE
    answer_state: typing.Optional[str] = None
    phase: Phase = Phase.RINGING
    caller_number: typing.Optional[str] = None
    caller_name: typing.Optional[str] = None
    destination_number: typing.Optional[str] = None
    call_uuid: typing.Optional[str] = None
    bridged_to: typing.Optional[str] = None
    partner: typing.Optional[str] = None  # the other half of a loopback pair
    created_at: typing.Optional[float] = None  # epoch seconds
    answered_at: typing.Optional[float] = None
    hangup_cause: typing.Optional[str] = None
    parked: bool = False
    variables: dict = dataclasses.field(default_factory=dict)  # fs_cc_* channel variables
    seq: int = 0  # the tracker's change counter when this channel last changed

    @property
    def agent(self):
        """The agent extension the ACD rang on this leg (variable fs_cc_agent), or None."""
        return self.variables.get("fs_cc_agent")

    def move_to(self, phase):
        """Change phase when TRANSITIONS allow it; True if it moved."""
        if phase is self.phase:
            return False
        if phase not in _NEXT[self.phase._name_]:
            return False
        self.phase = phase
        return True

    def to_dict(self):
        """JSON-ready view (times in ISO 8601, UTC)."""
        return {
            "uuid": self.uuid, "name": self.name, "direction": self.direction,
            "state": self.state, "call_state": self.call_state,
            "answer_state": self.answer_state, "phase": self.phase.value,
            "caller_number": self.caller_number, "caller_name": self.caller_name,
            "destination_number": self.destination_number, "call_uuid": self.call_uuid,
            "bridged_to": self.bridged_to, "created_at": _iso(self.created_at),
            "answered_at": _iso(self.answered_at), "hangup_cause": self.hangup_cause,
            "parked": self.parked, "variables": dict(self.variables),
        }

    def __repr__(self):
        return f"Channel({self.uuid!r}, {self.name!r}, {self.phase.value})"


class ChannelTracker:
    """Live channels by uuid, from CHANNEL_* events; resync from ``show channels as json``."""

    EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
              "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_PARK",
              "CHANNEL_UNPARK")

    def __init__(self):
        self._channels = {}
        self._ended = collections.OrderedDict()  # uuid -> seq when it ended
        self._seq = 0
        self.events_seen = 0
        self.unknown_events = 0  # events about channels we had to ignore
        self._routes = {
            "CHANNEL_CREATE": self._on_create, "CHANNEL_ANSWER": self._on_answer,
            "CHANNEL_BRIDGE": self._on_bridge, "CHANNEL_UNBRIDGE": self._on_unbridge,
            "CHANNEL_HANGUP": self._on_hangup, "CHANNEL_HANGUP_COMPLETE": self._on_hangup,
            "CHANNEL_DESTROY": self._on_destroy, "CHANNEL_PARK": self._on_park,
            "CHANNEL_UNPARK": self._on_unpark,
        }

    # -- reading ----------------------------------------------------------------------------

    @property
    def seq(self):
        """A counter that grows with every change; pass it to resync as `since`."""
        return self._seq

    def get(self, uuid):
        """The Channel with that uuid, or None."""
        return self._channels.get(uuid)

    def __len__(self):
        return len(self._channels)

    def __contains__(self, uuid):
        return uuid in self._channels

    def channels(self):
        """Every live channel, oldest first."""
        return sorted(self._channels.values(), key=lambda ch: (ch.created_at or 0, ch.uuid))

    def calls(self):
        """Live channels grouped into calls (legs linked by call uuid, bridge, loopback, fs_cc_call_uuid)."""
        parent = {uuid: uuid for uuid in self._channels}

        def root(uuid):
            while parent[uuid] != uuid:
                parent[uuid] = parent[parent[uuid]]
                uuid = parent[uuid]
            return uuid

        for channel in self._channels.values():
            for other in (channel.call_uuid, channel.bridged_to, channel.partner,
                          channel.variables.get("fs_cc_call_uuid")):
                if other and other in parent:
                    parent[root(other)] = root(channel.uuid)
        groups = {}
        for channel in self.channels():
            groups.setdefault(root(channel.uuid), []).append(channel)
        return [_primary_first(legs) for legs in groups.values()]

    # -- events (hot path) ------------------------------------------------------------------
    # Handlers read the headers they need (event.get, get_many): a parsed event decodes only those.

    def handle(self, event):
        """Apply one channel event; others are ignored."""
        self.events_seen += 1
        route = self._routes.get(event.get("Event-Name"))
        if route is not None:
            route(event)

    def _new(self, uuid, event, values=None):
        """A channel made from an event; values: its _NEW_HEADERS when read already."""
        self._seq += 1
        (name, direction, state, call_state, answer_state, caller_number, caller_name,
         destination_number, call_uuid, partner, created, answered) = values or event.get_many(_NEW_HEADERS)
        channel = Channel(
            uuid, name=name, direction=direction, state=state, call_state=call_state,
            answer_state=answer_state, caller_number=caller_number, caller_name=caller_name,
            destination_number=destination_number, call_uuid=call_uuid, partner=partner,
            created_at=_seconds(created), answered_at=_seconds(answered),
            variables=event.variables(ENGINE_VARIABLES), seq=self._seq)
        self._channels[uuid] = channel
        return channel

    def _known(self, event, values, adopt=True):
        """The channel an event is about; a channel first seen now is adopted from the event.

        values: the event's _STATE_HEADERS first (the route's own names may follow).
        """
        uuid, state, call_state, answer_state = values[:4]
        channel = self._channels.get(uuid)
        if channel is not None:
            self._seq += 1
            channel.seq = self._seq
            if state is not None:
                channel.state = state
            if call_state is not None:
                channel.call_state = call_state
            if answer_state is not None:
                channel.answer_state = answer_state
            return channel
        if (not adopt or not uuid or uuid in self._ended or answer_state == "hangup"
                or state in _ENDED_STATES):
            self.unknown_events += 1
            logger.debug("ignoring %s for unknown channel %s", event.get("Event-Name"), uuid)
            return None
        # Created while we were not listening (or its CREATE was lost): events carry it all.
        logger.info("channel %s first seen on %s", uuid, event.get("Event-Name"))
        return self._new(uuid, event)

    def _on_create(self, event):
        values = event.get_many(_CREATE_HEADERS)
        uuid = values[0]
        if not uuid:
            self.unknown_events += 1
            return
        self._ended.pop(uuid, None)
        channel = self._channels.get(uuid)
        if channel is None:
            self._new(uuid, event, values[1:])
        else:
            self._known(event, event.get_many(_STATE_HEADERS))

    def _on_answer(self, event):
        values = event.get_many(_ANSWER_HEADERS)
        channel = self._known(event, values)
        if channel is None:
            return
        channel.move_to(Phase.ANSWERED)
        channel.answered_at = _seconds(values[4]) or channel.answered_at
        channel.variables.update(event.variables(ENGINE_VARIABLES))

    def _on_bridge(self, event):
        values = event.get_many(_BRIDGING_HEADERS)
        channel = self._known(event, values)
        if channel is None:
            return
        a_uuid, b_uuid = values[4:]
        a_uuid = a_uuid or channel.uuid
        b_uuid = b_uuid or event.get("Other-Leg-Unique-ID")
        # FreeSWITCH sends CHANNEL_BRIDGE for the A leg only: link both sides here.
        a_leg, b_leg = self._channels.get(a_uuid), self._channels.get(b_uuid)
        if a_leg is not None:
            a_leg.bridged_to = b_uuid
            a_leg.move_to(Phase.BRIDGED)
        if b_leg is not None:
            b_leg.bridged_to = a_uuid
            b_leg.move_to(Phase.BRIDGED)
        channel.variables.update(event.variables(ENGINE_VARIABLES))

    def _on_unbridge(self, event):
        values = event.get_many(_BRIDGING_HEADERS)
        channel = self._known(event, values, adopt=False)
        if channel is None:
            return
        a_uuid, b_uuid = values[4:]
        a_uuid = a_uuid or channel.uuid
        b_uuid = b_uuid or event.get("Other-Leg-Unique-ID")
        for uuid, other in ((a_uuid, b_uuid), (b_uuid, a_uuid)):
            leg = self._channels.get(uuid)
            if leg is not None and leg.bridged_to == other:
                leg.bridged_to = None
                leg.move_to(Phase.ANSWERED)

    def _on_hangup(self, event):
        values = event.get_many(_HANGUP_HEADERS)
        channel = self._known(event, values, adopt=False)
        if channel is None:
            return
        channel.move_to(Phase.HUNGUP)
        channel.hangup_cause = values[4] or channel.hangup_cause

    def _on_destroy(self, event):
        uuid = event.get("Unique-ID")
        channel = self._channels.pop(uuid, None)
        if channel is None:
            self.unknown_events += 1
            return
        self._seq += 1
        self._remember_ended(uuid)

    def _on_park(self, event):
        channel = self._known(event, event.get_many(_STATE_HEADERS))
        if channel is not None:
            channel.parked = True

    def _on_unpark(self, event):
        channel = self._known(event, event.get_many(_STATE_HEADERS), adopt=False)
        if channel is not None:
            channel.parked = False

    def _remember_ended(self, uuid):
        ended = self._ended
        ended[uuid] = self._seq
        if len(ended) > ENDED_MEMORY:
            ended.popitem(last=False)

    # -- resync -----------------------------------------------------------------------------

    def resync(self, show_channels_json_text, since=None):
        """Rebuild the view from ``show channels as json``; return the tracked Channels that vanished.

        `since` is :attr:`seq` read before the command was sent: a channel an event touched after
        that is kept even when the snapshot lacks it (the snapshot may predate it).
        """
        rows = _parse_rows(show_channels_json_text)
        seen = set()
        added = 0
        for row in rows:
            uuid = row.get("uuid")
            if not uuid or uuid in self._ended:
                continue  # its DESTROY came while the command was on its way
            seen.add(uuid)
            channel = self._channels.get(uuid)
            if channel is None:
                self._channels[uuid] = self._from_row(uuid, row)
                added += 1
            else:
                self._update_from_row(channel, row)
        vanished = []
        for uuid, channel in list(self._channels.items()):
            if uuid in seen or (since is not None and channel.seq > since):
                continue
            del self._channels[uuid]
            self._seq += 1
            self._remember_ended(uuid)
            vanished.append(channel)
        for channel in vanished:
            if channel.bridged_to in self._channels:
                other = self._channels[channel.bridged_to]
                if other.bridged_to == channel.uuid:
                    other.bridged_to = None
                    other.move_to(Phase.ANSWERED)
        logger.info("resync: %d channels live, %d newly seen, %d vanished",
                    len(self._channels), added, len(vanished))
        return vanished

    def _from_row(self, uuid, row):
        self._seq += 1
        call_state = row.get("callstate") or None
        return Channel(
            uuid, name=row.get("name") or None, direction=row.get("direction") or None,
            state=row.get("state") or None, call_state=call_state,
            answer_state="answered" if call_state in ("ACTIVE", "HELD") else None,
            phase=_CALLSTATE_PHASE.get(call_state, Phase.RINGING),
            caller_number=row.get("cid_num") or None, caller_name=row.get("cid_name") or None,
            destination_number=row.get("dest") or None, call_uuid=row.get("call_uuid") or None,
            created_at=_epoch(row.get("created_epoch")), seq=self._seq)

    def _update_from_row(self, channel, row):
        channel.state = row.get("state") or channel.state
        call_state = row.get("callstate") or None
        if call_state:
            channel.call_state = call_state
            phase = _CALLSTATE_PHASE.get(call_state)
            if phase is not None and channel.phase is not Phase.BRIDGED:
                channel.move_to(phase)
        channel.name = channel.name or row.get("name") or None


def _primary_first(legs):
    """The call's own leg first: the one the ACD named in fs_cc_call_uuid, else the oldest."""
    named = {leg.variables.get("fs_cc_call_uuid") for leg in legs}
    for index, leg in enumerate(legs):
        if leg.uuid in named:
            return [leg] + legs[:index] + legs[index + 1:]
    return legs


def _epoch(value):
    try:
        return float(value) if value else None
    except (TypeError, ValueError):
        return None


def _parse_rows(text):
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ResyncError(f"not JSON ({exc})", str(text)) from None
    if not isinstance(data, dict):
        raise ResyncError("not a JSON object", str(text))
    rows = data.get("rows") or []
    if not isinstance(rows, list):
        raise ResyncError("rows is not a list", str(text))
    return [row for row in rows if isinstance(row, dict)]
