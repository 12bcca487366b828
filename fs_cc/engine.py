"""The engine: builds and wires everything on the telephony side and owns its greenlets.

One inbound ESL connection to FreeSWITCH (events, api/bgapi, call control by UUID), one outbound
ESL server that the dialplan's ``socket`` application connects to for each call, the IVR runner
and the ACD with its router, the emitter (durable outbox, then the bus) and the control
interface for the web app.
"""

import logging
import pathlib
import secrets
import signal
import socket
from zoneinfo import ZoneInfo

import gevent
import gevent.event

from fs_cc import events
from fs_cc.acd import ACD
from fs_cc.acd.callbacks import build_callbacks, to_time
from fs_cc.actions import EngineActions
from fs_cc.adoption import Adopter
from fs_cc.acd.config import define_catalog_agents, desk_agents_of, queues_from_catalog
from fs_cc.bus import BusUnavailable, InProcessBus
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.channels import ChannelTracker, ResyncError
from fs_cc.control import ControlServer, UnknownTarget
from fs_cc.emitter import Emitter
from fs_cc.esl.errors import ESLError
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.catalog import Catalog, load_catalog
from fs_cc.errors import ConfigError
from fs_cc.flows import build_flow_table
from fs_cc.ivr.services import build_flow_services
from fs_cc.ivr.speech import tts_dir
from fs_cc.ivr.sounds import missing_sounds
from fs_cc.ivr.versions import FlowReloader, VersionLookup
from fs_cc.livecalls import CallbackCustomer, LiveCalls
from fs_cc.sounds import sound_prefix
from fs_cc.outbox import CeleryPublisher, Outbox
from fs_cc.acd.figures import QueueFigures
from fs_cc.reconcile import Reconciler
from fs_cc.recording import RECORD_STOP, CallRecorder, check_mode
from fs_cc.registry import EngineRegistry

logger = logging.getLogger(__name__)

# how often the engine notes in its spool that it is alive: a crash is dated by the last note
ALIVE_SECONDS = 2.0

ENGINE_EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
                 "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_PARK",
                 "CHANNEL_UNPARK", "BACKGROUND_JOB", "DTMF", "HEARTBEAT", RECORD_STOP)


def build_store(settings):
    """The live ACD state store: in-process for one engine, Redis for several."""
    from fs_cc.acd import store as store_module

    if settings.state_store == "redis":
        import redis

        if not settings.redis_url:
            raise ConfigError("state_store 'redis' needs REDIS_URL")
        return store_module.RedisStore(redis.Redis.from_url(settings.redis_url))
    return store_module.MemoryStore()


def engine_id(var_dir):
    """This engine's id, kept in ``var_dir`` so a restarted engine goes on with its numbering."""
    path = pathlib.Path(var_dir) / "engine_id"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        value = f"{socket.gethostname()}-{secrets.token_hex(3)}"
        path.write_text(value + "\n", encoding="utf-8")
        return value


def build_bus(settings):
    """The event bus: Redis Streams when engines share Redis state, else in-process."""
    if settings.state_store == "redis" and settings.redis_url:
        import redis

        from fs_cc.bus import RedisBus

        return RedisBus(redis.Redis.from_url(settings.redis_url))
    return InProcessBus()


def build_registry(settings):
    """The engines' registry in Redis when engines share state there (None for one engine)."""
    if settings.state_store == "redis" and settings.redis_url:
        import redis

        return EngineRegistry(redis.Redis.from_url(settings.redis_url))
    return None


