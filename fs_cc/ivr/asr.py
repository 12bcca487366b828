"""Speech recognition (ASR) for menus answered by voice: a pluggable recogniser, off by default.

A menu node may give ``speech`` (the words that choose each option). When the engine runs with a
recogniser (setting ``asr``) and the caller presses no key, the runner records the answer with
FreeSWITCH's ``record`` application and asks the recogniser which option the words chose.

The one offline recogniser is PocketSphinx (PyPI ``pocketsphinx`` 5, whose wheel ships the
US English acoustic model and dictionary): the menu's words become a JSGF grammar, so it listens
for those words only. No Mandarin model ships with it, so it refuses ``zh``. The decoder's score
of the chosen word per frame of speech becomes the confidence; a word below ``min_confidence``
(an unrelated answer forced onto the nearest menu word) chooses nothing.
"""

import abc
import dataclasses
import logging
import math
import os
import subprocess
import tempfile
import threading
import typing
import wave

from fs_cc.errors import ConfigError, FsCcError
from fs_cc.ivr.services import flow_service

logger = logging.getLogger(__name__)

SERVICE = "asr"
SAMPLE_RATE = 16000  # the rate PocketSphinx's en-us acoustic model was trained on
# record <path> <max seconds> <silence threshold> <silence seconds>: a short answer, not a message
RECORD_SECONDS = 4
SILENCE_THRESHOLD = 200
SILENCE_SECONDS = 1


class AsrUnavailable(FsCcError):
    """The recogniser cannot listen for this language or these words."""

    def __init__(self, message, language=None, word=None):
        super().__init__(message)
        self.language = language
        self.word = word


@dataclasses.dataclass(frozen=True)
class Recognition:
    """What the caller said: the text heard, a confidence 0-1, and the option key it chose."""

    text: str = ""
    confidence: float = 0.0
    choice: typing.Optional[str] = None


NOTHING = Recognition()
RECOGNISERS = {}  # name -> Recogniser subclass (the setting ``asr`` names one)


def recogniser_type(cls):
    """Register a Recogniser subclass under its ``name``."""
    RECOGNISERS[cls.name] = cls
    return cls


class Recogniser(abc.ABC):
    """Turns a recorded answer into the menu option its words chose."""

    name: typing.ClassVar[str] = ""

    @abc.abstractmethod
    def available(self):
        """Whether this recogniser can listen at all (its package and model are installed)."""

    @abc.abstractmethod
    def recognise(self, wav_path, language, phrases):
        """A :class:`Recognition` of ``wav_path``; ``phrases`` maps option keys to their words."""


@recogniser_type
class NoRecogniser(Recogniser):
    """Speech recognition off (the default): menus read keys only."""

    name = "none"

    def available(self):
        """Never: there is nothing to listen with."""
        return False

    def recognise(self, wav_path, language, phrases):
        """Nothing is ever recognised."""
        return NOTHING


def make_recogniser(name):
    """The recogniser the setting ``asr`` names; a ConfigError names the choices."""
    cls = RECOGNISERS.get(name)
    if cls is None:
        raise ConfigError(f"setting 'asr': unknown speech recogniser '{name}' "
                          f"(recognisers: {', '.join(sorted(RECOGNISERS))})")
    return cls()


def jsgf_grammar(phrases):
    """A JSGF grammar accepting exactly one of the phrases' words (or word groups)."""
    alternatives = sorted({" ".join(phrase.lower().split())
                           for words in phrases.values() for phrase in words})
    return ("#JSGF V1.0;\ngrammar menu;\npublic <menu> = "
            + " | ".join(f"( {phrase} )" for phrase in alternatives) + ";\n")


def choice_of(text, phrases):
    """The option key whose phrase is ``text`` (the grammar's whole hypothesis), or None."""
    heard = " ".join(text.lower().split())
    for key, words in phrases.items():
        if heard in (" ".join(phrase.lower().split()) for phrase in words):
            return key
    return None


