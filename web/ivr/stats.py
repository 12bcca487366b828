"""Per-node statistics of an IVR flow, folded from the call events the worker stored.

SQL picks the calls (those that entered a node of the flow in the period: one indexed pass over
the IVR node events); Python folds each call's events in (ts, engine, seq) order, the order the
journal folds a call record in (fs_cc.journal.event_order), ``CALLS_PER_BATCH`` calls at a time,
so a long period holds one batch's events in memory, not all of them. The definitions, per node:

- ``visits``: times a call entered the node;
- ``choices``: menu keys that led somewhere, per key; ``timeouts``/``invalid``: attempts with no
  key, or a key (or digits) that the node refused;
- ``hangups``: calls whose last IVR node was this one and that the caller ended before an agent
  answered (a caller giving up in a queue node counts at that node): the drop-off;
- ``self_service``: calls that ended at this node without reaching a queue, an agent or a
  transfer, and not by the caller hanging up (that is a drop-off, above);
- ``queued``: calls handed to a queue (``call.queued``, or a transfer to a queue or an agent)
  while in this node;
- ``avg_seconds``: mean time from entering the node to leaving it; a node left without its own
  ``ivr_node_left`` (the flow ended there, the caller hung up) ends at the call's next IVR node,
  an agent's answer or the call's end.

A call's flow version comes from its ``call.flow_started`` event for this flow; calls without
one (or whose flow was not numbered yet) have no known version (None) and are counted only when
no version is asked.
"""

import dataclasses
import datetime
import typing

import sqlalchemy as sa

from fs_cc import codec, events
from fs_cc.journal import by_call, event_order
from web.facts.models import CallEventFact
from web.facts.services import FactService

_NODE_TYPES = (events.IvrNodeEntered.TYPE, events.IvrNodeLeft.TYPE, events.IvrInput.TYPE)
_TO_QUEUE = (events.TransferKind.QUEUE, events.TransferKind.AGENT)
_LIKE_ESCAPE = "!"
CALLS_PER_BATCH = 500


@dataclasses.dataclass
class NodeStats:
    """What callers did at one node of the flow over the period."""

    node: str
    visits: int = 0
    choices: typing.Dict[str, int] = dataclasses.field(default_factory=dict)
    timeouts: int = 0
    invalid: int = 0
    hangups: int = 0
    self_service: int = 0
    queued: int = 0
    seconds_total: float = 0.0
    timed_visits: int = 0

    @property
    def avg_seconds(self):
        """Mean seconds in the node over the visits with a known end (None: none)."""
        if not self.timed_visits:
            return None
        return round(self.seconds_total / self.timed_visits, 3)

    def to_dict(self):
        """The JSON shape of the stats API."""
        return {"node": self.node, "visits": self.visits, "choices": dict(sorted(
            self.choices.items())), "timeouts": self.timeouts, "invalid": self.invalid,
            "hangups": self.hangups, "self_service": self.self_service,
            "queued": self.queued, "avg_seconds": self.avg_seconds}


@dataclasses.dataclass
class FlowStats:
    """The statistics of one flow (one version, or all) over ``[start, end)``."""

    flow: str
    version: typing.Optional[str]
    start: datetime.datetime
    end: datetime.datetime
    calls: int = 0
    self_service: int = 0
    queued: int = 0
    answered: int = 0
    hung_up: int = 0
    versions: typing.Set[str] = dataclasses.field(default_factory=set)
    nodes: typing.Dict[str, NodeStats] = dataclasses.field(default_factory=dict)

    def node(self, node_id):
        """The NodeStats of ``node_id``, made on first use (so nodes keep the order met)."""
        if node_id not in self.nodes:
            self.nodes[node_id] = NodeStats(node_id)
        return self.nodes[node_id]

    def version_list(self):
        """The versions the period's calls ran, in number order."""
        return sorted(self.versions, key=_version_key)

    def to_dict(self):
        """The JSON shape of the stats API."""
        return {"flow": self.flow, "version": self.version, "from": self.start.isoformat(),
                "to": self.end.isoformat(), "calls": self.calls,
                "self_service": self.self_service, "queued": self.queued,
                "answered": self.answered, "hung_up": self.hung_up,
                "versions": self.version_list(),
                "nodes": [stats.to_dict() for stats in self.nodes.values()]}


def _version_key(version):
    return (0, int(version), "") if version.isdigit() else (1, 0, version)


