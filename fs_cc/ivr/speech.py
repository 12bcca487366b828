"""Text prompts as sound files: a pluggable speech engine and a cache of WAV files by text.

A flow's text prompts are synthesised when the flow is loaded (:func:`prepare_speech`), never
while a caller waits, into ``<sound_prefix>/tts/<hash>.wav``: the hash covers the engine, the
voice, the rate and the text, so an unchanged prompt reuses its file and a changed text gets a new
one. The files are named relative to the switch's ``sound_prefix``, so FreeSWITCH reads them as it
reads any shipped prompt. Only the values of prompt variables (``{points}``) are spoken at run
time, once per distinct value (see :class:`FlowSpeech`).
"""

import dataclasses
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
import typing

from fs_cc.errors import ConfigError, FsCcError
from fs_cc.ivr.nodes_say import SayError, say_text, value_words

logger = logging.getLogger(__name__)

DEFAULT_RATE = 150  # espeak-ng words per minute
TTS_SUBDIR = "tts"
WAV_RATE = "8000"
VARIABLE_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")


class SpeechUnavailable(FsCcError):
    """The speech engine cannot run here (a program is missing) or cannot speak a language."""

    def __init__(self, message, program=None):
        super().__init__(message)
        self.program = program


def espeak_wav(text, voice, target, rate=DEFAULT_RATE):
    """Speak ``text`` into ``target``: espeak-ng's 22 kHz speech, resampled to 8 kHz mono 16-bit."""
    target = str(target)
    os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
    with tempfile.NamedTemporaryFile(suffix=".wav") as raw:
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(rate), "-w", raw.name, text],
                       check=True, capture_output=True)
        subprocess.run(["sox", raw.name, "-r", WAV_RATE, "-c", "1", "-b", "16", target,
                        "pad", "0.1", "0.2"], check=True, capture_output=True)


class SpeechEngine:
    """What the cache needs from a text-to-speech engine; subclass it to add another one."""

    name = ""
    voices: typing.Mapping[str, str] = {}  # language -> the engine's voice

    def voice(self, language):
        """The engine's voice for ``language``; SpeechUnavailable when it has none."""
        try:
            return self.voices[language]
        except KeyError:
            raise SpeechUnavailable(f"speech engine {self.name} has no voice for language "
                                    f"'{language}' (languages: {', '.join(self.voices)})") from None

    def check(self):
        """Raise SpeechUnavailable when the engine cannot run on this host."""

    def synthesise(self, text, voice, rate, target):
        """Write ``text`` spoken by ``voice`` at ``rate`` to the WAV file ``target``."""
        raise NotImplementedError


class EspeakEngine(SpeechEngine):
    """Debian's espeak-ng (Mandarin ``cmn`` and English voices), resampled by sox."""

    name = "espeak-ng"
    voices = {"en": "en-us", "zh": "cmn"}
    PROGRAMS = ("espeak-ng", "sox")

    def check(self):
        """Both programs must be on the PATH."""
        for program in self.PROGRAMS:
            if shutil.which(program) is None:
                raise SpeechUnavailable(f"text prompts need the program '{program}', which is "
                                        f"not installed (Debian: apt-get install espeak-ng sox)",
                                        program)

    def synthesise(self, text, voice, rate, target):
        """espeak-ng then sox, as freeswitch_conf/sounds/generate.py does for shipped prompts."""
        espeak_wav(text, voice, target, rate)


def tts_dir(sound_prefix):
    """The folder of spoken prompts under ``sound_prefix``."""
    return os.path.join(str(sound_prefix), TTS_SUBDIR)


class PromptCache:
    """WAV files of spoken texts under ``<sound_prefix>/tts``, one per text, voice and rate.

    ``url`` (the prompt_url setting): a switch on another machine plays the files through
    mod_http_cache from there (``http_cache://<url>/<hash>.wav``, fs_cc.control.prompts serves
    them); empty, it reads ``tts/<hash>.wav`` under its own sound_prefix.
    """

    def __init__(self, sound_prefix, engine=None, rate=DEFAULT_RATE, url=""):
        self.prefix = str(sound_prefix)
        self.engine = engine or EspeakEngine()
        self.rate = rate
        self.url = (url or "").rstrip("/")
        self._checked = False

    def playable(self, sound_name):
        """What the switch is told to play for the file ``sound_name`` (tts/<hash>.wav)."""
        if not self.url:
            return sound_name
        return f"http_cache://{self.url}/{os.path.basename(sound_name)}"

    def sound_name(self, text, language):
        """The file (relative to the sound_prefix) that holds ``text`` in ``language``."""
        voice = self.engine.voice(language)
        key = "\0".join((self.engine.name, voice, str(self.rate), text))
        return f"{TTS_SUBDIR}/{hashlib.sha256(key.encode('utf-8')).hexdigest()[:24]}.wav"

    def path(self, sound_name):
        """Where ``sound_name`` is on this host."""
        return os.path.join(self.prefix, sound_name)

    def speak(self, text, language):
        """What to play for ``text`` (its sound name, or its URL: ``playable``), synthesising it
        first unless its file is already there."""
        name = self.sound_name(text, language)
        target = self.path(name)
        if os.path.exists(target):
            return self.playable(name)
        if not self._checked:
            self.engine.check()
            self._checked = True
        # write beside, then rename: a switch reading the name never sees half a file
        partial = f"{target}.{os.getpid()}.part.wav"
        try:
            self.engine.synthesise(text, self.engine.voice(language), self.rate, partial)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        logger.info("spoke %r (%s) into %s", text, language, target)
        return self.playable(name)


