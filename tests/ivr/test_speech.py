"""The TTS cache with the real espeak-ng and sox: made once, reused, remade on a new text."""

import os
import wave

import pytest

from fs_cc.catalog import Catalog
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.flows import build_flow_table
from fs_cc.ivr import parse_flow
from fs_cc.ivr.runner import FlowOutcome, FlowRunner
from fs_cc.ivr.speech import (EspeakEngine, PromptCache, SpeechEngine, SpeechUnavailable,
                              prepare_speech, split_text)
from tests.ivr.doubles import RecordingAcd, ScriptedSession


def wav_format(path):
    """(rate, channels, bytes a sample, frames) of a WAV file."""
    with wave.open(path, "rb") as audio:
        return (audio.getframerate(), audio.getnchannels(), audio.getsampwidth(),
                audio.getnframes())


@pytest.mark.parametrize("language, text", [("zh", "您好，欢迎致电"), ("en", "Welcome")])
def test_given_text_when_spoken_then_8khz_mono_16bit_wav_under_tts(tmp_path, language, text):
    cache = PromptCache(tmp_path)
    name = cache.speak(text, language)
    assert name.startswith("tts/") and name.endswith(".wav")
    rate, channels, width, frames = wav_format(str(tmp_path / name))
    assert (rate, channels, width) == (8000, 1, 2)
    assert frames > 8000 * 0.3  # some speech, not an empty file


def test_given_same_text_when_spoken_again_then_file_reused_not_remade(tmp_path):
    cache = PromptCache(tmp_path)
    name = cache.speak("您的积分是", "zh")
    path = tmp_path / name
    os.utime(path, (1_000_000, 1_000_000))
    assert PromptCache(tmp_path).speak("您的积分是", "zh") == name
    assert os.stat(path).st_mtime == 1_000_000
    assert os.listdir(tmp_path / "tts") == [os.path.basename(name)]


def test_given_text_voice_or_rate_changes_when_spoken_then_new_file(tmp_path):
    cache = PromptCache(tmp_path)
    first = cache.speak("Welcome", "en")
    assert cache.speak("Welcome back", "en") != first
    assert cache.sound_name("Welcome", "zh") != first
    assert PromptCache(tmp_path, rate=120).sound_name("Welcome", "en") != first
    assert len(os.listdir(tmp_path / "tts")) == 2


def test_given_unknown_language_when_spoken_then_speech_unavailable(tmp_path):
    with pytest.raises(SpeechUnavailable, match="no voice for language 'fr'"):
        PromptCache(tmp_path).speak("Bonjour", "fr")


