"""The validator, told the queues' settings, warns of a queue node whose queue can be closed
(opening hours, or closed by an admin) when the node has no way on for a closed queue: such a
caller is hung up at once without a prompt."""

import pathlib

from fs_cc.acd.config import parse_queues
from fs_cc.ivr.validate import validate_file
from fs_cc.sounds import SHIPPED_SOUNDS, sound_prefix

BAD = pathlib.Path(__file__).resolve().parent / "bad_flows"
FLOW = BAD / "queue_without_closed_path.yaml"
PREFIX = sound_prefix(SHIPPED_SOUNDS)
HOURS = {"tz": "Asia/Shanghai", "mon-fri": "09:00-18:00"}
QUEUES = parse_queues([
    {"name": "sales", "hours": HOURS},  # node 'sales' has no closed path: warned
    {"name": "front_desk", "closed": True},  # node 'desk' has none either: warned
    {"name": "support", "hours": HOURS},  # its node has one
    {"name": "billing", "hours": HOURS, "overflow": {"closed": "flow:main"}},  # the queue has one
    {"name": "open"},  # no hours, not closed: never closed
])


def problems(queues):
    return [str(p) for p in validate_file(str(FLOW), queues, PREFIX, {"main"})]


def test_given_queue_settings_when_a_closable_queue_has_no_closed_path_then_a_warning_each():
    assert problems(QUEUES) == [
        (f"{FLOW}:8:31: warning: node 'sales' (queue): queue 'sales' keeps opening hours but "
         f"the node has no 'closed' path: callers outside them are cut off at once without "
         f"hearing why (add closed: NODE to its outcomes, or give the queue a closed overflow)"),
        (f"{FLOW}:11:12: warning: node 'desk' (queue): queue 'front_desk' is closed by an admin "
         f"but the node has no 'closed' path: every caller sent here is cut off at once without "
         f"hearing why (add closed: NODE to its outcomes, or give the queue a closed overflow)"),
    ]


def test_given_a_closed_path_for_every_node_then_no_warning():
    queues = dict(QUEUES, **parse_queues([
        {"name": "sales", "hours": HOURS, "overflow": {"closed": "hangup:ivr/closed.wav"}},
        {"name": "front_desk"},  # open again
    ]))
    assert problems(queues) == []


def test_given_only_queue_names_then_nothing_is_known_of_hours_and_nothing_is_warned():
    assert problems(set(QUEUES)) == []
