"""A ring-all offer: every reserved agent's phone rings at once, the first to answer gets the caller.

Each agent gets its own leg (one ``originate`` each, as transcript 24 of the real switch shows):
the first originate that answers wins, and at once every leg still ringing is cancelled
(``uuid_kill <leg> ORIGINATOR_CANCEL``: its originate answers ``-ERR ORIGINATOR_CANCEL``) and its
agent is available again, with no missed offer counted. Two agents answering in the same instant:
the later one's leg is hung up (``NORMAL_CLEARING``) and that agent is released, so exactly one is
connected. When nobody answers, each agent's failure counts as its own (no answer, busy...) and
the caller waits again at its place; when the caller hangs up, every leg is stopped.
"""

import contextlib
import logging

import gevent

from fs_cc import events
from fs_cc.acd.waiting import Phase
from fs_cc.esl.errors import CommandError
from fs_cc.events import OfferFailure

logger = logging.getLogger(__name__)

JOIN_SECONDS = 5  # how long to wait for a cancelled leg's originate to answer


class RingAll:
    """Runs ring-all offers for the ACD's Offers (their legs, bridge and call following)."""

    def __init__(self, offers):
        self.offers = offers
        self.acd = offers.acd

    def start(self, caller, agents):
        """Ring every reserved agent of ``agents`` for ``caller``, in its own greenlet."""
        caller.phase = Phase.OFFERING
        exts = [agent.extension for agent in agents]
        job = gevent.spawn(self._run, caller, exts)
        job.link_exception(lambda g: self._died(g, caller, exts))
        return job

    def _died(self, greenlet, caller, exts):
        logger.error("call %s: ring-all offer to %s failed: %r", caller.call_uuid, exts,
                     greenlet.exception)
        if caller.phase is Phase.OFFERING:
            for ext in exts:
                self.acd.release(ext, queue=caller.queue)
            self.acd.back_in_line(caller)

    def _run(self, caller, exts):
        acd = self.acd
        legs = {}
        with contextlib.ExitStack() as stack:
            watches, jobs = {}, {}
            for ext in exts:
                leg, variables = self.offers._offered(caller, ext, "offered (ring-all)")
                legs[ext] = leg
                watches[ext] = stack.enter_context(acd.ctl.watch(leg))
                jobs[ext] = gevent.spawn(self.offers._originate, variables, ext)
            winner = self._first_answer(caller, jobs)
            self._stop_the_others(caller, winner, jobs, legs)
            if caller.hungup.is_set():
                if winner is not None:
                    acd.kill(legs[winner], "NORMAL_CLEARING")
                    self._lost(caller, winner, legs[winner], None, "ORIGINATOR_CANCEL")
                acd.caller_left(caller)
                return
            if winner is None:
                acd.back_in_line(caller)
                return
            if self.offers._bridge(caller, winner, legs[winner]):
                self.offers.connected(caller, winner, legs[winner], watches[winner])

    def _first_answer(self, caller, jobs):
        """The extension whose phone answered first, or None (all failed, or the caller left)."""
        pending = dict(jobs)
        while pending and not caller.hungup.is_set():
            gevent.wait(list(pending.values()) + [caller.hungup], count=1)
            for ext, job in list(pending.items()):
                if job.ready():
                    del pending[ext]
                    if job.value[1] is None:
                        return ext
        return None

    def _stop_the_others(self, caller, winner, jobs, legs):
        """Cancel the legs still ringing, hang up a second answer, release every loser."""
        acd = self.acd
        for ext, job in jobs.items():
            if ext == winner:
                continue
            cancelled = not job.ready()
            if cancelled:
                acd.kill(legs[ext], "ORIGINATOR_CANCEL")
                job.join(timeout=JOIN_SECONDS)
                if not job.ready():
                    job.kill()
            error = job.value[1] if job.ready() else None
            if job.ready() and error is None:
                # answered too, a moment after the winner: exactly one agent gets the caller
                logger.info("call %s: agent %s answered after %s; hung up", caller.call_uuid,
                            ext, winner)
                acd.kill(legs[ext], "NORMAL_CLEARING")
                self._lost(caller, ext, legs[ext], None, "LOSE_RACE")
            elif cancelled:
                self._lost(caller, ext, legs[ext], None, "ORIGINATOR_CANCEL")
            else:  # it failed on its own before anyone answered (busy, unregistered...)
                reason = error.reason if isinstance(error, CommandError) else type(error).__name__
                if not isinstance(error, CommandError):
                    acd.kill(legs[ext], "NORMAL_CLEARING")  # a lost reply may hide a ringing leg
                if winner is None:
                    caller.tried[ext] = acd.monotonic()
                self._lost(caller, ext, legs[ext], OfferFailure.from_hangup_cause(reason), reason)

    def _lost(self, caller, ext, leg, failure, hangup_cause):
        """Tell that ``ext`` did not get the caller and give it back (``failure`` None: not its
        fault, no miss counted)."""
        self.acd.emit(events.OfferFailed, call_uuid=caller.call_uuid, agent=ext, leg_uuid=leg,
                      cause=failure or OfferFailure.CANCELLED, hangup_cause=hangup_cause)
        self.acd.release(ext, failure, caller.queue)
