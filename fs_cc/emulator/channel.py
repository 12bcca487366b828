"""The channel model: states, caller profile, variables, and the events a channel fires."""

import enum
import logging
import uuid as uuidlib
from dataclasses import dataclass

import gevent
import gevent.event

from fs_cc.emulator.events import now_us

logger = logging.getLogger(__name__)


class ChannelState(enum.Enum):
    """switch_channel_state_t."""
    CS_NEW = 0
    CS_INIT = 1
    CS_ROUTING = 2
    CS_SOFT_EXECUTE = 3
    CS_EXECUTE = 4
    CS_EXCHANGE_MEDIA = 5
    CS_PARK = 6
    CS_CONSUME_MEDIA = 7
    CS_HIBERNATE = 8
    CS_RESET = 9
    CS_HANGUP = 10
    CS_REPORTING = 11
    CS_DESTROY = 12
    CS_NONE = 13


class CallState(enum.Enum):
    """switch_channel_callstate_t."""
    DOWN = 0
    DIALING = 1
    RINGING = 2
    EARLY = 3
    ACTIVE = 4
    HELD = 5
    RING_WAIT = 6
    HANGUP = 7
    UNHELD = 8


class WakeReason(enum.Enum):
    """Why Channel.wait() returned."""
    TIMEOUT = "timeout"
    HANGUP = "hangup"
    BREAK = "break"
    DTMF = "dtmf"
    TAKEOVER = "takeover"
    QUEUE = "queue"
    SIGNAL = "signal"


# The states the core db's channels table does not record (switch_core_sqldb_process_event:
# CHANNEL_STATE of these leaves the row's state as it was).
DB_SKIPS_STATES = frozenset({ChannelState.CS_NEW, ChannelState.CS_INIT, ChannelState.CS_HANGUP,
                             ChannelState.CS_REPORTING, ChannelState.CS_DESTROY})


@dataclass
class CallerProfile:
    """switch_caller_profile_t, the fields events show."""
    direction: str = "inbound"
    logical_direction: str = "inbound"
    dialplan: str = "xml"
    caller_id_name: str = ""
    caller_id_number: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    ani: str = ""
    rdnis: str = ""  # the destination a transfer came from
    destination_number: str = ""
    uuid: str = ""
    source: str = ""
    transfer_source: str = ""
    context: str = "default"
    channel_name: str = ""
    profile_created: int = 0
    created: int = 0
    answered: int = 0
    progress: int = 0
    progress_media: int = 0
    hangup: int = 0
    transfer: int = 0
    resurrect: int = 0
    bridged: int = 0
    last_hold: int = 0
    hold_accum: int = 0


