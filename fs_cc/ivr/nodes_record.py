"""The ``record`` and ``voicemail`` nodes: the caller leaves a message, recorded by the switch.

::

    leave_message:
      type: record
      prompt: ivr/leave-a-message.wav   # optional: played before the beep (or ``text``)
      beep: tone_stream://%(500,0,800)  # the default; false for none
      max_seconds: 120                  # the longest message
      silence_threshold: 200            # energy under which a frame is silence (0: never stop)
      silence_seconds: 3                # that long silent ends the message
      terminator: "#"                   # the key that ends it ("none": no key)
      variable: message_path            # optional: the file's path, for later nodes
      next: thanks                      # a message was recorded
      no_input: goodbye                 # nothing was (optional; default: next)

    support_voicemail:
      type: voicemail
      box: "queue:support"              # or "agent:1001"
      greeting: ivr/support-is-closed.wav   # a sound, or ``greeting_text`` spoken
      email: support-lead@example.com   # optional: who is told (else the worker's setting)
      max_seconds: 180
      next: goodbye
      no_input: goodbye

Both run mod_dptools' ``record`` (``record <path> <max> <threshold> <silence>``) into
``<recordings root>/<YYYY-MM-DD>/messages/<node>/`` or ``.../voicemail/<queue|agent>/<name>/``,
named by the call's UUID and the time. The switch sets ``record_ms`` (everything written, the
trailing silence included) and ``silence_hits_exhausted``; a message that is only the silence that
ended it, or a header-only file, is no input. A caller who hangs up while recording ends the run
at once; the partial message is still reported (``cause: hangup``), measured from the file when
the switch's figures did not arrive.
"""

import dataclasses
import datetime
import logging
import os
import pathlib
import re
import typing
import wave

from fs_cc import events
from fs_cc.esl.errors import CallerHungUp
from fs_cc.ivr.nodes import VARIABLE_RE, Node, Target, language_field, node_type
from fs_cc.ivr.services import flow_service
from fs_cc.ivr.speech import SpeechUnavailable, play_sounds
from fs_cc.ivr.steps import step

logger = logging.getLogger(__name__)

DEFAULT_BEEP = "tone_stream://%(500,0,800)"
WAV_HEADER = 44  # a file with nothing recorded in it
PACKET_MS = 20
BOX_RE = re.compile(r"^(queue|agent):([A-Za-z0-9_][A-Za-z0-9_.@-]*)$")
MESSAGES_SERVICE = "messages"
# what the switch tells of a recording on the record application's CHANNEL_EXECUTE_COMPLETE
RECORD_VARIABLES = ("record_ms", "record_file_size", "silence_hits_exhausted",
                    "playback_terminator_used")


@dataclasses.dataclass(frozen=True)
class MessageStore:
    """Where the switch writes messages (the recordings root as the switch sees it)."""

    root: pathlib.Path
    clock: typing.Callable[[], datetime.datetime] = events.utcnow

    def make_folder(self, path):
        """Make the folder of ``path``: the switch's ``record`` makes none, and hangs the caller
        up when it cannot open the file. On another host than the switch the recordings folder
        must be shared (the worker reads the messages there too)."""
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        except OSError as exc:
            logger.warning("messages folder for %s not made here (%s): the switch must have it",
                           path, exc.strerror)

    def path(self, folder, call_uuid):
        """``<root>/<YYYY-MM-DD>/<folder>/<uuid>-<HHMMSS>.wav`` (UTC): one message of a call."""
        when = self.clock()
        return (pathlib.PurePosixPath(self.root) / when.strftime("%Y-%m-%d") / folder
                / f"{call_uuid}-{when.strftime('%H%M%S')}.wav")


@flow_service(MESSAGES_SERVICE)
def build_message_store(engine):
    """The engine's MessageStore: the deployment's recordings root."""
    return MessageStore(pathlib.Path(engine.settings.recordings_root))


@dataclasses.dataclass(frozen=True)
class Recorded:
    """One message as the switch (or, failing it, the file) tells it."""

    path: str
    duration_ms: typing.Optional[int]
    size: typing.Optional[int]
    cause: str  # terminator, silence, max_time, hangup, no_input

    @property
    def empty(self):
        """Whether nothing was recorded."""
        return self.cause == "no_input"