def test_given_espeak_missing_when_flow_prepared_then_config_error_at_node_line(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    flow = parse_flow(FLOW, "flows/t.yaml")
    with pytest.raises(ConfigError) as caught:
        prepare_speech(flow, PromptCache(tmp_path))
    assert caught.value.path == "flows/t.yaml" and caught.value.line == 5
    assert "'espeak-ng', which is not installed" in str(caught.value)


FLOW = """\
name: t
language: zh
start: hello
nodes:
  hello:
    type: play
    text: "您好，欢迎致电"
    next: points
  points:
    type: play
    text: "您的积分是 {points} 分"
    barge_in: false
    next: english
  english:
    type: play
    text: Goodbye
    language: en
    next: recorded
  recorded:
    type: play
    text: "这条有录音"
    prompt: ivr/ivr-welcome_to_freeswitch.wav
    next: amount
  amount:
    type: say
    as: money
    value: "12.50"
    next: bye
  bye: {type: hangup}
"""


def test_given_flow_when_prepared_then_every_fixed_text_spoken_at_load(tmp_path):
    flow = parse_flow(FLOW, "t.yaml")
    cache = PromptCache(tmp_path)
    speech = prepare_speech(flow, cache)
    assert flow.speech is speech
    assert speech.pieces["hello"] == [("file", cache.sound_name("您好，欢迎致电", "zh"))]
    assert speech.pieces["points"] == [("file", cache.sound_name("您的积分是", "zh")),
                                       ("var", "points"), ("file", cache.sound_name("分", "zh"))]
    assert speech.pieces["english"] == [("file", cache.sound_name("Goodbye", "en"))]
    assert "recorded" not in speech.pieces  # the recording overrides the text
    assert speech.pieces["amount"] == [("file", cache.sound_name("十二元五角", "zh"))]
    for pieces in speech.pieces.values():
        for kind, name in pieces:
            if kind == "file":
                assert wav_format(str(tmp_path / name))[:3] == (8000, 1, 2)
    assert len(os.listdir(tmp_path / "tts")) == 5


def test_given_split_text_then_fixed_parts_and_variables_in_order():
    assert split_text("您的积分是 {points} 分") == [("text", "您的积分是"), ("var", "points"),
                                                ("text", "分")]
    assert split_text("{a}{b}") == [("var", "a"), ("var", "b")]


class UpperEngine(SpeechEngine):
    """Another engine: writes espeak's English of the text in capitals (the interface works)."""

    name = "upper"
    voices = {"en": "en-us"}

    def synthesise(self, text, voice, rate, target):
        EspeakEngine().synthesise(text.upper(), voice, rate, target)


def test_given_another_engine_when_plugged_then_cache_uses_it_and_names_differ(tmp_path):
    cache = PromptCache(tmp_path, engine=UpperEngine())
    name = cache.speak("hello", "en")
    assert name != PromptCache(tmp_path).sound_name("hello", "en")
    assert wav_format(str(tmp_path / name))[0] == 8000
    with pytest.raises(SpeechUnavailable):
        cache.speak("你好", "zh")


RUN_FLOW = """\
name: points
language: zh
start: hello
nodes:
  hello:
    type: play
    text: "您的积分是 {points}"
    barge_in: false
    next: balance
  balance:
    type: say
    as: money
    variable: balance
    language: en
    barge_in: true
    next: bye
  bye: {type: hangup}
"""


def test_given_play_text_and_say_nodes_when_run_then_cached_files_played(tmp_path):
    flow = parse_flow(RUN_FLOW, "points.yaml")
    cache = PromptCache(tmp_path)
    prepare_speech(flow, cache)
    made_at_load = set(os.listdir(tmp_path / "tts"))
    session = ScriptedSession()
    session.variables.update(points="1200", balance="12.50")
    playbacks = []
    session.set_var = lambda name, value: playbacks.append(("set", name, value))  # in order
    result = FlowRunner(flow, RecordingAcd(), RecordingEmitter()).run(session)

    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
    fixed, value = cache.sound_name("您的积分是", "zh"), cache.sound_name("一千二百", "zh")
    money = cache.sound_name("twelve yuan and fifty cents", "en")
    assert session.executed[1:] == [("playback", f"file_string://{fixed}!{value}"),
                                    ("playback", money)]
    assert playbacks == [("set", "playback_terminators", "none"),
                         ("set", "playback_terminators", "any")]
    assert made_at_load == {os.path.basename(fixed)}  # values are spoken when first heard
    for name in (fixed, value, money):
        assert wav_format(str(tmp_path / name))[:3] == (8000, 1, 2)


def test_given_catalog_flow_with_text_when_flow_table_built_then_prompts_spoken_at_load(tmp_path):
    prefix = tmp_path / "sounds" / "en/us/callie"
    prefix.mkdir(parents=True)
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "points.yaml").write_text(RUN_FLOW, encoding="utf-8")
    catalog = Catalog.build([], [], {"8000": "points"}, "points", 1)

    table = build_flow_table(catalog, flows / "points.yaml", RecordingAcd(), RecordingEmitter(),
                             str(prefix))

    speech = table.flows["points"].speech
    fixed = PromptCache(prefix).sound_name("您的积分是", "zh")
    assert speech.pieces["hello"] == [("file", fixed), ("var", "points")]
    assert wav_format(str(prefix / fixed))[:3] == (8000, 1, 2)


READING_FLOW = """\
name: card
language: zh
start: menu
nodes:
  menu:
    type: menu
    text: "查询积分请按一"
    options: {1: card}
    default: bye
  card:
    type: collect
    text: "请输入您的会员卡号 {greeting}"
    variable: card_number
    min_length: 4
    next: bye
    default: bye
  recorded:
    type: menu
    prompt: ivr/ivr-welcome.wav
    text: "transcript only"
    options: {1: bye}
    default: bye
  bye: {type: hangup}
"""


def test_given_menu_and_collect_with_text_when_run_then_the_spoken_prompt_reads_the_keys(
        tmp_path):
    # a key pressed during the spoken prompt reaches the menu: it is play_and_get_digits' prompt
    flow = parse_flow(READING_FLOW, "card.yaml")
    cache = PromptCache(tmp_path)
    prepare_speech(flow, cache)
    menu, card = cache.sound_name("查询积分请按一", "zh"), cache.sound_name("请输入您的会员卡号", "zh")
    assert set(os.listdir(tmp_path / "tts")) == {os.path.basename(menu), os.path.basename(card)}
    assert flow.node("recorded").speech_texts("zh") == ()  # a recording wins over its text

    session = ScriptedSession(keys=["1", "6200"])
    session.variables.update(greeting="您好")
    result = FlowRunner(flow, RecordingAcd(), RecordingEmitter()).run(session)

    assert result.outcome is FlowOutcome.FLOW_HUNG_UP
    prompts = [arg.split(" ")[5] for app, arg in session.executed if app == "play_and_get_digits"]
    assert prompts == [menu, f"file_string://{card}!{cache.sound_name('您好', 'zh')}"]
    assert session.variables["card_number"] == "6200"


def test_given_menu_without_prompt_or_text_when_loaded_then_refused_at_its_line():
    with pytest.raises(ConfigError) as error:
        parse_flow(READING_FLOW.replace('    text: "查询积分请按一"\n', ""), "card.yaml")
    assert error.value.line == 5
    assert "missing required field 'prompt'" in str(error.value)
