"""A restarted engine takes back the calls FreeSWITCH kept while it was down.

While the engine is down, freeswitch_conf's dialplan keeps each caller whose socket went away
(or that found no engine) on hold music, with ``fs_cc_engine_lost=true``. After the restarted
engine's first ``show channels`` resync, for each call its spool still holds open:

- the channel is gone: the call ends (system, NORMAL_TEMPORARY_FAILURE) when the dead run was
  last seen alive, as before;
- it talks to an agent (its agent leg still up): the ACD follows the pair to its end, the agent
  stays on the call; a caller whose flow goes on after the agent (its queue node's ``outcomes:
  answered``, a survey: the earlier run set ``park_after_bridge`` on its channel) is parked when
  the agent hangs up and sent back to the socket, its flow going on at that node with the agent
  and queue in the channel variables ``answered_agent`` and ``answered_queue``. The queue node is
  left and that node entered as in a run that never stopped (``ivr_node_left``, then
  ``ivr_node_entered`` when the flow runs it), so the IVR statistics and the call's IVR path
  count the survey under the flow and version the call started on;
- otherwise it is sent back through the dialplan to the engine's socket (``uuid_transfer`` to
  ``fs_cc_adopt``): its flow goes on at the node it was in, and a queued caller gets its old
  place in line (its enqueue time), so waiting callers keep their order.

Callers the spool does not know (they called while no engine ran) go through the IVR as new
calls, in the order they arrived.
"""

import dataclasses
import datetime
import logging
import typing

import gevent

from fs_cc import events
from fs_cc.esl.errors import ESLError
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.ivr.nodes_queue import QueueNode
from fs_cc.ivr.nodes_survey import AGENT_VARIABLE, QUEUE_VARIABLE

logger = logging.getLogger(__name__)

ADOPT_EXTENSION = "fs_cc_adopt"  # freeswitch_conf/dialplan/public: back to the engine's socket
ADOPT_CONTEXT = "public"
ENGINE_LOST_CAUSE = "NORMAL_TEMPORARY_FAILURE"
LOST_VARIABLE = "fs_cc_engine_lost"
KEEP_VARIABLE = "park_after_bridge"  # the ACD's mark of a caller whose flow goes on (acd.enqueue)


@dataclasses.dataclass(frozen=True)
class Adoption:
    """What the spool says of a call the earlier run left: where to go on with it."""

    call_uuid: str
    previous_engine: str
    did: str
    started_at: datetime.datetime
    node: typing.Optional[str] = None
    queue: typing.Optional[str] = None
    queued_since: typing.Optional[float] = None  # epoch seconds it joined the line
    agent: typing.Optional[str] = None
    leg_uuid: typing.Optional[str] = None
    last_queue: typing.Optional[str] = None  # the queue it was in, left or not
    entered: bool = True  # False: ``node`` is where the flow goes on, not entered yet

    @classmethod
    def from_summary(cls, summary):
        """An Adoption from an Outbox.open_calls() summary."""
        started = events.decode(summary["started"])
        queued = summary.get("queued_at")
        in_queue = summary.get("queue") and not summary.get("left_queue")
        return cls(started.call_uuid, started.engine, started.did, started.ts,
                   node=summary.get("node"), queue=summary.get("queue") if in_queue else None,
                   queued_since=(datetime.datetime.fromisoformat(queued).timestamp()
                                 if queued and in_queue else None),
                   agent=summary.get("agent"), leg_uuid=summary.get("leg_uuid"),
                   last_queue=summary.get("queue"))

    def order(self):
        """Adopt the longest waiting first: by enqueue time, else by start."""
        return self.queued_since if self.queued_since is not None else self.started_at.timestamp()

    def resume(self):
        """The FlowRunner.run arguments that go on where the call was."""
        return {"resume_at": self.node, "queued_since": self.queued_since,
                "entered": self.entered}


