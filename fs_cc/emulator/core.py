"""The Emulator: owns the clock, the channels, the event bus and the ESL server."""

import dataclasses
import logging
import random
import socket as pysocket
import uuid as uuidlib

import gevent

from fs_cc.emulator.api import Api
from fs_cc.emulator.apps import (after_bridge, bridge_a_side, bridge_b_side, execute, park_loop,
                                 run_queued)
from fs_cc.emulator.bus import EventBus
from fs_cc.emulator.channel import CallState, ChannelState
from fs_cc.emulator.clock import Clock
from fs_cc.emulator.conference import Conferences
from fs_cc.emulator.dialplan import ENGINE_SOCKET_VAR, Dialplan, expand
from fs_cc.emulator.endpoints import PhoneBook
from fs_cc.emulator.events import EventFactory, now_us
from fs_cc.sounds import sound_prefix
from fs_cc.emulator.server import InboundServer
from fs_cc.emulator.traffic import TrafficGenerator

logger = logging.getLogger(__name__)


def disable_expansion(value):
    """switch_string_var_check(value, SWITCH_TRUE): each `$` directly before `{` becomes `%`."""
    return value.replace("${", "%{")


class Emulator:
    """A FreeSWITCH 1.10 stand-in speaking ESL on TCP, with simulated phones, customers and callers."""

    def __init__(self, config):
        self.config = config
        self.clock = Clock(config.speed)
        self.hostname = config.hostname
        self.bus = EventBus()
        self.factory = EventFactory(str(uuidlib.uuid4()), config.hostname)
        self.channels = {}
        self.phones = PhoneBook(config.phones)
        self.gateways = {g.name: g for g in config.gateways}
        self.rng = random.Random(config.seed)
        self.dialplan = Dialplan(config.dialplan)
        self.api = Api(self)
        # what vars.xml and the fs_cc overlay in test mode set; global_setvar changes them live
        self.global_vars = {"hostname": config.hostname, "domain": "127.0.0.1",
                            "local_ip_v4": "127.0.0.1", "switch_serial": "fs_cc",
                            "fs_cc_test_numbers": "true", "sounds_dir": config.sounds_dir,
                            "hold_music": "local_stream://moh",
                            "sound_prefix": sound_prefix(config.sounds_dir)}
        self.eavesdrops = {}
        self.conferences = Conferences(self)
        self.sessions_since_startup = 0
        self.peak_sessions = 0
        self._session_ids = 0
        self._server = None
        self._heartbeat = None
        self.traffic = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self):
        """Bind the ESL port and start heartbeats (and traffic when configured); returns at once."""
        self._server = InboundServer(self, self.config.host, self.config.port, self.config.password)
        self._server.start()
        self._heartbeat = gevent.spawn(self._heartbeat_loop)
        self._heartbeat.link_exception(self.log_failure)
        if self.config.traffic is not None:
            self.traffic = TrafficGenerator(self, self.config.traffic)
            self.traffic.start()
        logger.info("emulator listening on %s:%s (speed %s)", *self.esl_address, self.clock.speed)

    def stop(self):
        """Stop traffic, hang up every channel, close connections."""
        if self.traffic is not None:
            self.traffic.stop()
        if self._heartbeat is not None:
            self._heartbeat.kill()
        for channel in list(self.channels.values()):
            channel.hangup("SYSTEM_SHUTDOWN")
        if self._server is not None:
            self._server.stop()

    @property
    def esl_address(self):
        """(host, port) the inbound ESL server is bound to."""
        return self._server.address

    def log_failure(self, greenlet):
        """link_exception target for every greenlet we spawn."""
        logger.error("emulator greenlet failed: %r", greenlet.exception)

    # -- global variables ------------------------------------------------------------------
    def global_var(self, name, default=None):
        """A global variable (global_getvar, and ${name} where no channel variable has that name).

        fs_cc_engine_socket, which the default dialplan's `socket` uses, follows
        config.socket_target until global_setvar gives it a value of its own.
        """
        value = self.global_vars.get(name)
        if value is None and name == ENGINE_SOCKET_VAR:
            value = self.config.socket_target
        return default if value is None else value

    def set_global_var(self, name, value):
        """global_setvar (and the preprocessor's set): set, or unset when value is None or empty.

        As switch_core_set_variable, every `${` of the value is stored as `%{`
        (switch_string_var_check), so a global never expands when a channel reads it.
        """
        self.global_vars.pop(name, None)  # a new value goes last, as switch_core_set_variable does
        if value:
            self.global_vars[name] = disable_expansion(str(value))

    # -- events ----------------------------------------------------------------------------
    def fire(self, event):
        """Send an event to subscribed connections."""
        self.bus.fire(event)

    def _heartbeat_loop(self):
        while True:
            self.clock.sleep(self.config.heartbeat_seconds)
            extra = [("Event-Info", "System Ready"), ("Up-Time", "0 years"),
                     ("FreeSWITCH-Version", "1.10.12-release"), ("Uptime-msec", "0"),
                     ("Session-Count", len(self.channels)), ("Max-Sessions", "1000"),
                     ("Session-Per-Sec", "30"), ("Session-Per-Sec-Last", "0"),
                     ("Session-Per-Sec-Max", "0"), ("Session-Per-Sec-FiveMin", "0"),
                     ("Session-Since-Startup", self.sessions_since_startup),
                     ("Session-Peak-Max", self.peak_sessions), ("Session-Peak-FiveMin", "0"),
                     ("Idle-CPU", "99.000000")]
            self.fire(self.factory.simple("HEARTBEAT", extra))
            for task_id, desc in ((1, "heartbeat"), (2, "check_ip")):
                self.fire(self.factory.simple("RE_SCHEDULE", [
                    ("Task-ID", task_id), ("Task-Desc", desc), ("Task-Group", "core"),
                    ("Task-Runtime", now_us() // 1_000_000 + 20)]))

    def flood(self, count, name="CHANNEL_STATE"):
        """Fire count synthetic events quickly (benchmarks)."""
        fake = str(uuidlib.uuid4())
        for i in range(count):
            self.fire(self.factory.simple(name, [
                ("Channel-State", "CS_EXECUTE"), ("Channel-Call-State", "ACTIVE"),
                ("Channel-Name", "loopback/flood-a"), ("Unique-ID", fake),
                ("Call-Direction", "inbound"), ("Answer-State", "answered"), ("Flood-Index", i)]))
            if i % 200 == 199:
                gevent.sleep(0)

    # -- registry --------------------------------------------------------------------------
    def register(self, channel):
        """Track a new channel."""
        self.channels[channel.uuid] = channel
        self.sessions_since_startup += 1
        self.peak_sessions = max(self.peak_sessions, len(self.channels))

    def unregister(self, channel):
        """Forget a destroyed channel."""
        self.channels.pop(channel.uuid, None)

    def rename(self, channel, new_uuid):
        """origination_uuid: the channel takes the requested UUID."""
        self.channels.pop(channel.uuid, None)
        channel.uuid = channel.profile.uuid = channel.call_uuid = new_uuid
        self.channels[new_uuid] = channel

    def next_session_id(self):
        """FreeSWITCH's session_id counter."""
        self._session_ids += 1
        return self._session_ids

    # -- routing ---------------------------------------------------------------------------
    def route_inbound(self, channel, destination, context):
        """An inbound leg: INIT, CREATE, RINGING, ROUTING, then the dialplan."""
        channel.set_state(ChannelState.CS_INIT)
        channel.fire("CHANNEL_CREATE")
        channel.state = ChannelState.CS_ROUTING
        channel.set_callstate(CallState.RINGING)
        channel.set_state(ChannelState.CS_ROUTING)
        self._run_extension(channel, destination, context)

    def _run_extension(self, channel, destination, context):
        found = self.dialplan.hunt(channel, destination, context)
        if found is None:
            logger.info("%s: no route for %s in %s", channel.uuid, destination, context)
            channel.hangup("NO_ROUTE_DESTINATION")
            return
        inline, actions = found
        for app, arg in inline:
            if app in ("set", "export"):
                key, _, value = arg.partition("=")
                channel.set_var(key, value)
                if app == "export":
                    channel.set_var("export_vars", key)
        channel.hit_dialplan = True
        channel.dialplan_rest = list(actions)
        channel.set_state(ChannelState.CS_EXECUTE)
        self._run_rest(channel)

    @staticmethod
    def _run_rest(channel):
        """switch_core_standard_on_execute: the extension's applications from where it stands.

        The current application is passed before it runs, so a channel taken from its extension
        (uuid_bridge) and sent back to CS_EXECUTE goes on with the application after it.
        """
        while channel.dialplan_rest:
            if channel.hungup or channel.taken_over:
                return
            run_queued(channel)
            app, arg, groups = channel.dialplan_rest.pop(0)
            execute(channel, app, expand(arg, channel, groups))

    def transfer(self, channel, destination, context, dialplan="XML"):
        """uuid_transfer / transfer: re-route the channel to another extension (or inline apps).

        As switch_ivr_session_transfer, the new caller profile is there at once (its RDNIS the
        old destination, no other leg's), so the CHANNEL_UNBRIDGE of a transferred leg shows it.
        """
        channel.profile_index += 1
        channel.profile = dataclasses.replace(  # the partner's Other-Leg block keeps the old one
            channel.profile, rdnis=channel.profile.destination_number,
            destination_number=destination, context=context, transfer=now_us())
        channel.other_type = channel.other_profile = None

        def job():
            channel.set_state(ChannelState.CS_ROUTING)
            profile = channel.profile
            if channel.direction == "outbound" and profile.logical_direction == "outbound":
                # an outbound leg reaching the dialplan the first time flips its caller id
                # (as recorded: the b-leg of 12_uuid_transfer_bleg)
                profile.logical_direction = "inbound"
                profile.caller_id_name, profile.callee_id_name = profile.callee_id_name, profile.caller_id_name
                profile.caller_id_number, profile.callee_id_number = profile.callee_id_number, profile.caller_id_number
            if dialplan.lower() == "inline":
                self._run_inline(channel, destination)
            else:
                self._run_extension(channel, destination, context)
        channel.take_over(job)

    def _run_inline(self, channel, destination):
        """The inline dialplan (inline_dialplan_hunt in mod_dptools.c): `app:arg,app:arg`."""
        channel.dialplan_rest = []
        # as recorded (29_three_way_conference): the RDNIS the transfer gave is on the events up
        # to CS_ROUTING, gone from CS_EXECUTE on
        channel.profile.rdnis = ""
        channel.set_state(ChannelState.CS_EXECUTE)
        for item in destination.split(","):
            app, _, arg = item.partition(":")
            if channel.hungup or channel.taken_over:
                return
            execute(channel, app.strip(), arg)

    def press_dtmf(self, uuid, digits):
        """The far end of a leg presses keys (a supervisor's phone): DTMF arrives on that channel."""
        channel = self.channels.get(uuid)
        if channel is None:
            return False
        channel.receive_dtmf(digits)
        return True

    def start_originated(self, channel, target, context):
        """After originate answered: the CID flip, then `&app(args)` or the extension."""
        channel.hit_dialplan = True
        if channel.loopback_partner is not None:
            profile = channel.profile
            profile.callee_id_name, profile.caller_id_name = profile.caller_id_name, profile.callee_id_name
            profile.callee_id_number, profile.caller_id_number = profile.caller_id_number, profile.callee_id_number
            channel.fire("CALL_UPDATE", pre=[("Direction", "RECV")])

        def job():
            channel.dialplan_rest = []
            channel.set_state(ChannelState.CS_EXECUTE)
            if target.startswith("&"):
                app, _, arg = target[1:].partition("(")
                arg = arg[:-1] if arg.endswith(")") else arg
                execute(channel, app, arg)
                if not channel.hungup and not channel.taken_over and channel.app_queue:
                    park_loop(channel, fire_events=False)
            else:
                self._run_extension(channel, target, context)
        channel.take_over(job)

    def uuid_bridge(self, a_leg, b_leg):
        """uuid_bridge: both legs leave what they run and are joined."""
        stamp = "%d:%s:uuid_br:%s" % (now_us() // 1_000_000, uuidlib.uuid4(), b_leg.uuid)
        for leg in (a_leg, b_leg):
            leg.profile_index += 1
            leg.profile.transfer_source = stamp
            leg.profile.profile_created = now_us()
        # an originator taken from a bridge it runs is already in CS_SOFT_EXECUTE: its session
        # thread, busy in the bridge, never runs the CS_HIBERNATE set meanwhile (14_attended_transfer)
        from_bridge = a_leg.bridged_to is not None and a_leg.other_type == "originatee"
        # the legs' old partners leave their bridges at once (31_consult_transfer: a caller
        # whose agent's leg is bridged elsewhere unbridges and parks before the new bridge)
        old_partners = [self.channels.get(leg.bridged_to or "") for leg in (a_leg, b_leg)]
        a_leg.bridged_to, b_leg.bridged_to = b_leg.uuid, a_leg.uuid
        for partner in old_partners:
            if partner is not None and partner not in (a_leg, b_leg):
                partner.wake()
        a_leg.other_type, a_leg.other_profile = "originatee", b_leg.profile
        b_leg.other_type, b_leg.other_profile = "originator", a_leg.profile
        a_leg.set_var("signal_bond", b_leg.uuid)
        b_leg.set_var("signal_bond", a_leg.uuid)
        if a_leg.direction == "outbound":  # CF_DIALPLAN on the originator
            a_leg.profile.logical_direction = "inbound"

        def a_job():
            states = (ChannelState.CS_HIBERNATE, ChannelState.CS_RESET, ChannelState.CS_SOFT_EXECUTE)
            for state in states[1:] if from_bridge else states:
                a_leg.set_state(state)
            # uuid_bridge_on_soft_execute waits for the originatee to reach CS_SOFT_EXECUTE
            while (b_leg.state != ChannelState.CS_SOFT_EXECUTE and not b_leg.hungup
                   and not a_leg.hungup and not a_leg.taken_over):
                gevent.sleep(0.002)
            # uuid_bridge_on_soft_execute: "fire events that will change the data table"
            for leg, other in ((a_leg, b_leg), (b_leg, a_leg)):
                leg.application, leg.application_data = "uuid_bridge", other.uuid  # show channels
                leg.fire("CHANNEL_EXECUTE", post=[("Application", "uuid_bridge"),
                                                  ("Application-Data", other.uuid)])
            bridge_a_side(a_leg, b_leg)
            if after_bridge(a_leg, b_leg):
                return
            # no *_after_bridge variable: back to CS_EXECUTE, on with the rest of the extension
            # (for a caller of `socket ... async full`: the application after `socket`)
            a_leg.set_state(ChannelState.CS_EXECUTE)
            self._run_rest(a_leg)
        a_leg.take_over(a_job)
        b_leg.take_over(lambda: bridge_b_side(b_leg, a_leg, from_park=True))

    def partner(self, channel):
        """switch_channel_get_partner_uuid: the channel its signal_bond names, if it is up."""
        other = self.channels.get(channel.variables.get("signal_bond") or "")
        return other if other is not None and not other.hungup else None

    def broadcast(self, channel, path, aleg=True, bleg=False, hold_bleg=False, loop=False):
        """switch_ivr_broadcast: queue `playback path` (or `app::args`) on the channel and/or its
        partner, as a private event with event-lock (loops -1 with loop)."""
        app, arg = "playback", path
        if "::" in path:
            app, _, arg = path.partition("::")
            arg = arg.replace("!", " ")
        loops = -1 if loop else 1
        other = self.partner(channel) if bleg else None
        if other is not None:
            other.queue_app(app, arg, loops=loops, event_lock=True, hold_bleg=hold_bleg)
        if aleg:
            channel.queue_app(app, arg, loops=loops, event_lock=True, hold_bleg=hold_bleg)

    def hold_partner(self, channel):
        """The `hold-bleg` of switch_ivr_parse_event: the partner hears hold music; returns it."""
        other = self.partner(channel)
        if other is None:
            return None
        stream = other.get_var("hold_music") or channel.get_var("hold_music")
        if not stream or stream.lower() in ("silence", "indicate_hold"):  # switch_is_moh
            return None
        self.broadcast(other, stream, loop=True)
        return other

    def hold(self, channel):
        """switch_ivr_hold: CHANNEL_HOLD; the partner plays the hold music. False if already held.

        The call state is not the hold flag: only the far end holding (switch_channel_mark_hold,
        from the remote SDP) makes it HELD, so uuid_hold leaves it ACTIVE and a second hold
        succeeds again (10_hold_unhold).
        """
        if channel.call_state == CallState.HELD:
            return False
        channel.held = True
        stream = channel.get_var("temp_hold_music") or channel.get_var("hold_music")
        other = self.partner(channel)
        if stream and other is not None:
            self.broadcast(other, stream, loop=True)
        channel.fire("CHANNEL_HOLD")
        return True

    def unhold(self, channel):
        """switch_ivr_unhold: False unless the call state is HELD; else stop the partner's music."""
        if channel.call_state != CallState.HELD:
            return False
        channel.held = False
        other = self.partner(channel)
        if other is not None:
            other.stop_broadcast()
        channel.fire("CHANNEL_UNHOLD")
        return True

    # -- tests and traffic -----------------------------------------------------------------
    def place_call(self, did, caller_number="13800138000", dtmf=None, talk_seconds=None,
                   patience_seconds=None, caller_name=None, context="public"):
        """Place a simulated inbound caller (loopback pair, A-leg parked); returns the A-leg UUID."""
        a_uuid = str(uuidlib.uuid4())
        parts = ["origination_uuid=%s" % a_uuid, "origination_caller_id_number=%s" % caller_number]
        if caller_name:
            parts.append("origination_caller_id_name='%s'" % caller_name)
        if dtmf:
            parts.append("fs_cc_sim_dtmf='%s'" % dtmf)
        if talk_seconds is not None:
            parts.append("fs_cc_sim_talk_seconds=%s" % talk_seconds)
        if patience_seconds is not None:
            parts.append("fs_cc_sim_patience_seconds=%s" % patience_seconds)
        command = "{%s}loopback/%s/%s &park()" % (",".join(parts), did, context)
        gevent.spawn(self.api.execute, "originate", command).link_exception(self.log_failure)
        return a_uuid


def local_hostname():
    """This machine's short host name."""
    return pysocket.gethostname().split(".")[0]