class _CallWalk:
    """One call's events folded into the flow's statistics."""

    def __init__(self, flow, stats):
        self.flow = flow
        self.stats = stats
        self.open_node = None  # (node id, entered at) of this flow's node the call is in
        self.last_node = None  # (flow, node) of the call's last IVR node, in any flow
        self.reached_queue = False
        self.answered = False
        self.transferred = False

    def close(self, at):
        """The open node ends at ``at``: its time counts."""
        if self.open_node is not None:
            node, entered = self.open_node
            stats = self.stats.node(node)
            stats.seconds_total += max(0.0, (at - entered).total_seconds())
            stats.timed_visits += 1
            self.open_node = None

    def see(self, event):
        """Fold one event of the call."""
        if isinstance(event, events.IvrNodeEntered):
            self.close(event.ts)
            self.last_node = (event.flow, event.node)
            if event.flow == self.flow:
                self.stats.node(event.node).visits += 1
                self.open_node = (event.node, event.ts)
        elif isinstance(event, events.IvrNodeLeft):
            if self.open_node is not None and event.flow == self.flow \
                    and self.open_node[0] == event.node:
                self.close(event.ts)
        elif isinstance(event, events.IvrInput):
            if event.flow == self.flow:
                self._input(self.stats.node(event.node), event)
        elif isinstance(event, events.CallQueued):
            self._handed_to_queue()
        elif isinstance(event, events.CallTransferred):
            if event.target_kind in _TO_QUEUE:
                self._handed_to_queue()
            else:
                self.transferred = True
        elif isinstance(event, events.AnsweredByAgent):
            self.answered = True
            self.close(event.ts)
        elif isinstance(event, events.CallEnded):
            self.close(event.ts)
            self._ended(event)

    @staticmethod
    def _input(stats, event):
        if event.result == "option":
            stats.choices[event.input] = stats.choices.get(event.input, 0) + 1
        elif event.result == "timeout":
            stats.timeouts += 1
        elif event.result == "invalid":
            stats.invalid += 1

    def _handed_to_queue(self):
        if not self.reached_queue and self.open_node is not None:
            self.stats.node(self.open_node[0]).queued += 1
        self.reached_queue = True

    def _ended(self, event):
        if self.answered:
            self.stats.answered += 1
        if self.reached_queue:
            self.stats.queued += 1
        if self.last_node is None or self.last_node[0] != self.flow:
            return  # it left this flow for another one: the end is not this flow's
        node = self.stats.node(self.last_node[1])
        if event.side is events.HangupSide.CALLER and not self.answered:
            node.hangups += 1
            if not self.reached_queue:
                self.stats.hung_up += 1
        elif not (self.reached_queue or self.answered or self.transferred):
            node.self_service += 1
            self.stats.self_service += 1


def _flow_marker(flow):
    """A LIKE pattern finding ``"flow":"<flow>"`` in an encoded event (fs_cc.events.encode)."""
    text = '"flow":' + codec.dumps({"f": flow})[5:-1]
    for special in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, _LIKE_ESCAPE + special)
    return f"%{text}%"


def version_of(call_events, flow):
    """The version of ``flow`` the call ran (its first ``call.flow_started``), as text; or None."""
    for event in call_events:
        if isinstance(event, events.FlowStarted) and event.flow == flow:
            return None if event.version is None else str(event.version)
    return None


def flow_stats(session, flow, start, end, version=None):
    """The :class:`FlowStats` of ``flow`` for the calls that entered it in ``[start, end)``.

    ``version`` (text) keeps the calls that ran that version of the flow.
    """
    uuids = sorted(set(session.execute(
        sa.select(CallEventFact.call_uuid).distinct()
        .where(CallEventFact.type == events.IvrNodeEntered.TYPE,
               CallEventFact.ts >= start, CallEventFact.ts < end,
               CallEventFact.payload.like(_flow_marker(flow), escape=_LIKE_ESCAPE))).scalars()))
    stats = FlowStats(flow, version, start, end)
    facts = FactService(session)
    for offset in range(0, len(uuids), CALLS_PER_BATCH):  # in uuid order, batch after batch
        calls = by_call(facts.events_of(uuids[offset:offset + CALLS_PER_BATCH]))
        for _, call_events in sorted(calls.items()):
            _fold_call(stats, flow, version, start, end, call_events)
    return stats


def _fold_call(stats, flow, version, start, end, call_events):
    """Count one call's events in ``stats`` when it entered ``flow`` (of ``version``) in the
    period."""
    call_events.sort(key=event_order)
    first = next((event for event in call_events if event.TYPE in _NODE_TYPES
                  and event.flow == flow), None)
    if first is None or not start <= first.ts < end:
        return  # the pattern matched a caller's text, or its first visit is outside
    ran = version_of(call_events, flow)
    if ran is not None:
        stats.versions.add(ran)
    if version is not None and ran != version:
        return
    stats.calls += 1
    walk = _CallWalk(flow, stats)
    for event in call_events:
        walk.see(event)
