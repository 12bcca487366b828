"""Which switch the fixtures give: FS_CC_TEST_ESL parsing, the choice, failures, emulator_only."""

import os
import socket
import textwrap

import pytest

from fs_cc.esl.errors import AuthenticationError
from tests.switch import (ENV, EmulatorSwitch, RealSwitch, SwitchUnavailable, parse_esl_target,
                          switch_from_env)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytest_plugins = ["pytester"]


@pytest.fixture
def emulator():
    switch = EmulatorSwitch()
    yield switch
    switch.stop()


@pytest.mark.parametrize("value, expected", [
    ("127.0.0.1:8021:secret", ("127.0.0.1", 8021, "secret")),
    ("fs.example:8021:a:b:c", ("fs.example", 8021, "a:b:c")),
])
def test_given_host_port_password_when_parsed_then_parts(value, expected):
    assert parse_esl_target(value) == expected


@pytest.mark.parametrize("value", ["", "127.0.0.1", "127.0.0.1:8021", "127.0.0.1:port:pw", ":8021:pw",
                                   "127.0.0.1:8021:"])
def test_given_malformed_target_when_parsed_then_value_error_naming_the_variable(value):
    with pytest.raises(ValueError, match=ENV):
        parse_esl_target(value)


def test_given_no_env_when_choosing_then_emulator_at_speed_10():
    switch = switch_from_env({})
    try:
        assert isinstance(switch, EmulatorSwitch) and not switch.real
        assert switch.speed == 10 and switch.real_seconds(20) == 2
    finally:
        switch.stop()


def test_given_env_when_choosing_then_real_switch_at_speed_1(emulator):
    host, port = emulator.esl_address
    switch = switch_from_env({ENV: f"{host}:{port}:{emulator.password}"})
    try:
        assert isinstance(switch, RealSwitch) and switch.real
        assert switch.esl_address == (host, port) and switch.speed == 1
    finally:
        switch.stop()


def test_given_env_and_emulator_options_when_choosing_then_test_skipped(emulator):
    host, port = emulator.esl_address
    with pytest.raises(pytest.skip.Exception, match="seed"):
        switch_from_env({ENV: f"{host}:{port}:{emulator.password}"}, seed=1)


def test_given_wrong_password_when_real_switch_starts_then_switch_unavailable_with_auth_error(emulator):
    host, port = emulator.esl_address
    with pytest.raises(SwitchUnavailable) as caught:
        RealSwitch(host, port, "wrong", connect_timeout=2)
    assert isinstance(caught.value.reason, AuthenticationError)
    assert (caught.value.host, caught.value.port) == (host, port)


def test_given_nothing_listening_when_real_switch_starts_then_switch_unavailable():
    with socket.socket() as bound:  # bound, not listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        with pytest.raises(SwitchUnavailable, match=f"127.0.0.1:{port}"):
            RealSwitch("127.0.0.1", port, "ClueCon", connect_timeout=0.5)


def test_given_real_switch_when_agent_must_be_unregistered_then_skipped(emulator):
    switch = RealSwitch(*emulator.esl_address, emulator.password)
    try:
        with pytest.raises(pytest.skip.Exception, match="registered"):
            switch.set_agent("1000", registered=False)
        with pytest.raises(pytest.skip.Exception, match="reject"):
            switch.set_agent("1000", reject_cause="CALL_REJECTED")
    finally:
        switch.stop()


@pytest.mark.parametrize("env, outcome", [(None, {"passed": 2}),
                                          ("127.0.0.1:9:pw", {"passed": 1, "skipped": 1})])
def test_given_emulator_only_marker_when_env_set_or_not_then_skipped_only_with_env(
        pytester, monkeypatch, env, outcome):
    if env is None:
        monkeypatch.delenv(ENV, raising=False)
    else:
        monkeypatch.setenv(ENV, env)
    monkeypatch.setenv("PYTHONPATH", REPO)
    pytester.makepyfile(textwrap.dedent("""
        import pytest

        @pytest.mark.emulator_only
        def test_simulated():
            pass

        def test_anywhere():
            pass
    """))
    result = pytester.runpytest_subprocess("-p", "tests.conftest", "-rs")
    result.assert_outcomes(**outcome)
    if env is not None:
        result.stdout.fnmatch_lines(["*emulator_only: needs simulated behaviour (FS_CC_TEST_ESL is set)*"])
