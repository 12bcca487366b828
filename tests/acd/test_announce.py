"""The queue's greeting and its announcements of position and estimated wait (double switch)."""

import pytest

from fs_cc.acd import Queue
from fs_cc.acd.announce import number_prompts, wait_prompts
from tests.acd.doubles import FakeSwitch
from tests.acd.test_acd import ROUTERS, _stop_routers, clock, make_acd, start_call, store  # noqa
from tests.polling import wait_until


@pytest.mark.parametrize("number, said", [
    (0, ["0"]), (7, ["7"]), (13, ["13"]), (20, ["20"]), (21, ["20", "1"]), (99, ["90", "9"]),
    (100, ["1", "hundred"]), (342, ["3", "hundred", "40", "2"]), (1205, ["1", "2", "0", "5"]),
])
def test_given_a_number_then_the_digit_prompts_that_say_it(number, said):
    assert number_prompts(number) == [f"digits/{word}.wav" for word in said]


def test_given_an_estimate_then_minutes_rounded_up_or_under_a_minute_or_long():
    assert wait_prompts(45) == ["queue/less_than_a_minute.wav"]
    assert wait_prompts(61) == ["queue/your_estimated_wait_is.wav", "digits/2.wav",
                                "queue/minutes.wav"]
    assert wait_prompts(float("inf")) == ["queue/wait_is_long.wav"]


def broadcasts(switch, uuid):
    return [command.split(" ", 2)[2] for command in switch.commands
            if command.startswith(f"uuid_broadcast {uuid} ")]


def test_given_a_greeting_then_it_plays_before_the_music(store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=(),
                   queues=[Queue("sales", greeting="ivr/ivr-welcome_to_freeswitch.wav")])
    start_call(acd)
    wait_until(lambda: broadcasts(switch, "caller-1"), what="the hold media")
    assert broadcasts(switch, "caller-1") == [
        "file_string://ivr/ivr-welcome_to_freeswitch.wav!local_stream://moh aleg"]


def test_given_an_interval_then_position_and_estimated_wait_are_announced_with_the_music(
        store, clock):
    switch = FakeSwitch({"1000": 5.0})  # the one agent is busy ringing for the first caller
    acd = make_acd(store, switch, clock, logged_in=("1000",),
                   queues=[Queue("sales", announce_interval=0.2)])
    start_call(acd, "first")
    wait_until(lambda: switch.ringing, what="1000 rung for the first caller")
    start_call(acd, "second")
    wait_until(lambda: len(broadcasts(switch, "second")) >= 2, timeout=3,
               what="an announcement to the second caller")
    # the first caller is being offered, so the second is first in line; one agent staffs the
    # queue and no call ended yet, so the handle time is the default 180 s: about 3 minutes
    assert broadcasts(switch, "second")[1] == (
        "file_string://queue/you_are_caller_number.wav!digits/1.wav!"
        "queue/your_estimated_wait_is.wav!digits/3.wav!queue/minutes.wav!local_stream://moh aleg")
    assert "uuid_break second all" in switch.commands
    assert not [b for b in broadcasts(switch, "first") if "caller_number" in b]  # offered


def test_given_nobody_staffing_the_queue_then_the_wait_is_said_long_and_position_only_once(
        store, clock):
    switch = FakeSwitch()
    acd = make_acd(store, switch, clock, logged_in=(),
                   queues=[Queue("sales", announce_interval=0.2, announce_position=False)])
    start_call(acd)
    wait_until(lambda: len(broadcasts(switch, "caller-1")) >= 2, timeout=3,
               what="an announcement")
    assert broadcasts(switch, "caller-1")[1] == (
        "file_string://queue/wait_is_long.wav!local_stream://moh aleg")
