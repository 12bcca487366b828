"""The sounds a flow names must exist where the switch looks for them, or the flow is refused."""

import os
import shutil

import pytest

from fs_cc.errors import ConfigError
from fs_cc.ivr import load_flow, parse_flow
from fs_cc.ivr.sounds import check_sounds, flow_sounds, missing_sounds
from fs_cc.sounds import SHIPPED_SOUNDS, candidates, sound_prefix

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOWS = sorted(os.path.join(REPO, "ivr_flows", name) for name in os.listdir(os.path.join(REPO, "ivr_flows"))
               if name.endswith((".yaml", ".yml")))

FLOW = """\
name: t
start: hello
nodes:
  hello:
    type: play
    prompt: ivr/hello.wav
    next: menu
  menu:
    type: menu
    prompt:
      - "tone_stream://%(200,0,600)"
      - digits/1.wav
    invalid_prompt: silence_stream://250
    options: {1: q}
    default: q
  q:
    type: queue
    queue: sales
"""


def test_given_shipped_sounds_when_every_flow_checked_then_none_is_missing():
    assert FLOWS
    for path in FLOWS:
        flow = load_flow(path)
        assert flow_sounds(flow), f"{path} plays no file at all?"
        check_sounds(flow, sound_prefix(SHIPPED_SOUNDS))


def test_given_flow_when_sounds_listed_then_files_only_with_their_nodes():
    flow = parse_flow(FLOW, "t.yaml")

    assert [(s, n) for s, n, _ in flow_sounds(flow)] == [("ivr/hello.wav", "hello"),
                                                        ("digits/1.wav", "menu")]


def test_given_a_sound_missing_when_checked_then_refused_naming_file_line_and_sound(tmp_path):
    prefix = tmp_path / "en/us/callie"
    (prefix / "digits").mkdir(parents=True)
    (prefix / "digits/1.wav").write_bytes(b"RIFF")
    flow = parse_flow(FLOW, "flows/t.yaml")

    with pytest.raises(ConfigError) as caught:
        check_sounds(flow, str(prefix))

    assert str(caught.value).startswith("flows/t.yaml:4: ")
    assert "'ivr/hello.wav'" in str(caught.value) and str(prefix) in str(caught.value)


def test_given_sound_only_in_a_rate_folder_when_checked_then_found_as_mod_sndfile_finds_it(tmp_path):
    prefix = tmp_path / "en/us/callie"
    for rel in ("ivr/8000/hello.wav", "digits/16000/1.wav"):
        (prefix / rel).parent.mkdir(parents=True, exist_ok=True)
        (prefix / rel).write_bytes(b"RIFF")

    assert missing_sounds(parse_flow(FLOW, "t.yaml"), str(prefix)) == []


def test_given_absolute_sound_when_candidates_listed_then_prefix_not_used():
    assert candidates("/srv/x/a.wav", "/p")[-1] == "/srv/x/a.wav"
    assert candidates("ivr/a.wav", "/p")[0] == "/p/ivr/8000/a.wav"


def test_given_shipped_sounds_when_copied_then_main_flow_passes_there_too(tmp_path):
    shutil.copytree(SHIPPED_SOUNDS, tmp_path / "sounds")
    flow = load_flow(os.path.join(REPO, "ivr_flows", "main.yaml"))
    check_sounds(flow, sound_prefix(tmp_path / "sounds"))
    os.remove(tmp_path / "sounds/en/us/callie/digits/2.wav")
    assert [s for s, _, _ in missing_sounds(flow, sound_prefix(tmp_path / "sounds"))] == ["digits/2.wav"]