@node_type
@dataclasses.dataclass(frozen=True)
class RecordNode(Node):
    """Record a message after a beep; ``next`` when one was recorded, ``no_input`` when not."""

    prompts: typing.Tuple[str, ...] = ()
    text: typing.Optional[str] = None
    language: typing.Optional[str] = None
    beep: typing.Optional[str] = DEFAULT_BEEP
    max_seconds: int = 120  # DEFAULT_MAX_SECONDS unless the node says
    silence_threshold: int = 200
    silence_seconds: int = 3
    terminator: str = "#"
    variable: typing.Optional[str] = None
    next: str = ""
    next_line: int = 0
    no_input: str = ""
    no_input_line: int = 0

    type_name: typing.ClassVar[str] = "record"
    PROMPT_FIELD: typing.ClassVar[str] = "prompt"
    DEFAULT_MAX_SECONDS: typing.ClassVar[int] = 120

    @classmethod
    def parse(cls, node_id, fields):
        return cls(node_id, fields.node_line, **cls._recording_fields(fields))

    @classmethod
    def _recording_fields(cls, fields):
        prompt_key = cls.PROMPT_FIELD
        text = fields.text("text" if prompt_key == "prompt" else f"{prompt_key}_text",
                           required=False)
        prompts = fields.prompts(prompt_key, required=False, default=())
        beep = fields._get("beep", False, DEFAULT_BEEP)[0]
        if beep is False:
            beep = None
        elif not isinstance(beep, str) or not beep.strip() or any(c.isspace() for c in beep):
            fields.fail(f"'beep' must be a sound without spaces, or false, not {beep!r}", "beep")
        max_seconds = fields.integer("max_seconds", cls.DEFAULT_MAX_SECONDS)
        threshold = fields.integer("silence_threshold", 200, minimum=0)
        silence = fields.integer("silence_seconds", 3)
        terminator = str(fields._get("terminator", False, "#")[0])
        if terminator != "none" and (len(terminator) != 1 or terminator not in "0123456789*#"):
            fields.fail(f"'terminator' must be one key (0-9, * or #) or \"none\", not "
                        f"{terminator!r}", "terminator")
        variable = fields.text("variable", required=False)
        if variable is not None and not VARIABLE_RE.match(variable):
            fields.fail(f"'{variable}' is not a variable name (letters, digits, _ and .)",
                        "variable")
        nxt = fields.node_ref("next")
        no_input = fields.node_ref("no_input", required=False) or nxt
        return dict(prompts=prompts, text=text, language=language_field(fields), beep=beep,
                    max_seconds=max_seconds, silence_threshold=threshold,
                    silence_seconds=silence, terminator=terminator, variable=variable,
                    next=nxt, next_line=fields.line("next"), no_input=no_input,
                    no_input_line=fields.line("no_input"))

    def targets(self):
        edges = [Target("next", self.next, self.next_line)]
        if self.no_input != self.next:
            edges.append(Target("no_input", self.no_input, self.no_input_line))
        return edges

    def sounds(self):
        return self.prompts + ((self.beep,) if self.beep else ())

    def speech_texts(self, language):
        """The spoken prompt, unless a recorded one overrides it."""
        return (self.text,) if self.text is not None and not self.prompts else ()

    def folder(self):
        """The folder of this node's messages under the day's."""
        return f"messages/{self.id}"

    def record_arguments(self, path):
        """``record``'s argument: path, longest message, silence threshold and seconds."""
        return f"{path} {self.max_seconds} {self.silence_threshold} {self.silence_seconds}"


