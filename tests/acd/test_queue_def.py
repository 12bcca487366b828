"""A queue's settings: defaults, every setting read, and each wrong one named with where it is."""

import pytest

from fs_cc.acd.queue_def import FIELDS, Overflow, QueueSettingError, parse_queue


def test_given_a_long_strategy_name_then_kept_under_its_own_name():
    assert parse_queue({"name": "q", "strategy": "agent-with-fewest-calls-in-the-last-hour"}
                       ).strategy == "fewest-calls-last-hour"


def test_given_only_a_name_then_every_setting_has_its_default():
    queue = parse_queue({"name": "sales"})
    assert (queue.strategy, queue.moh, queue.wrap_up, queue.max_no_answer) == (
        "longest-idle", "local_stream://moh", 0.0, 3)
    assert (queue.max_wait, queue.max_callers, queue.exit_key, queue.announce_interval) == (
        0.0, 0, "", 0.0)
    assert (queue.ring_timeout, queue.retry_delay, queue.service_level, queue.record) == (
        None, None, 20.0, None)
    assert queue.overflow == {} and queue.skills == {} and queue.skill_relax == ()


def test_given_every_setting_then_read_and_given_back_alike():
    item = {"name": "support", "strategy": "round-robin", "moh": "/srv/moh/jazz.wav",
            "greeting": "ivr/welcome.wav", "announce_interval": 30, "announce_position": False,
            "announce_wait": True, "max_wait": 300, "max_callers": 20, "exit_key": "#",
            "overflow": {"timeout": "voicemail:support", "full": "queue:overflow",
                         "exit_key": "callback", "no_agents": "hangup:closed.wav"},
            "wrap_up": 15, "ring_timeout": 12, "retry_delay": 5, "max_no_answer": 0,
            "service_level": 30, "record": "stereo", "skills": {"billing": 3},
            "skill_relax": [{"after": 60, "drop": True}]}
    queue = parse_queue(item)
    assert queue.overflow["full"] == Overflow("queue", "overflow")
    assert queue.overflow["exit_key"] == Overflow("callback")
    assert str(queue.overflow["no_agents"]) == "hangup:closed.wav"
    again = queue.to_dict()
    assert set(again) == set(FIELDS)
    assert parse_queue(again) == queue
    assert again["overflow"] == item["overflow"] and again["record"] == "stereo"


@pytest.mark.parametrize("change, field, text", [
    ({"name": "bad name"}, "name", "letters, digits"),
    ({"strategy": "fastest"}, "strategy", "unknown queue strategy 'fastest'"),
    ({"max_wait": -1}, "max_wait", "seconds from 0 to"),
    ({"max_wait": float("nan")}, "max_wait", "seconds from 0 to"),
    ({"wrap_up": float("inf")}, "wrap_up", "seconds from 0 to"),
    ({"wrap_up": "ten"}, "wrap_up", "seconds from 0 to"),
    ({"max_callers": 2.5}, "max_callers", "whole number"),
    ({"max_callers": 10 ** 9}, "max_callers", "whole number from 0 to"),
    ({"max_no_answer": -1}, "max_no_answer", "(0: never)"),
    ({"skill_relax": [{"after": float("nan"), "minus": 1}]}, "skill_relax", "seconds from 0"),
    ({"exit_key": "12"}, "exit_key", "one DTMF key"),
    ({"exit_key": "a"}, "exit_key", "one DTMF key"),
    ({"announce_position": "yes"}, "announce_position", "true or false"),
    ({"overflow": {"late": "voicemail"}}, "overflow", "unknown reason 'late'"),
    ({"overflow": {"timeout": "email"}}, "overflow.timeout", "must be one of queue"),
    ({"overflow": {"full": "queue:"}}, "overflow.full", "needs a queue name"),
    ({"overflow": {"full": "callback:x"}}, "overflow.full", "takes no target"),
    ({"record": "loud"}, "record", "off, mixed, stereo"),
    ({"skills": {"en": 11}}, "skills", "levels 1-10"),
    ({"skill_relax": [{"after": 5}]}, "skill_relax", "relaxes nothing"),
    ({"colour": "red"}, "colour", "unknown field(s): colour"),
])
def test_given_a_wrong_setting_then_refused_naming_it_and_where(change, field, text):
    with pytest.raises(QueueSettingError) as caught:
        parse_queue({"name": "sales", **change}, "queues[2]")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"queues[2].{field}: ") and text in str(caught.value)