class Channel:
    """One call leg, its state and the events it fires; its session greenlet runs jobs."""

    def __init__(self, switch, name, direction, profile, variables=None, uuid=None):
        self.switch = switch
        self.uuid = uuid or str(uuidlib.uuid4())
        self.name = name
        self.direction = direction
        self.state = ChannelState.CS_NONE
        self.call_state = CallState.DOWN
        self.db_state = None  # what `show channels` says: the core db skips some states
        self.db_call_state = None
        self.answer_state = "ringing"
        self.hit_dialplan = False
        self.call_uuid = self.uuid
        self.codecs = False
        self.hangup_cause = None
        self.profile = profile
        self.profile.uuid = self.uuid
        self.profile.channel_name = name
        ts = now_us()
        self.profile.profile_created = self.profile.created = ts
        self.profile_index = 1
        self.other_type = None
        self.other_profile = None
        self.variables = {}
        self.created_epoch = ts // 1_000_000
        self.loopback_partner = None
        self.bridged_to = None
        self.application = ""
        self.application_data = ""
        self.last_response = "_none_"
        self.dtmf_buffer = ""
        self.app_queue = []
        self.dialplan_rest = []  # the extension's applications not yet started (app, arg, groups)
        self.event_lock = False  # the running application came with `event-lock: true`
        self.on_reporting = []
        self.on_hangup = []
        self.media_bugs = []  # removed in CS_HANGUP (switch_core_media_bug_remove_all)
        self.session_audio = {}  # what uuid_audio's bug does (fs_cc.emulator.session_audio)
        self.destroy_blockers = []
        self.hungup = False
        self.destroyed = False
        self.answered_event = gevent.event.Event()
        self.done_event = gevent.event.Event()
        self.state_changed = gevent.event.Event()
        self._signal = gevent.event.Event()
        self._break = False
        self._next_job = None
        self._greenlet = None
        self.held = False  # CF_HOLD: set by uuid_hold, cleared only by a successful unhold
        self.broadcasting = False  # CF_BROADCAST: a queued (sendmsg, uuid_broadcast) application runs
        self.broadcast_stopped = False  # CF_STOP_BROADCAST: its remaining loops are dropped
        self.prompts_started = 0
        self.running_socket = None
        for key, value in (variables or {}).items():
            self.set_var(key, value)

    # -- variables -------------------------------------------------------------------------
    def set_var(self, key, value):
        """Set a channel variable (re-setting moves it last, as FreeSWITCH lists them)."""
        self.variables.pop(key, None)
        if value is not None:
            self.variables[key] = str(value)

    def get_var(self, key, default=None):
        """A channel variable, else the global variable of that name, else default.

        switch_channel_get_variable falls back to the global variables the same way, which is how
        the overlay's dialplan reads ${fs_cc_test_numbers} and ${fs_cc_test_agent_answer_delay_ms}.
        """
        value = self.variables.get(key)
        if value is None:
            value = self.switch.global_var(key)
        return default if value is None else value

    # -- events ----------------------------------------------------------------------------
    def fire(self, name, pre=(), post=(), body=None):
        """Fire a channel event."""
        self.switch.fire(self.switch.factory.channel(name, self, pre, post, body))

    def set_state(self, state):
        """Enter a state machine state (CHANNEL_STATE)."""
        self.state = state
        if state not in DB_SKIPS_STATES:
            self.db_state = state
        self.fire("CHANNEL_STATE")
        self.state_changed.set()

    def set_callstate(self, call_state):
        """Change the call state (CHANNEL_CALLSTATE)."""
        if call_state == self.call_state:
            return
        original = self.call_state
        self.call_state = call_state
        if call_state not in (CallState.DOWN, CallState.HANGUP):
            self.db_call_state = call_state
        self.fire("CHANNEL_CALLSTATE", pre=[("Original-Channel-Call-State", original.name),
                                            ("Channel-Call-State-Number", call_state.value)])

    def fire_codecs(self):
        """The two CODEC events a new media channel fires before CHANNEL_CREATE."""
        read = [("Channel-Read-Codec-Name", "L16"), ("Channel-Read-Codec-Rate", "8000"),
                ("Channel-Read-Codec-Bit-Rate", "128000")]
        self.fire("CODEC", post=read + [(k.lower(), v) for k, v in read])
        self.codecs = True
        write = [("Channel-Write-Codec-Name", "L16"), ("Channel-Write-Codec-Rate", "8000"),
                 ("Channel-Write-codec-bit-rate", "128000")]
        self.fire("CODEC", post=write)
        for key, value in (("read_codec", "L16"), ("read_rate", "8000"),
                           ("write_codec", "L16"), ("write_rate", "8000")):
            self.set_var(key, value)

    # -- call progress ---------------------------------------------------------------------
    def ring_ready(self):
        """180 Ringing (CHANNEL_PROGRESS)."""
        if self.answer_state != "ringing" or self.hungup:
            return
        self.profile.progress = now_us()
        if self.loopback_partner is not None and self.get_var("loopback_leg") == "B":
            self.loopback_partner.ring_ready()  # mod_loopback passes the ringing to its A-leg
        self.fire("CHANNEL_PROGRESS")
        self.set_callstate(CallState.RINGING)

    def pre_answer(self):
        """Early media (CHANNEL_PROGRESS_MEDIA)."""
        if self.answer_state != "ringing" or self.hungup:
            return
        self.answer_state = "early"
        self.profile.progress_media = now_us()
        if self.loopback_partner is not None and self.get_var("loopback_leg") == "B":
            self.loopback_partner.pre_answer()
        self.fire("CHANNEL_PROGRESS_MEDIA")
        self.set_callstate(CallState.EARLY)

    def answer(self):
        """Answer (CHANNEL_ANSWER then CALLSTATE ACTIVE); a loopback B-leg answers its A-leg first."""
        if self.answer_state == "answered" or self.hungup:
            return
        partner = self.loopback_partner
        if partner is not None and self.get_var("loopback_leg") == "B":
            partner.answer()
        self.answer_state = "answered"
        self.profile.answered = now_us()
        self.set_var("endpoint_disposition", "ANSWER")
        self.fire("CHANNEL_ANSWER")
        self.set_callstate(CallState.ACTIVE)
        self.answered_event.set()

    def hangup(self, cause="NORMAL_CLEARING"):
        """Hang up with a cause (CHANNEL_HANGUP); the session greenlet tears down."""
        if self.hungup:
            return
        self.hungup = True
        self.hangup_cause = cause
        self.answer_state = "hangup"
        self.profile.hangup = now_us()
        self.set_var("hangup_cause", cause)
        self.fire("CHANNEL_HANGUP")
        for callback in list(self.on_hangup):
            callback(self)
        self.wake()
        self.answered_event.set()
        if self._greenlet is None:
            self.teardown()

    # -- session greenlet ------------------------------------------------------------------
    def start(self, job):
        """Start the session greenlet with a first job; it tears down when jobs run out."""
        self._greenlet = gevent.spawn(self._run, job)
        self._greenlet.link_exception(self._crashed)

    def _crashed(self, greenlet):
        logger.error("session of %s crashed: %r", self.uuid, greenlet.exception)
        if not self.destroyed:
            self.hangup("DESTINATION_OUT_OF_ORDER")
            self.teardown()

    def _run(self, job):
        while job is not None and not self.hungup:
            job()
            job, self._next_job = self._next_job, None
        self.teardown()

    def take_over(self, job):
        """Replace whatever runs on the channel with job (transfer, uuid_bridge, originate app)."""
        self._next_job = job
        self.wake()

    @property
    def taken_over(self):
        """True when another job waits to replace the current one."""
        return self._next_job is not None

    def wake(self):
        """Rouse whatever the session greenlet waits on."""
        self._signal.set()

    def request_break(self):
        """uuid_break: stop the running media application."""
        self._break = True
        self.wake()

    def queue_app(self, app, arg="", app_uuid=None, loops=1, event_lock=False, hold_bleg=False):
        """Queue an application (sendmsg execute, uuid_broadcast): a private event of the session.

        loops < 0 repeats it until the broadcast is stopped; hold_bleg plays the partner hold
        music meanwhile (the `hold-bleg` header switch_ivr_parse_event reads).
        """
        self.app_queue.append((app, arg, app_uuid, loops, event_lock, hold_bleg))
        self.wake()

    def stop_broadcast(self):
        """switch_channel_stop_broadcast: end the running queued application and its loops."""
        if self.broadcasting:
            self.broadcast_stopped = True
            self.request_break()

    def receive_dtmf(self, digits):
        """DTMF arriving on this channel (DTMF event per digit)."""
        for digit in digits:
            if self.hungup:
                return
            self.fire("DTMF", post=[("DTMF-Digit", digit), ("DTMF-Duration", "2000"),
                                    ("DTMF-Source", "UNKNOWN")])
            self.dtmf_buffer += digit
        self.wake()

    def wait(self, seconds=None, dtmf=False, queue=False, simulated=True, any_signal=False):
        """Wait up to seconds (simulated time) for hangup, break, takeover, DTMF or queued apps."""
        clock = self.switch.clock
        deadline = None if seconds is None else clock.monotonic() + (clock.real(seconds) if simulated else seconds)
        while True:
            self._signal.clear()
            if self.hungup:
                return WakeReason.HANGUP
            if self._next_job is not None:
                return WakeReason.TAKEOVER
            if self._break:
                self._break = False
                return WakeReason.BREAK
            if dtmf and self.dtmf_buffer:
                return WakeReason.DTMF
            if queue and self.app_queue:
                return WakeReason.QUEUE
            if deadline is None:
                signalled = self._signal.wait()
            else:
                remaining = deadline - clock.monotonic()
                if remaining <= 0:
                    return WakeReason.TIMEOUT
                signalled = self._signal.wait(remaining)
            if any_signal and signalled:
                return WakeReason.SIGNAL

    def teardown(self):
        """CS_HANGUP .. CS_DESTROY, the partners' hangups and the registry removal."""
        if self.destroyed:
            return
        self.destroyed = True
        if not self.hungup:
            self.hangup("NORMAL_CLEARING")
        self.set_state(ChannelState.CS_HANGUP)
        for bug in list(self.media_bugs):  # switch_core_session_hangup_state
            bug.remove()
        self.set_callstate(CallState.HANGUP)
        partner = self.loopback_partner
        if partner is not None and not partner.hungup:
            partner.hangup(self.hangup_cause)
        self.set_state(ChannelState.CS_REPORTING)
        self.fire("CHANNEL_HANGUP_COMPLETE", pre=[("Hangup-Cause", self.hangup_cause)])
        for callback in list(self.on_reporting):
            callback(self)
        # A lingering outbound socket keeps the session (and `show channels` row) alive.
        for blocker in list(self.destroy_blockers):
            blocker.wait()
        self.switch.unregister(self)
        self.fire("CHANNEL_DESTROY")
        self.set_state(ChannelState.CS_DESTROY)
        self.done_event.set()