def split_text(text):
    """``text`` as pieces: ``("text", ...)`` for fixed words, ``("var", name)`` for ``{name}``."""
    parts, at = [], 0
    for match in VARIABLE_RE.finditer(text):
        if text[at:match.start()].strip():
            parts.append(("text", text[at:match.start()].strip()))
        parts.append(("var", match.group(1)))
        at = match.end()
    if text[at:].strip():
        parts.append(("text", text[at:].strip()))
    return parts


@dataclasses.dataclass
class FlowSpeech:
    """A flow's spoken prompts: node id -> its pieces, fixed ones already made into sound names.

    A piece is ``("file", sound name)`` or ``("var", variable name)``; a variable's value is turned
    into words (fs_cc.ivr.nodes_say) and spoken when the call reaches it, once per distinct value.
    """

    cache: PromptCache
    pieces: typing.Dict[str, list] = dataclasses.field(default_factory=dict)

    def sounds(self, node_id, language, get_var):
        """The sound names of node ``node_id`` for a call whose variables ``get_var`` reads."""
        names = []
        for kind, value in self.pieces.get(node_id, ()):
            if kind == "file":
                names.append(value)
                continue
            text = value_words(get_var(value) or "", language)
            if text:
                names.append(self.cache.speak(text, language))
        return names


def prepare_speech(flow, cache):
    """Synthesise every fixed text of ``flow`` now and attach its FlowSpeech (``flow.speech``).

    Raises ConfigError naming the file and the node's line when the engine cannot speak.
    """
    speech = FlowSpeech(cache)
    for node in flow.nodes.values():
        language = getattr(node, "language", None) or flow.language
        texts = node.speech_texts(language)
        if not texts:
            continue
        pieces = []
        try:
            for text in texts:
                for kind, value in split_text(text):
                    pieces.append(("file", cache.speak(value, language)) if kind == "text"
                                  else ("var", value))
        except SpeechUnavailable as exc:
            raise ConfigError(f"node '{node.id}' ({node.type_name}): cannot speak its text: {exc}",
                              flow.source, node.line) from exc
        except (subprocess.CalledProcessError, OSError) as exc:
            raise ConfigError(f"node '{node.id}' ({node.type_name}): speaking its text failed: "
                              f"{exc}", flow.source, node.line) from exc
        speech.pieces[node.id] = pieces
    flow.speech = speech
    return speech


def play_sounds(session, sounds, barge_in=None):
    """Play ``sounds`` as one playback, so a key that stops it stops all of it.

    ``barge_in`` sets ``playback_terminators`` first: mod_dptools' playback stops on a key in it
    (``any``: every key; ``none``: no key); unset, FreeSWITCH stops on ``*`` only.
    """
    if not sounds:
        return
    if barge_in is not None:
        session.set_var("playback_terminators", "any" if barge_in else "none")
    session.execute("playback", sounds[0] if len(sounds) == 1
                    else "file_string://" + "!".join(sounds))


def spoken_prompts(session, node, flow):
    """What a node with ``prompts`` and ``text`` plays: its recorded prompts, else its text spoken
    (the variables of this call's read now)."""
    if node.prompts or node.text is None:
        return list(node.prompts)
    return _spoken(session, node, flow, lambda speech, language:
                   speech.sounds(node.id, language, session.get_var))


def play_step(session, node, flow):
    """A play node on a call: its recorded prompts, else its spoken text; returns ``next``."""
    play_sounds(session, spoken_prompts(session, node, flow), node.barge_in)
    return node.next


def say_step(session, node, flow):
    """A say node on a call: its literal's file, or its variable's value read and spoken now."""
    def sounds(speech, language):
        if node.value is not None:
            return speech.sounds(node.id, language, session.get_var)
        value = session.get_var(node.variable)
        try:
            return [speech.cache.speak(say_text(node.kind, value, language), language)]
        except SayError as exc:
            logger.warning("call %s: say node %s: variable %s: %s; saying nothing",
                           session.uuid, node.id, node.variable, exc)
            return []
    play_sounds(session, _spoken(session, node, flow, sounds), node.barge_in)
    return node.next


def _spoken(session, node, flow, sounds):
    speech = flow.speech
    if speech is None:
        logger.error("call %s: flow %s node %s speaks text, but the flow was loaded without a "
                     "speech cache; saying nothing", session.uuid, flow.name, node.id)
        return []
    language = node.language or flow.language
    try:
        return sounds(speech, language)
    except (SpeechUnavailable, subprocess.CalledProcessError, OSError) as exc:
        logger.error("call %s: node %s: cannot speak: %s", session.uuid, node.id, exc)
        return []
