"""Menus answered by voice: real recognition of spoken words, the runner, the flow's ``speech``."""

import logging
import os
import pathlib
import subprocess
import types
import wave

import pytest

from fs_cc import events, journal
from fs_cc.config import load_settings
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.ivr import parse_flow
from fs_cc.ivr.asr import (NOTHING, AsrUnavailable, NoRecogniser, PocketSphinxRecogniser,
                           build_recogniser, jsgf_grammar, make_recogniser, record_arguments)
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from fs_cc.ivr.validate import validate_file
from tests.ivr.doubles import AnsweringAcd, ScriptedSession

PHRASES = {"1": ["sales", "buy"], "2": ["support", "help"]}
VOICE_FLOW = """\
name: voice
start: menu
nodes:
  menu:
    type: menu
    prompt: ivr/ivr-welcome.wav
    options: {1: sales, 2: support}
    speech: {1: [sales, buy], 2: [support, help]}
    max_attempts: 2
    default: bye
  sales: {type: queue, queue: sales}
  support: {type: queue, queue: support}
  bye: {type: hangup}
"""


def spoken(text, target):
    """``text`` spoken by espeak-ng into ``target`` (its own 22 kHz WAV: the recogniser
    converts it to 16 kHz with sox, as it does a recording at the call's rate)."""
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(target), text],
                   check=True, capture_output=True, timeout=60)
    return target


@pytest.fixture(scope="module")
def recogniser():
    return PocketSphinxRecogniser()


@pytest.fixture(scope="module")
def answers(tmp_path_factory):
    """WAV files of spoken answers by text."""
    folder = tmp_path_factory.mktemp("answers")
    texts = ("sales", "support", "help", "weather", "good morning")
    return {text: spoken(text, folder / f"{text.replace(' ', '_')}.wav") for text in texts}


@pytest.mark.parametrize("said, key", [("sales", "1"), ("support", "2"), ("help", "2")])
def test_given_a_spoken_menu_word_when_recognised_then_its_option_is_chosen(recogniser, answers,
                                                                           said, key):
    heard = recogniser.recognise(answers[said], "en", PHRASES)

    assert heard.text == said
    assert heard.choice == key
    assert heard.confidence >= recogniser.min_confidence


@pytest.mark.parametrize("said", ["weather", "good morning"])
def test_given_an_unrelated_answer_when_recognised_then_no_option_is_chosen(recogniser, answers,
                                                                           said):
    assert recogniser.recognise(answers[said], "en", PHRASES).choice is None


def test_given_chinese_when_recognised_then_refused_naming_the_missing_model(recogniser,
                                                                            answers):
    with pytest.raises(AsrUnavailable, match="English only.*'zh'.*Mandarin") as caught:
        recogniser.recognise(answers["sales"], "zh", {"1": ["销售"]})
    assert caught.value.language == "zh"


def test_given_a_word_outside_the_dictionary_when_recognised_then_refused_naming_it(recogniser,
                                                                                   answers):
    with pytest.raises(AsrUnavailable, match="'zzqxv'") as caught:
        recogniser.recognise(answers["sales"], "en", {"1": ["zzqxv"]})
    assert caught.value.word == "zzqxv"


def test_given_phrases_when_grammar_built_then_one_alternative_per_phrase():
    grammar = jsgf_grammar({"1": ["Sales", "buy  now"], "2": ["support"]})
    assert grammar.endswith("public <menu> = ( buy now ) | ( sales ) | ( support );\n")


def test_given_no_recogniser_then_it_hears_nothing(answers):
    off = make_recogniser("none")
    assert isinstance(off, NoRecogniser)
    assert not off.available()
    assert off.recognise(answers["sales"], "en", PHRASES) is NOTHING


def test_given_an_unknown_recogniser_name_then_config_error_lists_the_choices():
    with pytest.raises(ConfigError, match="unknown speech recogniser 'vosk'.*none, pocketsphinx"):
        make_recogniser("vosk")


@pytest.mark.parametrize("value, expected", [(None, NoRecogniser),
                                             ("pocketsphinx", PocketSphinxRecogniser)])
def test_given_the_asr_setting_when_engine_builds_services_then_that_recogniser(value, expected):
    env = {} if value is None else {"FS_CC_ASR": value}
    engine = types.SimpleNamespace(settings=load_settings(env=env))
    assert type(build_recogniser(engine)) is expected


class SpeakingSession(ScriptedSession):
    """A scripted call whose caller, at each ``record``, says the next of ``answers`` (a WAV
    file copied where FreeSWITCH would write the recording; None: says nothing)."""

    def __init__(self, answers, **kwargs):
        super().__init__(**kwargs)
        self.answers = list(answers)
        self.recorded = []  # paths the caller was recorded to, and whether they existed after

    def execute(self, app, arg=None, *, wait=True, timeout=None):
        event = super().execute(app, arg, wait=wait, timeout=timeout)
        if app == "record":
            path = arg.split()[0]
            answer = self.answers.pop(0) if self.answers else None
            if answer is not None:
                pathlib.Path(path).write_bytes(pathlib.Path(answer).read_bytes())
            self.recorded.append(path)
        return event