class Engine:
    """Everything one engine process runs, built from settings (collaborators may be injected)."""

    def __init__(self, settings, *, publisher=None, store=None, bus=None, catalog=None):
        self.settings = settings
        try:
            check_mode(settings.record_calls)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        self.catalog = catalog if catalog is not None else load_engine_catalog(settings)
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
        self._publisher = publisher or CeleryPublisher(settings.broker_url)
        self._legacy_publisher = None
        self.outbox = Outbox(settings.outbox_path, self._publisher,
                             legacy_publish=self._publish_legacy)
        self.id = engine_id(settings.var_dir)
        self.bus = bus if bus is not None else build_bus(settings)
        self.live = LiveCalls(callback_customer=self._callback_customer)
        self.registry = build_registry(settings)
        listeners = [self.live] if self.registry is None else [self.live, self._note_owner]
        self.emitter = Emitter(events.EventSequencer(self.id, start=self.outbox.last_seq(self.id)),
                               self.outbox, self.bus, listeners=listeners)
        self.ctl = CallControl(self.esl)
        self.recorder = CallRecorder(self.ctl, self.emitter, settings.recordings_root,
                                     self._recording_mode)
        self.emitter.listeners.append(self.recorder)
        self.esl.on(RECORD_STOP, self.recorder.on_record_stop)
        self.acd = ACD(self.store, self.ctl, queues_from_catalog(self.catalog), self.emitter,
                       ring_timeout=settings.ring_timeout,
                       desk_agents=desk_agents_of(self.catalog))
        self.callbacks = build_callbacks(settings, self.acd, self.emitter, self.registry, self.id)
        # what an earlier run finished but the worker may not have stored: never called twice
        self.callbacks.remember_finished(self.outbox.finished_callbacks())
        # the flows before the switch: a broken flow, or one naming a queue the catalog lacks,
        # stops the engine with file:line before any caller can reach it
        self.flow_services = build_flow_services(self)  # what node types need (fs_cc.ivr.steps)
        self.flow_versions = VersionLookup(settings.database_url)
        self.flows = self._build_flows(self.catalog)
        # a flow file changed on disk is validated and taken for new calls (fs_cc.ivr.versions)
        self.flow_reloader = FlowReloader(
            self, lambda texts: self._build_flows(self.catalog, texts),
            settings.flow_watch_seconds)
        define_catalog_agents(self.store, self.catalog)
        self.handler = CallHandler(lambda did: self.flows.runner_for(did), self.emitter,
                                   stamp_of=lambda runner: self.flows.stamp_of(runner))
        self.adopter = Adopter(self)
        self.reconciler = Reconciler(self, settings.reconcile_seconds)
        self.acd.figures = QueueFigures(self.acd, tz=ZoneInfo(settings.display_timezone),
                                        short_abandon=settings.short_abandon_seconds)
        self.emitter.listeners.append(self.acd.figures)
        self.outbound = OutboundServer(settings.outbound_host, settings.outbound_port,
                                       self._on_call)
        self.control = ControlServer(self, settings.control_host, settings.control_port,
                                     secret=settings.control_secret, bus=self.bus,
                                     # read at each request: catalog.reload applies at once
                                     catalog=lambda: self.catalog,
                                     prompts_dir=tts_dir(sound_prefix(settings.sounds_dir)))
        self.actions = EngineActions(self)
        self._alive = None
        self._bus_feed = None
        self.stopped = gevent.event.Event()

    def _callback_customer(self, callback_id):
        # the number a callback attempt dials, for its call's live view (the desk holds it)
        request = self.callbacks.requests.get(callback_id)
        if request is None:
            return None
        return CallbackCustomer(request.number, to_time(request.since))

    def _recording_mode(self, queue):
        # the queue's own setting once the catalog has one, else the deployment's record_calls
        defined = self.catalog.queues.get(queue) if queue else None
        return getattr(defined, "record", None) or self.settings.record_calls

    def _build_flows(self, catalog, texts=None):
        # a new table of new runners: calls in progress keep the runner (and flow) they hold
        return build_flow_table(catalog, self.settings.ivr_flow, self.acd, self.emitter,
                                sound_prefix(self.settings.sounds_dir), self.callbacks,
                                self.flow_services, texts=texts, versions=self.flow_versions,
                                prompt_url=self.settings.prompt_url)

    def reload_catalog(self):
        """Load the catalog again and apply it without a restart; ConfigError keeps the old one."""
        catalog = load_catalog(self.settings.database_url)
        with self.flow_reloader.lock:
            flows = self._build_flows(catalog)
            previous, self.catalog = self.catalog, catalog
            define_catalog_agents(self.store, catalog, previous)
            self.acd.set_queues(queues_from_catalog(catalog))
            self.acd.presence.desk_agents = desk_agents_of(catalog)
            previous_flows, self.flows = self.flows, flows
        self.flow_reloader.announce(previous_flows, flows)
        logger.info("catalog version %s applied: %s queues, %s agents, %s DID routes",
                    catalog.version, len(catalog.queues), len(catalog.agents),
                    len(catalog.routes))
        return {"version": catalog.version}

    def start(self):
        """Start serving calls; the ESL connection keeps retrying in the background."""
        self.adopter.load(self.outbox.open_calls())
        if self.adopter.pending:
            # adopted (or ended) once the first resync shows which of them FreeSWITCH still has
            logger.warning("recovered %s call record(s) left open by an engine that died: %s",
                           len(self.adopter.pending), ", ".join(self.adopter.pending))
        self.outbox.start()
        self._alive = gevent.spawn(self._alive_loop)
        self._alive.link_exception(lambda g: logger.error("alive marks stopped: %r", g.exception))
        self.acd.start()
        self.reconciler.start()
        self.acd.figures.start(self.emitter.emit)
        if not isinstance(self.bus, InProcessBus):
            # agents freed on other engines wake this engine's router too
            self._bus_feed = self.bus.subscribe(self._on_bus_event)
        self.flow_reloader.start()
        self.outbound.start()
        self.control.start()
        self.esl.start()
        if self.settings.agents_auto_login:
            for extension in self.catalog.agents:
                self.acd.login(extension, "auto login")
        logger.info("engine ready: outbound socket %s:%s, FreeSWITCH %s:%s",
                    *self.outbound.address, self.settings.esl.host, self.settings.esl.port)

    def stop(self):
        """Stop taking calls, flush what can be flushed, close connections."""
        self.outbound.stop(timeout=2)
        self.flow_reloader.stop()
        if self._alive is not None:
            self._alive.kill()
        if self._bus_feed is not None:
            self._bus_feed.close()
        if self.registry is not None:
            try:
                self.registry.withdraw(self.id)
            except BusUnavailable as exc:
                logger.warning("engine %s not withdrawn: %s", self.id, exc)
        self.acd.stop()
        self.reconciler.stop()
        self.acd.figures.stop()
        self.control.stop()
        self.esl.stop()
        self.outbox.stop()
        self.flow_versions.close()
        self.bus.close()
        self._publisher.close()
        if self._legacy_publisher is not None:
            self._legacy_publisher.close()
        self.stopped.set()

    def _on_call(self, session):
        ended = self.handler.handle(session)
        view = self.live.ended(session.uuid)
        logger.info("call %s ended: queue=%s agent=%s cause=%s side=%s", ended.call_uuid,
                    view.get("queue"), view.get("agent"), ended.cause, ended.side.value)

    def _publish_legacy(self, record):
        # a spool left by an engine from before the events: its records go to fs_cc.record_call
        if self._legacy_publisher is None:
            self._legacy_publisher = CeleryPublisher(self.settings.broker_url,
                                                     task_name=events.TASK_RECORD_CALL)
        self._legacy_publisher(record)

    def _alive_loop(self):
        while True:
            self.outbox.mark_alive()
            if self.registry is not None:
                try:
                    self.registry.announce(self.id, "http://%s:%s" % self.control.address)
                except BusUnavailable as exc:
                    logger.warning("engine %s not announced: %s", self.id, exc)
            gevent.sleep(ALIVE_SECONDS)

    def _note_owner(self, event):
        # several engines: the web sends a call's commands to the engine that owns it
        try:
            if isinstance(event, (events.CallStarted, events.CallAdopted)):
                self.registry.own_call(event.call_uuid, self.id)
            elif isinstance(event, events.CallEnded):
                self.registry.release_call(event.call_uuid)
        except BusUnavailable as exc:
            logger.warning("call %s: owner not noted: %s", event.call_uuid, exc)

    def _on_bus_event(self, event):
        if event.engine == self.id:
            return
        if isinstance(event, events.AgentStatusChanged) and event.new is events.AgentState.AVAILABLE:
            self.acd.agent_available_elsewhere(event.agent)

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
            missing = []
            for flow in self.flows.flows.values():
                missing.extend((flow, *item) for item in missing_sounds(
                    flow, prefix,
                    exists=lambda path: self.esl.api(f"file_exists {path}").strip() == "true"))
        except ESLError as exc:
            logger.warning("cannot check the flow's sounds on FreeSWITCH %s:%s: %s",
                           self.esl.host, self.esl.port, exc)
            return None
        for flow, sound, node, line in missing:
            logger.error("%s:%s: node '%s' plays '%s', which FreeSWITCH %s:%s cannot open under "
                         "%s: its keys will not be read (install.sh copies fs_cc's sounds)",
                         flow.source, line, node, sound, self.esl.host, self.esl.port, prefix)
        return [item[1:] for item in missing]

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
        if self.adopter.pending:
            self.adopter.run()  # first: an adopted call's agent leg is no orphan
        self.reconciler.orphan_legs(self.channels.channels())
        self.reconciler.agents(self.channels.channels())
        return vanished

    def _agent_legs_vanished(self, legs):
        self.acd.agent_legs_vanished(legs)

    # the control interface's backend
    def health(self):
        """/health: ok while the router runs; the router's figures and the switch link's state."""
        router = self.acd.router.health()
        return {"ok": router["alive"], "engine": self.id, "router": router,
                "switch_connected": bool(self.esl.connected), "resyncs": self.resyncs}

    def agents(self):
        """Each agent's live state."""
        return self.acd.agents()

    def queues(self):
        """Each queue's live figures."""
        return self.acd.queues()

    def calls(self):
        """Calls in progress: this engine's calls and every live call FreeSWITCH has, with their legs."""
        sessions = {call["uuid"]: {"uuid": call["uuid"], "caller": call["caller"],
                                   "did": call["did"], "started_at": call["started_at"]}
                    for call in self.live.all()}
        out = []
        for legs in self.channels.calls():
            session = next((sessions.pop(leg.uuid) for leg in legs if leg.uuid in sessions), None)
            first = legs[0]
            if session is None:
                session = {"uuid": first.uuid, "caller": first.caller_number,
                           "did": first.destination_number,
                           "started_at": first.to_dict()["created_at"]}
            elif not session["caller"]:  # adopted: the switch still knows who calls
                mine = next(leg for leg in legs if leg.uuid == session["uuid"])
                session = dict(session, caller=mine.caller_number or "",
                               did=session["did"] or mine.destination_number or "")
            out.append(dict(session, legs=[leg.to_dict() for leg in legs]))
        out.extend(dict(session, legs=[]) for session in sessions.values())
        return out

    def call_context(self, uuid):
        """What this engine knows of a call in progress or lately ended (the desktop's pop).

        A JSON-safe dict (commands.CallContext); UnknownTarget for a call it does not know.
        """
        context = self.live.context(uuid)
        if context is None:
            raise UnknownTarget("call_uuid", uuid)
        return context

    def execute(self, command):
        """Carry out a control command (fs_cc.control.commands); a dict of what it did."""
        return self.actions.execute(command)


def load_engine_catalog(settings):
    """The catalog from the database; the settings' agents and queues where it has none yet."""
    import sqlalchemy.exc

    try:
        catalog = load_catalog(settings.database_url)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        logger.warning("no catalog in the database (%s); using the agents and queues of the "
                       "settings (run `fs-cc db upgrade` and edit them in the web)",
                       str(exc).splitlines()[0])
        return Catalog.from_settings(settings.queues, settings.agents)
    if not catalog.queues and not catalog.agents:
        logger.warning("the database's catalog is empty; using the agents and queues of the "
                       "settings (`fs-cc user demo` seeds them)")
        return Catalog.from_settings(settings.queues, settings.agents)
    return catalog


def run_engine(settings):
    """Run an engine until SIGINT/SIGTERM (blocking); returns the exit status."""
    if settings.esl is None:
        raise ConfigError("no FreeSWITCH configured: set FS_CC_ESL_URL (esl://:PASSWORD@HOST:PORT)"
                          " or run `fs-cc up`, which starts the emulator")
    engine = Engine(settings)
    engine.start()
    gevent.signal_handler(signal.SIGTERM, engine.stop)
    gevent.signal_handler(signal.SIGINT, engine.stop)
    engine.stopped.wait()
    return 0