@node_type
@dataclasses.dataclass(frozen=True)
class VoicemailNode(RecordNode):
    """Record a message into a queue's or an agent's box; the worker tells the box by e-mail."""

    box: str = ""
    box_line: int = 0
    email: typing.Optional[str] = None

    type_name: typing.ClassVar[str] = "voicemail"
    PROMPT_FIELD: typing.ClassVar[str] = "greeting"
    DEFAULT_MAX_SECONDS: typing.ClassVar[int] = 180

    @classmethod
    def parse(cls, node_id, fields):
        box = fields.text("box")
        if not BOX_RE.match(box):
            fields.fail(f"'box' must be \"queue:NAME\" or \"agent:EXTENSION\", not {box!r}",
                        "box")
        email = fields.text("email", required=False)
        if email is not None and not re.fullmatch(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+", email):
            fields.fail(f"'email' must be one e-mail address, not {email!r}", "email")
        values = cls._recording_fields(fields)
        return cls(node_id, fields.node_line, box=box, box_line=fields.line("box"), email=email,
                   **values)

    @property
    def queue(self):
        """The queue whose box this is (None for an agent's box): checked against the queues."""
        kind, _, name = self.box.partition(":")
        return name if kind == "queue" else None

    @property
    def queue_line(self):
        """The line the queue is named on (for the queue check's message)."""
        return self.box_line

    def folder(self):
        kind, _, name = self.box.partition(":")
        return f"voicemail/{kind}/{name}"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def wav_facts(path):
    """(duration ms, size) of the WAV at ``path`` as this host sees it; (None, None) if unseen."""
    try:
        size = os.path.getsize(path)
    except OSError:
        return None, None
    try:
        with wave.open(str(path), "rb") as handle:
            return handle.getnframes() * 1000 // handle.getframerate(), size
    except (OSError, EOFError, wave.Error):
        return None, size


def judge(node, path, variables):
    """The Recorded the switch's variables (``record_ms``, ``silence_hits_exhausted``,
    ``playback_terminator_used``, ``record_file_size``) describe, the file filling gaps."""
    duration = _int(variables.get("record_ms"))
    size = _int(variables.get("record_file_size"))
    if duration is None or size is None:
        file_duration, file_size = wav_facts(path)
        duration = file_duration if duration is None else duration
        size = file_size if size is None else size
    silent_end = (variables.get("silence_hits_exhausted") or "").lower() == "true"
    if variables.get("playback_terminator_used"):
        cause = "terminator"
    elif silent_end:
        cause = "silence"
    else:
        cause = "max_time"
    nothing = (not duration or (size is not None and size <= WAV_HEADER)
               or (silent_end and node.silence_threshold > 0
                   and duration <= node.silence_seconds * 1000 + PACKET_MS))
    return Recorded(str(path), duration, size, "no_input" if nothing else cause)


def greeting_sounds(runner, session, node):
    """The node's recorded prompt, else its text as spoken by the flow's speech cache."""
    if node.prompts or node.text is None:
        return node.prompts
    speech = runner.flow.speech
    if speech is None:
        logger.error("call %s: node %s speaks text, but the flow was loaded without a speech "
                     "cache; saying nothing", session.uuid, node.id)
        return ()
    try:
        return tuple(speech.sounds(node.id, node.language or runner.flow.language,
                                   session.get_var))
    except (SpeechUnavailable, OSError) as exc:
        logger.error("call %s: node %s: cannot speak: %s", session.uuid, node.id, exc)
        return ()


def _partial(session, path):
    """What a hang-up left: the switch's figures if they arrived, else the file's."""
    duration = _int(session.get_var("record_ms"))
    file_duration, size = wav_facts(path)
    return Recorded(path, duration if duration is not None else file_duration, size, "hangup")


def run_recording(runner, session, node, report):
    """Greeting, beep, ``record``; ``report(Recorded)`` emits its event; the next node id.

    CallerHungUp goes on up (the runner ends the flow), after a message begun is reported.
    """
    store = runner.services.get(MESSAGES_SERVICE)
    if store is None:
        logger.error("call %s: node %s records, but this engine has no '%s' service",
                     session.uuid, node.id, MESSAGES_SERVICE)
        return node.no_input
    path = str(store.path(node.folder(), session.uuid))  # one name, whenever the caller leaves
    store.make_folder(path)
    recording = False
    try:
        play_sounds(session, list(greeting_sounds(runner, session, node)))
        if node.beep:
            session.execute("playback", node.beep)
        session.set_var("playback_terminators", node.terminator)
        recording = True
        event = session.execute("record", node.record_arguments(path))
    except CallerHungUp:
        if recording:
            report(_partial(session, path))
        raise
    recorded = judge(node, path, {name: event.variable(name) if event is not None else None
                                  for name in RECORD_VARIABLES})
    if recorded.empty:
        logger.info("call %s: node %s recorded nothing (%s ms)", session.uuid, node.id,
                    recorded.duration_ms)
        return node.no_input
    report(recorded)
    if node.variable:
        session.set_var(node.variable, recorded.path)
        runner.facts(session).variables[node.variable] = recorded.path
    return node.next


@step(RecordNode)
def run_record(runner, session, node):
    """A record node on a call: ``call.message_recorded`` when a message was left."""
    def report(recorded):
        runner.emit(events.MessageRecorded, session, node=node.id, path=recorded.path,
                    duration_ms=recorded.duration_ms, size=recorded.size, cause=recorded.cause)
    return run_recording(runner, session, node, report)


@step(VoicemailNode)
def run_voicemail(runner, session, node):
    """A voicemail node on a call: ``call.voicemail_left`` for the box when a message was left."""
    def report(recorded):
        runner.emit(events.VoicemailLeft, session, node=node.id, box=node.box,
                    path=recorded.path, duration_ms=recorded.duration_ms, size=recorded.size,
                    caller_number=session.caller_number or "", email=node.email)
    return run_recording(runner, session, node, report)


def overflow_box(queue, target):
    """The box a queue's ``voicemail`` overflow fills: ``voicemail`` alone is the queue's own;
    ``voicemail:NAME`` another queue's; ``voicemail:agent:EXT`` (or ``queue:NAME``) as given."""
    if not target:
        return f"queue:{queue}"
    return target if BOX_RE.match(target) else f"queue:{target}"


def overflow_voicemail(runner, session, queue_node, target):
    """A queue's voicemail overflow (fs_cc.ivr.overflow): the beep, a message into the box."""
    node = VoicemailNode(f"{queue_node.id}.voicemail", queue_node.line,
                         box=overflow_box(queue_node.queue, target))
    return run_voicemail(runner, session, node)