def read_pcm(wav_path, scratch_dir):
    """The 16-bit mono samples of ``wav_path`` at SAMPLE_RATE (converted with sox when needed)."""
    with wave.open(str(wav_path), "rb") as wav:
        if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (SAMPLE_RATE, 1, 2):
            return wav.readframes(wav.getnframes())
    # telephone recordings are 8 kHz: the model needs 16 kHz (the band above 4 kHz stays empty)
    converted = os.path.join(scratch_dir, "asr-16k.wav")
    subprocess.run(["sox", str(wav_path), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                    converted], check=True, capture_output=True, timeout=30)
    with wave.open(converted, "rb") as wav:
        return wav.readframes(wav.getnframes())


@recogniser_type
class PocketSphinxRecogniser(Recogniser):
    """Offline English recognition with PocketSphinx, limited to the menu's words (JSGF).

    One decoder per engine, loaded on first use (about 0.2 s); decoding holds a lock because a
    decoder runs one utterance at a time.
    """

    name = "pocketsphinx"
    languages = ("en",)
    # the chosen word's mean log score per frame, mapped to 0-1 as 1 + score / SCORE_SPAN:
    # espeak-ng's "sales" and "support" score about -3.3 per frame (0.6), an unrelated
    # "good morning" forced onto "support" about -6.4 (0.2)
    SCORE_SPAN = 8.0

    def __init__(self, min_confidence=0.5):
        self.min_confidence = min_confidence
        self._decoder = None
        self._grammars = {}  # grammar text -> search name in the decoder
        self._lock = threading.Lock()

    def available(self):
        """Whether the pocketsphinx package (with its bundled model) imports."""
        try:
            import pocketsphinx  # noqa: F401 (only probing for the optional extra)
        except ImportError:
            return False
        return True

    def check(self, language, phrases):
        """Raise AsrUnavailable for a language without a model or a word the dictionary lacks."""
        if language not in self.languages:
            raise AsrUnavailable(
                f"pocketsphinx recognises English only: it ships no model for '{language}' "
                f"(a Mandarin acoustic model, dictionary and language model are not included "
                f"in the package)", language=language)
        decoder = self._loaded()
        for words in phrases.values():
            for phrase in words:
                for word in phrase.lower().split():
                    if decoder.lookup_word(word) is None:
                        raise AsrUnavailable(f"pocketsphinx does not know the word '{word}' "
                                             f"(it is not in its English dictionary)", word=word)

    def recognise(self, wav_path, language, phrases):
        """The option the caller's words chose, or a Recognition without a choice."""
        self.check(language, phrases)
        with tempfile.TemporaryDirectory(prefix="fs-cc-asr-") as scratch:
            pcm = read_pcm(wav_path, scratch)
        if not pcm:  # a silent caller: the switch leaves a header-only WAV
            return NOTHING
        with self._lock:
            decoder = self._loaded()
            decoder.activate_search(self._search(decoder, jsgf_grammar(phrases)))
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
            segments = [(seg.word, seg.ascore, seg.start_frame, seg.end_frame)
                        for seg in decoder.seg()]
        text = hypothesis.hypstr.strip() if hypothesis is not None else ""
        if not text:
            return NOTHING
        confidence = self._confidence(segments)
        choice = choice_of(text, phrases) if confidence >= self.min_confidence else None
        return Recognition(text, confidence, choice)

    def _confidence(self, segments):
        """1 + (mean log acoustic score per frame of the words) / SCORE_SPAN, within 0-1."""
        words = [(ascore, end - start + 1) for word, ascore, start, end in segments
                 if not word.startswith(("<", "[")) and word != "(NULL)"]
        frames = sum(count for _, count in words)
        if not frames:
            return 0.0
        # the binding hands scores back as probabilities: take the logarithm again
        log_score = sum(math.log(max(ascore, 1e-300)) for ascore, _ in words)
        return max(0.0, min(1.0, 1.0 + log_score / frames / self.SCORE_SPAN))

    def _loaded(self):
        if self._decoder is None:
            try:
                from pocketsphinx import Decoder  # the optional extra "asr"
            except ImportError as exc:
                raise AsrUnavailable("speech recognition 'pocketsphinx' needs the package: "
                                     "pip install 'fs-cc[asr]'") from exc
            self._decoder = Decoder(lm=None, loglevel="ERROR")
        return self._decoder

    def _search(self, decoder, grammar):
        name = self._grammars.get(grammar)
        if name is None:
            name = self._grammars[grammar] = f"menu{len(self._grammars)}"
            decoder.add_jsgf_string(name, grammar)
        return name


