"""The engine: builds and wires everything on the telephony side and owns its greenlets.

One inbound ESL connection to FreeSWITCH (events, api/bgapi), one outbound ESL server that the
dialplan's ``socket`` application connects to for each call, the IVR runner and ACD, the durable
outbox to the worker and the control interface for the web app.
"""

import datetime
import logging
import signal

import gevent
import gevent.event

from fs_cc.acd import build_acd
from fs_cc.callflow import CallHandler
from fs_cc.calls import CallRecord, HangupSide
from fs_cc.channels import ChannelTracker, ResyncError
from fs_cc.control import ControlServer
from fs_cc.esl.commands import uuid_kill
from fs_cc.esl.errors import ESLError
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.ivr import FlowRunner, load_flow
from fs_cc.ivr.sounds import check_sounds, missing_sounds
from fs_cc.sounds import sound_prefix
from fs_cc.outbox import CeleryPublisher, Outbox

logger = logging.getLogger(__name__)

# how often calls in progress are written to disk; a crash loses at most this much of their story
SNAPSHOT_SECONDS = 2.0
# what FreeSWITCH does to a caller whose engine socket died (freeswitch_conf's dialplan)
ENGINE_LOST_CAUSE = "NORMAL_TEMPORARY_FAILURE"

ENGINE_EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
                 "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_PARK",
                 "CHANNEL_UNPARK", "BACKGROUND_JOB", "DTMF", "HEARTBEAT")


def build_store(settings):
    """The live ACD state store: in-process for one engine, Redis for several."""
    from fs_cc.acd import store as store_module

    if settings.state_store == "redis":
        import redis

        if not settings.redis_url:
            from fs_cc.errors import ConfigError

            raise ConfigError("state_store 'redis' needs REDIS_URL")
        return store_module.RedisStore(redis.Redis.from_url(settings.redis_url))
    return store_module.MemoryStore()


