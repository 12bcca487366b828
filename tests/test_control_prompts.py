"""The control interface serves the spoken prompts a switch on another machine fetches (no secret),
and nothing else of the host; the speech cache names them as mod_http_cache URLs when asked."""

import http.client

import pytest

from fs_cc.control import ControlServer
from fs_cc.ivr import parse_flow
from fs_cc.ivr.speech import PromptCache, prepare_speech, tts_dir

FLOW = """\
name: hello
language: zh
start: hello
nodes:
  hello: {type: play, text: "您好，欢迎致电", next: bye}
  bye: {type: hangup}
"""


@pytest.fixture
def spoken(tmp_path):
    """(cache, sound name): a prompt really spoken into tmp_path/tts."""
    cache = PromptCache(tmp_path)
    return cache, cache.speak("您好，欢迎致电", "zh")


@pytest.fixture
def server(tmp_path):
    server = ControlServer(object(), "127.0.0.1", 0, secret="s3cret-control",
                           prompts_dir=tts_dir(tmp_path))
    server.start()
    yield server
    server.stop()


def fetch(server, path, method="GET", headers=None):
    connection = http.client.HTTPConnection(*server.address, timeout=5)
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_given_a_spoken_prompt_when_fetched_without_the_secret_then_its_wav(server, spoken,
                                                                             tmp_path):
    _, name = spoken
    status, headers, body = fetch(server, "/prompts/" + name.split("/")[-1])

    assert status == 200
    assert headers["Content-Type"] == "audio/wav"
    assert body == (tmp_path / name).read_bytes() and body[:4] == b"RIFF"
    assert "max-age=" in headers["Cache-Control"]  # mod_http_cache keeps it that long
    status, headers, body = fetch(server, "/prompts/" + name.split("/")[-1], "HEAD")
    assert (status, body, int(headers["Content-Length"])) == (
        200, b"", (tmp_path / name).stat().st_size)


@pytest.mark.parametrize("path, status", [
    ("/prompts/../../etc/passwd", 404),
    ("/prompts/%2e%2e%2fsecret.wav", 404),
    ("/prompts/0123456789abcdef01234567.wav", 404),  # well formed, not spoken
    ("/prompts/notes.txt", 404),
])
def test_given_anything_but_a_spoken_prompt_when_fetched_then_not_found(server, spoken, tmp_path,
                                                                         path, status):
    (tmp_path / "tts" / "notes.txt").write_text("private", encoding="utf-8")
    code, _, body = fetch(server, path)
    assert code == status and b"private" not in body


def test_given_a_browser_or_a_post_when_asking_for_a_prompt_then_refused(server, spoken):
    path = "/prompts/" + spoken[1].split("/")[-1]
    assert fetch(server, path, headers={"Origin": "http://evil.example"})[0] == 403
    status, headers, _ = fetch(server, path, "POST")
    assert (status, headers["Allow"]) == (405, "GET, HEAD")
    # every other route still needs the secret
    assert fetch(server, "/agents")[0] == 401


def test_given_a_prompt_url_when_a_flow_is_prepared_then_it_plays_through_mod_http_cache(
        tmp_path):
    flow = parse_flow(FLOW, "hello.yaml")
    cache = PromptCache(tmp_path, url="http://10.0.0.5:8022/prompts/")
    speech = prepare_speech(flow, cache)

    name = cache.sound_name("您好，欢迎致电", "zh").split("/")[-1]
    assert speech.sounds("hello", "zh", {}.get) == [
        f"http_cache://http://10.0.0.5:8022/prompts/{name}"]
    assert (tmp_path / "tts" / name).exists()  # the file is still made here, where it is served
    assert PromptCache(tmp_path).speak("您好，欢迎致电", "zh") == f"tts/{name}"