class Adopter:
    """Runs the adoption once the engine sees FreeSWITCH's channels (the engine wires it)."""

    def __init__(self, engine):
        self.engine = engine
        self.pending = {}  # call uuid -> Adoption left by the earlier run, until handled
        self.adopted = []  # uuids sent back to the socket or followed, for health and tests
        self.ended = []  # uuids whose channel was gone

    def load(self, open_calls):
        """Take the spool's open calls (at start, before any new call can be spooled)."""
        for uuid, summary in open_calls.items():
            self.pending[uuid] = Adoption.from_summary(summary)

    def run(self):
        """Adopt or end every pending call, then send unknown waiting callers to the IVR."""
        engine = self.engine
        pending, self.pending = self.pending, {}
        for adoption in sorted(pending.values(), key=Adoption.order):
            try:
                self._one(adoption)
            except ESLError as exc:  # the link went again: the next resync tries again
                logger.warning("call %s: adoption failed (%s); tried again after the next "
                               "resync", adoption.call_uuid, exc)
                self.pending[adoption.call_uuid] = adoption
        self._strangers(set(pending))
        return engine

    def _one(self, adoption):
        uuid = adoption.call_uuid
        engine = self.engine
        if not engine.ctl.exists(uuid):
            self._end(adoption)
            return
        if adoption.agent and adoption.leg_uuid and engine.ctl.exists(adoption.leg_uuid):
            # read first: a link lost here retries the whole adoption after the next resync
            keep = engine.ctl.get_var(uuid, KEEP_VARIABLE) == "true"
            logger.info("call %s: adopted, still talking to agent %s", uuid, adoption.agent)
            engine.emitter.emit(events.CallAdopted, call_uuid=uuid,
                                previous_engine=adoption.previous_engine, queue=adoption.queue)
            ticket = engine.acd.adopt_connected(uuid, adoption.agent, adoption.leg_uuid,
                                                adoption.queue, keep=keep)
            job = gevent.spawn(self._until_end, adoption, ticket, keep)
            job.link_exception(lambda g: logger.error("adopted call %s: %r", uuid, g.exception))
            self.adopted.append(uuid)
            return
        logger.info("call %s: adopted, back to the engine's socket (queue %s, node %s)", uuid,
                    adoption.queue, adoption.node)
        engine.handler.adoptions[uuid] = adoption
        engine.ctl.transfer(uuid, ADOPT_EXTENSION, "XML", ADOPT_CONTEXT)
        self.adopted.append(uuid)

    def _end(self, adoption):
        engine = self.engine
        last = engine.outbox.last_alive()
        ended_at = (datetime.datetime.fromtimestamp(last, datetime.timezone.utc)
                    if last is not None else adoption.started_at)
        engine.emitter.put(events.CallEnded(
            engine=engine.id, seq=engine.emitter.sequencer.next_seq(),
            ts=max(ended_at, adoption.started_at), call_uuid=adoption.call_uuid,
            side=HangupSide.SYSTEM, cause=ENGINE_LOST_CAUSE))
        self.ended.append(adoption.call_uuid)
        logger.warning("recovered call %s: it ended while no engine ran", adoption.call_uuid)

    def _until_end(self, adoption, ticket, keep):
        uuid = adoption.call_uuid
        result = ticket.get()
        if keep and result.side is HangupSide.AGENT and result.outcome is QueueOutcome.ANSWERED:
            if self._flow_goes_on(adoption, result):
                return  # the flow's run ends the call
            self.engine.acd.kill(uuid, "NORMAL_CLEARING")  # parked, with nowhere to go
        elif result.outcome is not QueueOutcome.ANSWERED:
            self.engine.acd.kill(uuid, "NORMAL_CLEARING")
        self.engine.emitter.emit(events.CallEnded, call_uuid=uuid,
                                 side=result.side or HangupSide.SYSTEM,
                                 cause=result.cause or "NORMAL_CLEARING")

    def _after_agent(self, adoption):
        """(flow name, node) the flow goes on at once the agent of ``adoption`` hung up, or
        None."""
        runner = self.engine.flows.runner_for(adoption.did)
        node = runner.flow.nodes.get(adoption.node) if runner is not None else None
        target = node.on.get("answered") if isinstance(node, QueueNode) else None
        return None if target is None else (runner.flow.name, target)

    def _flow_goes_on(self, adoption, result):
        """Send a parked caller back to the socket, its flow at the node after the agent."""
        engine, uuid = self.engine, adoption.call_uuid
        after = self._after_agent(adoption)
        if after is None:
            logger.warning("call %s: parked after the agent, but node %s of its flow goes "
                           "nowhere after an answer; ending it", uuid, adoption.node)
            return False
        flow, target = after
        # the earlier run never left its queue node; the flow's run enters the next one
        engine.emitter.emit(events.IvrNodeLeft, call_uuid=uuid, flow=flow, node=adoption.node,
                            input=None, outcome=target)
        engine.handler.adoptions[uuid] = dataclasses.replace(
            adoption, node=target, queue=None, queued_since=None, agent=None, leg_uuid=None,
            entered=False)
        try:
            engine.ctl.set_var(uuid, AGENT_VARIABLE, result.agent or "")
            engine.ctl.set_var(uuid, QUEUE_VARIABLE, adoption.last_queue or "")
            engine.ctl.transfer(uuid, ADOPT_EXTENSION, "XML", ADOPT_CONTEXT)
        except ESLError as exc:
            engine.handler.adoptions.pop(uuid, None)
            logger.warning("call %s: not sent on to node %s (%s)", uuid, target, exc)
            return False
        logger.info("call %s: agent %s left; its flow goes on at node %s", uuid, result.agent,
                    target)
        return True

    def _strangers(self, known):
        """Callers on hold music that no engine knows (they came while none ran): to the IVR."""
        engine = self.engine
        waiting = []
        for channel in engine.channels.channels():
            if channel.uuid in known or channel.uuid in engine.live or channel.agent:
                continue
            if channel.direction != "inbound":
                continue
            try:
                lost = engine.ctl.get_var(channel.uuid, LOST_VARIABLE)
            except ESLError:
                continue  # gone meanwhile
            if lost == "true":
                waiting.append(channel)
        for channel in sorted(waiting, key=lambda c: c.created_at or 0):
            logger.info("call %s: came while no engine ran; into the IVR now", channel.uuid)
            try:
                engine.ctl.transfer(channel.uuid, ADOPT_EXTENSION, "XML", ADOPT_CONTEXT)
            except ESLError as exc:
                logger.info("call %s: not adopted (%s)", channel.uuid, exc)
                continue
            self.adopted.append(channel.uuid)