class Engine:
    """Everything one engine process runs, built from settings (collaborators may be injected)."""

    def __init__(self, settings, *, publisher=None, store=None):
        self.settings = settings
        # load the flow first: a broken flow must stop the engine before it touches the switch
        self.flow = load_flow(settings.ivr_flow)
        check_sounds(self.flow, sound_prefix(settings.sounds_dir))
        esl = settings.esl
        self.esl = InboundClient(esl.host, esl.port, esl.password, events=ENGINE_EVENTS,
                                 backoff=(0.5, settings.esl_backoff_max),
                                 connect_timeout=settings.esl_connect_timeout)
        self.channels = ChannelTracker()
        for name in ChannelTracker.EVENTS:
            self.esl.on(name, self.channels.handle)
        self.esl.on_connect(self._on_esl_connect)
        self.resyncs = 0  # completed resyncs, for health and tests
        self.store = store if store is not None else build_store(settings)
        self.acd = build_acd(self.store, self.esl, {
            "queues": settings.queues, "agents": settings.agents,
            "ring_timeout": settings.ring_timeout})
        self.handler = CallHandler(FlowRunner(self.flow, self.acd))
        self._publisher = publisher or CeleryPublisher(settings.broker_url)
        self.outbox = Outbox(settings.outbox_path, self._publisher)
        self.outbound = OutboundServer(settings.outbound_host, settings.outbound_port,
                                       self._on_call)
        self.control = ControlServer(self, settings.control_host, settings.control_port)
        self.open_records = {}  # uuid -> CallRecord of this engine's calls in progress
        self._snapshots = None
        self.stopped = gevent.event.Event()

    def start(self):
        """Start serving calls; the ESL connection keeps retrying in the background."""
        recovered = self.outbox.recover(finish_abandoned)
        if recovered:
            logger.warning("recovered %s call record(s) left open by an engine that died: %s",
                           len(recovered), ", ".join(recovered))
        self.outbox.start()
        self._snapshots = gevent.spawn(self._snapshot_loop)
        self._snapshots.link_exception(lambda g: logger.error("call snapshots stopped: %r",
                                                              g.exception))
        self.outbound.start()
        self.control.start()
        self.esl.start()
        if self.settings.agents_auto_login:
            for agent in self.settings.agents:
                self.acd.login(agent["extension"])
        logger.info("engine ready: outbound socket %s:%s, FreeSWITCH %s:%s",
                    *self.outbound.address, self.settings.esl.host, self.settings.esl.port)

    def stop(self):
        """Stop taking calls, flush what can be flushed, close connections."""
        self.outbound.stop(timeout=2)
        if self._snapshots is not None:
            self._snapshots.kill()
        self.control.stop()
        self.esl.stop()
        self.outbox.stop()
        close = getattr(self._publisher, "close", None)
        if close is not None:
            close()
        self.stopped.set()

    def _on_call(self, session):
        logger.info("call %s from %s to %s", session.uuid, session.caller_number,
                    session.destination_number)
        try:
            record = self.handler.handle(session, started=self._call_started)
        finally:
            self.open_records.pop(session.uuid, None)
        self.outbox.put(record.uuid, record.to_dict())
        logger.info("call %s ended: queue=%s agent=%s cause=%s side=%s", record.uuid,
                    record.queue, record.agent, record.hangup_cause, record.hangup_side)

    def _call_started(self, record):
        self.open_records[record.uuid] = record
        self.outbox.keep_open({record.uuid: record.to_dict()})

    def _snapshot_loop(self):
        # no yield between reading open_records and writing them, so a call that ended is
        # never written back as open after its final record was put
        while True:
            self.outbox.keep_open({uuid: record.to_dict()
                                   for uuid, record in self.open_records.items()})
            gevent.sleep(SNAPSHOT_SECONDS)

    def _on_esl_connect(self, client):
        # runs in the ESL connect loop: the command waits, so it gets its own greenlet
        job = gevent.spawn(self.resync)
        job.link_exception(self._resync_died)
        gevent.spawn(self.check_switch_sounds).link_exception(
            lambda g: logger.error("sound check failed: %r", g.exception))

    def check_switch_sounds(self):
        """Log each sound of the flow the connected switch cannot open; returns them.

        The engine checked them in ``sounds_dir`` before it started; the switch may still lack
        one (another host, another sounds folder), and there a menu never reads its keys.
        """
        try:
            prefix = self.esl.api("global_getvar sound_prefix").strip()
            missing = missing_sounds(
                self.flow, prefix,
                exists=lambda path: self.esl.api(f"file_exists {path}").strip() == "true")
        except ESLError as exc:
            logger.warning("cannot check the flow's sounds on FreeSWITCH %s:%s: %s",
                           self.esl.host, self.esl.port, exc)
            return None
        for sound, node, line in missing:
            logger.error("%s:%s: node '%s' plays '%s', which FreeSWITCH %s:%s cannot open under "
                         "%s: its keys will not be read (install.sh copies fs_cc's sounds)",
                         self.flow.source, line, node, sound, self.esl.host, self.esl.port,
                         prefix)
        return missing

    @staticmethod
    def _resync_died(greenlet):
        logger.error("channel resync failed: %r", greenlet.exception)

    def resync(self):
        """Rebuild the live channel view with ``show channels``; return the channels that vanished."""
        since = self.channels.seq
        try:
            text = self.esl.api("show channels as json")
            vanished = self.channels.resync(text, since=since)
        except (ESLError, ResyncError) as exc:
            logger.warning("channel resync with FreeSWITCH %s:%s failed: %s", self.esl.host,
                           self.esl.port, exc)
            return None
        self.resyncs += 1
        agent_legs = [channel for channel in vanished if channel.agent]
        for channel in vanished:
            logger.info("channel %s (%s) ended while the ESL connection was down", channel.uuid,
                        channel.name)
        if agent_legs:
            self._agent_legs_vanished(agent_legs)
        self._end_orphan_agent_legs()
        return vanished

    def _end_orphan_agent_legs(self):
        # an agent leg whose caller ended while we could not hear the switch (the ACD's
        # uuid_kill failed then) would ring on, or hold the agent's phone, for ever
        for leg in self.channels.channels():
            call = leg.variables.get("fs_cc_call_uuid")
            if not leg.agent or not call or call in self.open_records:
                continue
            logger.warning("agent %s: leg %s outlived call %s; hanging it up", leg.agent,
                           leg.uuid, call)
            try:
                self.esl.api(uuid_kill(leg.uuid, "NORMAL_CLEARING"))
            except ESLError as exc:  # "-ERR No such channel!": it ended on its own meanwhile
                logger.debug("uuid_kill %s: %s", leg.uuid, exc)

    def _agent_legs_vanished(self, legs):
        hook = getattr(self.acd, "agent_legs_vanished", None)
        if hook is None:
            # The ACD's own watch on each leg already saw ConnectionLost; it lets the caller's
            # hangup decide the end of the call.
            for leg in legs:
                logger.warning("agent %s: leg %s of call %s ended while the ESL connection was down",
                               leg.agent, leg.uuid, leg.variables.get("fs_cc_call_uuid"))
            return
        hook(legs)

    # the control interface's backend
    def agents(self):
        """Each agent's live state."""
        return self.acd.agents()

    def queues(self):
        """Each queue's live figures."""
        return self.acd.queues()

    def calls(self):
        """Calls in progress: this engine's calls and every live call FreeSWITCH has, with their legs."""
        sessions = {uuid: {"uuid": uuid, "caller": record.caller_number, "did": record.did,
                           "started_at": record.started_at.isoformat()}
                    for uuid, record in self.open_records.items()}
        out = []
        for legs in self.channels.calls():
            session = next((sessions.pop(leg.uuid) for leg in legs if leg.uuid in sessions), None)
            if session is None:
                first = legs[0]
                session = {"uuid": first.uuid, "caller": first.caller_number,
                           "did": first.destination_number,
                           "started_at": first.to_dict()["created_at"]}
            out.append(dict(session, legs=[leg.to_dict() for leg in legs]))
        out.extend(dict(session, legs=[]) for session in sessions.values())
        return out

    def set_agent_status(self, extension, status):
        """Move an agent to a status (KeyError: unknown agent, ValueError: refused)."""
        return self.acd.set_status(extension, status)


def finish_abandoned(payload, last_alive):
    """Complete the record of a call whose engine died: it ended when the engine was last seen."""
    record = CallRecord.from_dict(payload)
    if last_alive is not None:
        record.ended_at = datetime.datetime.fromtimestamp(last_alive, datetime.timezone.utc)
    else:
        record.ended_at = record.started_at
    record.hangup_cause = ENGINE_LOST_CAUSE
    record.hangup_side = HangupSide.SYSTEM
    return record.to_dict()  # wait and talk seconds recomputed from the times


def run_engine(settings):
    """Run an engine until SIGINT/SIGTERM (blocking); returns the exit status."""
    if settings.esl is None:
        from fs_cc.errors import ConfigError

        raise ConfigError("no FreeSWITCH configured: set FS_CC_ESL_URL (esl://:PASSWORD@HOST:PORT)"
                          " or run `fs-cc up`, which starts the emulator")
    engine = Engine(settings)
    engine.start()
    gevent.signal_handler(signal.SIGTERM, engine.stop)
    gevent.signal_handler(signal.SIGINT, engine.stop)
    engine.stopped.wait()
    return 0
