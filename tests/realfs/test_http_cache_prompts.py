"""A real FreeSWITCH plays a spoken prompt it fetches from the engine through mod_http_cache.

Runs only with FS_CC_TEST_ESL=host:port:password (tests/README.rst, "Against a real FreeSWITCH")
on a switch with mod_http_cache loaded: the prompt_url setting's path, for a switch on another
machine (here the same one, over HTTP all the same).
"""

import os

import pytest

from fs_cc.control import ControlServer
from fs_cc.ivr.speech import PromptCache, tts_dir
from tests.emulator.test_playback_terminators import PlaybackProbe
from tests.switch import ENV, parse_esl_target

pytestmark = pytest.mark.skipif(not os.environ.get(ENV),
                                reason=f"{ENV} is not set: these tests need a real FreeSWITCH")


class Seen:
    """The WSGI app of a ControlServer, noting the paths asked of it."""

    def __init__(self, app):
        self.app, self.paths = app, []

    def __call__(self, environ, start_response):
        self.paths.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        return self.app(environ, start_response)


def test_given_a_prompt_url_when_the_real_switch_plays_it_then_fetched_once_and_played(tmp_path):
    host, port, password = parse_esl_target(os.environ[ENV])
    server = ControlServer(object(), "127.0.0.1", 0, secret="s3cret-control",
                           prompts_dir=tts_dir(tmp_path))
    seen = server._app = Seen(server._app)
    server.start()
    probe = PlaybackProbe(host, port, password)
    try:
        url = "http://127.0.0.1:%d/prompts" % server.address[1]
        # a text unique to this run: the switch's cache cannot have it from an earlier one
        played = PromptCache(tmp_path, url=url).speak(f"prompt {tmp_path.name}", "en")
        assert played.startswith(f"http_cache://{url}/")

        first = probe.run(played, keys=())
        again = probe.run(played, keys=())
    finally:
        probe.stop()
        server.stop()

    assert first.playback.get("Application-Response") == "FILE PLAYED"
    assert again.playback.get("Application-Response") == "FILE PLAYED"
    name = "/prompts/" + played.rsplit("/", 1)[1]
    # fetched once: the second call played the switch's cached copy (max-age)
    assert [path for method, path in seen.paths if method == "GET"] == [name]
