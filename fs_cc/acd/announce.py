"""What a waiting caller hears besides the music: the queue's greeting, and every
``announce_interval`` seconds their position and estimated wait.

The estimate comes from the queue, not a constant: the callers ahead, the queue's recent handle
times and the agents staffing it (fs_cc.callbacks_wait). Prompts are sound files relative to the
switch's sound_prefix, named as in FreeSWITCH's sound pack (``digits/20.wav``) and generated for
fs_cc by freeswitch_conf/sounds/generate.py. An announcement stops the music, plays, and the music
goes on after it, in one ``file_string://`` (``uuid_break`` then ``uuid_broadcast``).
"""

import logging
import math

import gevent

from fs_cc.acd.waiting import Phase
from fs_cc.callbacks_wait import NOT_STAFFED, WaitEstimator, estimate
from fs_cc.esl.errors import ESLError

logger = logging.getLogger(__name__)

POSITION = "queue/you_are_caller_number.wav"
WAIT = "queue/your_estimated_wait_is.wav"
MINUTE, MINUTES = "queue/minute.wav", "queue/minutes.wav"
UNDER_A_MINUTE = "queue/less_than_a_minute.wav"
LONG_WAIT = "queue/wait_is_long.wav"  # nobody staffing the queue: no number to give
MAX_MINUTES_SAID = 99


def number_prompts(number):
    """The digit prompts that say a whole number >= 0 in English (``21``: twenty, one)."""
    if number < 20:
        return [f"digits/{number}.wav"]
    if number < 100:
        tens, units = divmod(number, 10)
        return [f"digits/{tens * 10}.wav"] + ([f"digits/{units}.wav"] if units else [])
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return ([f"digits/{hundreds}.wav", "digits/hundred.wav"]
                + (number_prompts(rest) if rest else []))
    return [f"digits/{digit}.wav" for digit in str(number)]


def wait_prompts(seconds):
    """How an estimated wait is said: about N minutes, under a minute, or long."""
    if seconds is None or math.isinf(seconds):
        return [LONG_WAIT]
    minutes = math.ceil(seconds / 60.0)
    if minutes <= 1 and seconds < 60:
        return [UNDER_A_MINUTE]
    minutes = min(minutes, MAX_MINUTES_SAID)
    return [WAIT] + number_prompts(minutes) + [MINUTE if minutes == 1 else MINUTES]


def hold_media(prompts, moh):
    """The media a waiting caller gets: the prompts, then the music (a file_string:// list)."""
    return "file_string://" + "!".join(list(prompts) + [moh]) if prompts else moh


class Announcer:
    """Plays a queue's announcements to the ACD's waiting callers."""

    def __init__(self, acd, estimator=None):
        self.acd = acd
        self.estimator = estimator or WaitEstimator(acd.store)
        self.announced = 0  # announcements played, for tests and figures

    def wait_at(self, queue, position):
        """Seconds a caller at ``position`` (1 is next) of ``queue`` should still wait."""
        staffed = sum(1 for agent in self.acd.store.list_agents()
                      if queue in agent.queues and agent.status not in NOT_STAFFED)
        return estimate(max(0, position - 1), self.estimator.handle_seconds(queue), staffed)

    def prompts(self, definition, position):
        """What the caller at ``position`` hears now, per the queue's settings."""
        out = []
        if definition.announce_position:
            out += [POSITION] + number_prompts(position)
        if definition.announce_wait:
            out += wait_prompts(self.wait_at(definition.name, position))
        return out

    def start(self, caller, definition):
        """Announce to ``caller`` every interval while it waits (nothing when the queue says 0)."""
        if definition is None or definition.announce_interval <= 0 or not (
                definition.announce_position or definition.announce_wait):
            return None
        job = self.acd.spawn_later(definition.announce_interval, self._loop, caller, definition)
        caller.greenlets.append(job)
        return job

    def _loop(self, caller, definition):
        while not caller.ticket.ready() and not caller.hungup.is_set():
            if caller.phase is Phase.WAITING:  # not while an agent's phone rings for it
                self.announce(caller, definition)
            gevent.sleep(definition.announce_interval)

    def announce(self, caller, definition):
        """Play the announcement to ``caller`` now, the music after it; False if it failed."""
        position = self.acd.store.caller_position(caller.queue, caller.call_uuid)
        if position is None:
            return False
        media = hold_media(self.prompts(definition, position), definition.moh or self.acd.moh)
        try:
            self.acd.ctl.stop_media(caller.call_uuid)
            self.acd.ctl.play(caller.call_uuid, media)
        except ESLError as exc:
            logger.info("call %s: announcement not played: %s", caller.call_uuid, exc)
            return False
        self.announced += 1
        return True