@flow_service(SERVICE)
def build_recogniser(engine):
    """The engine's recogniser (settings.asr; "none" by default)."""
    recogniser = make_recogniser(engine.settings.asr)
    if recogniser.name != "none" and not recogniser.available():
        raise ConfigError(f"setting 'asr' is '{recogniser.name}' but its package is not "
                          f"installed: pip install 'fs-cc[asr]'")
    return recogniser


def speech_in_use(flow, recogniser):
    """Warn once per flow when its menus give ``speech`` that no recogniser will hear."""
    nodes = [node.id for node in flow.nodes.values() if node.type_name == "menu" and node.speech]
    if nodes and (recogniser is None or not recogniser.available()):
        logger.warning("flow %s: speech recognition is off, so the 'speech' of menu %s is "
                       "ignored (callers press keys)", flow.name, ", ".join(nodes))
        return False
    return bool(nodes)


def speech_field(fields, options):
    """A menu's optional ``speech``: option key -> the words (a word or a list) that choose it."""
    raw, present = fields._get("speech", False, None)
    if not present:
        return {}
    if not isinstance(raw, dict) or not raw:
        fields.fail("'speech' must map option keys to words, e.g. '1: [sales, buy]'", "speech")
    speech = {}
    for key, words in raw.items():
        line = raw.line_of(key) if hasattr(raw, "line_of") else fields.line("speech")
        digit = str(key) if isinstance(key, (str, int)) and not isinstance(key, bool) else key
        where = f"node '{fields.node_id}' (menu): 'speech'"
        if digit not in options:
            raise ConfigError(f"{where} names option {digit!r}, which the menu does not have "
                              f"(options: {', '.join(options)})", fields.source, line)
        items = [words] if isinstance(words, str) else words
        if not isinstance(items, list) or not items or not all(
                isinstance(word, str) and word.strip() for word in items):
            raise ConfigError(f"{where}: option '{digit}' must give a word or a list of words",
                              fields.source, line)
        speech[digit] = tuple(word.strip() for word in items)
    return speech


def record_arguments(path):
    """The ``record`` argument for one short spoken answer."""
    return f"{path} {RECORD_SECONDS} {SILENCE_THRESHOLD} {SILENCE_SECONDS}"


def voice_choice(runner, session, node, language):
    """Record the caller's answer at ``node`` and return the option key it chose, or None.

    The recording lives in a temporary directory this host shares with the switch (one
    machine); it is removed once recognised.
    """
    recogniser = runner.services.get(SERVICE)
    if not node.speech or recogniser is None or not recogniser.available():
        return None
    with tempfile.TemporaryDirectory(prefix="fs-cc-answer-") as folder:
        os.chmod(folder, 0o777)  # FreeSWITCH may run as another user
        path = os.path.join(folder, f"{session.uuid}-{node.id}.wav")
        session.execute("record", record_arguments(path))
        if not os.path.exists(path):
            logger.info("call %s: menu %s recorded nothing", session.uuid, node.id)
            return None
        try:
            heard = recogniser.recognise(path, language, node.speech)
        except AsrUnavailable as exc:
            logger.error("call %s: menu %s cannot be answered by voice: %s", session.uuid,
                         node.id, exc)
            return None
    logger.info("call %s: menu %s heard %r (confidence %.2f): option %s", session.uuid,
                node.id, heard.text, heard.confidence, heard.choice)
    return heard.choice