def run_voice(session, services):
    emitter = RecordingEmitter()
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000", caller_number="5551000")
    acd = AnsweringAcd(session)  # answered and ended: no wait for a hangup the double never sends
    result = FlowRunner(parse_flow(VOICE_FLOW), acd, emitter, services=services).run(session)
    return result, journal.fold(emitter.events), acd, emitter


def test_given_asr_on_when_caller_says_support_then_support_queue_as_if_keyed(recogniser,
                                                                             answers):
    session = SpeakingSession([answers["support"]])
    result, record, acd, emitter = run_voice(session, {"asr": recogniser})

    assert result.outcome is FlowOutcome.QUEUED
    assert acd.enqueued == [("call-1", "support")]
    assert record.ivr_path == ["menu", "menu:2", "support"]
    inputs = [e for e in emitter.events if isinstance(e, events.IvrInput)]
    assert [(e.input, e.result) for e in inputs] == [("2", "option")]
    path = session.recorded[0]
    assert session.executed[2] == ("record", record_arguments(path))
    assert record_arguments(path) == f"{path} 4 200 1"
    assert not os.path.exists(path)  # the answer is removed once recognised


def test_given_asr_on_when_caller_says_something_else_then_retry_then_voice_choice(recogniser,
                                                                                  answers):
    session = SpeakingSession([answers["weather"], answers["sales"]])
    result, record, acd, _ = run_voice(session, {"asr": recogniser})

    assert record.ivr_path == ["menu", "menu:timeout", "menu:1", "sales"]
    assert acd.enqueued == [("call-1", "sales")]
    assert session.apps() == ["answer", "play_and_get_digits", "record", "play_and_get_digits",
                              "record"]


def test_given_asr_on_when_caller_presses_a_key_then_nothing_is_recorded(recogniser):
    session = SpeakingSession([], keys=["1"])
    _, record, _, _ = run_voice(session, {"asr": recogniser})

    assert record.ivr_path == ["menu", "menu:1", "sales"]
    assert "record" not in session.apps()


def test_given_asr_on_when_caller_is_silent_then_timeouts_then_default(recogniser):
    session = SpeakingSession([None, None])
    result, record, _, _ = run_voice(session, {"asr": recogniser})

    assert record.ivr_path == ["menu", "menu:timeout", "menu:timeout", "bye"]
    assert result.outcome is FlowOutcome.FLOW_HUNG_UP


@pytest.mark.parametrize("services", [{}, {"asr": NoRecogniser()}])
def test_given_asr_off_when_flow_loads_then_speech_ignored_with_a_warning(services, caplog,
                                                                          answers):
    caplog.set_level(logging.WARNING, logger="fs_cc.ivr.asr")
    session = SpeakingSession([answers["sales"]], keys=["", ""])
    _, record, _, _ = run_voice(session, services)

    assert "speech recognition is off, so the 'speech' of menu menu is ignored" in caplog.text
    assert "record" not in session.apps()
    assert record.ivr_path == ["menu", "menu:timeout", "menu:timeout", "bye"]


def test_given_menu_speech_when_parsed_then_words_per_option():
    node = parse_flow(VOICE_FLOW).node("menu")
    assert node.speech == {"1": ("sales", "buy"), "2": ("support", "help")}
    assert parse_flow(VOICE_FLOW.replace("    speech: {1: [sales, buy], 2: [support, help]}\n",
                                         "")).node("menu").speech == {}


@pytest.mark.parametrize("speech, message", [
    ("{1: [sales], 3: [billing]}",
     "8: node 'menu' (menu): 'speech' names option '3', which the menu does not have "
     "(options: 1, 2)"),
    ("{1: [sales, 7]}", "8: node 'menu' (menu): 'speech': option '1' must give a word or a "
                        "list of words"),
    ("[sales, support]", "8: node 'menu' (menu): 'speech' must map option keys to words"),
])
def test_given_bad_speech_when_parsed_then_error_at_its_line(speech, message):
    text = VOICE_FLOW.replace("{1: [sales, buy], 2: [support, help]}", speech)
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "voice.yaml")
    assert f"voice.yaml:{message}" in str(caught.value)


def test_given_bad_speech_when_validated_then_file_line_and_message(tmp_path):
    path = tmp_path / "voice.yaml"
    path.write_text(VOICE_FLOW.replace("2: [support, help]", "4: [billing]"))

    messages = [str(m) for m in validate_file(str(path), {"sales", "support"})]

    assert any(m.startswith(f"{path}:8:") and "'speech' names option '4'" in m
               for m in messages), messages


def test_given_a_header_only_recording_when_recognised_then_nothing(recogniser, tmp_path):
    # a real switch's record on a silent caller leaves a 44-byte WAV (freeswitch-semantics 11)
    path = tmp_path / "silent.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
    assert path.stat().st_size == 44

    heard = recogniser.recognise(path, "en", PHRASES)

    assert heard.choice is None
    assert heard.text == ""
