"""Agents against the switch: no agent stays "on call" or "ringing" for a call the switch lacks.

A hangup event lost (the ESL link dropped at the wrong moment, a switch restarted, a bug) would
leave an agent ON_CALL or RESERVED for ever, and mod_callcenter's users know that fault well.
After every reconnect, and every ``reconcile_seconds`` besides, the engine rebuilds its view of the
switch's channels (``show channels``) and hands it here: an agent held by the ACD for longer than
the grace with no leg of its own on the switch, and no call of this engine connected to it, is
freed (its after-call wish applies, as at the end of any call) with the reason ``reconciled``.
"""

import logging

import gevent

from fs_cc.acd.agents import AgentStatus
from fs_cc.esl.errors import ESLError

logger = logging.getLogger(__name__)

HELD = (AgentStatus.ON_CALL, AgentStatus.RESERVED)
GRACE_SECONDS = 10.0  # beyond the ring timeout: an offer's leg exists by then


class Reconciler:
    """Frees the agents the switch shows no call for; runs a periodic resync of ``engine``."""

    def __init__(self, engine, every, grace=None):
        self.engine = engine
        self.every = every
        self.grace = grace if grace is not None else engine.settings.ring_timeout + GRACE_SECONDS
        self.freed = 0  # agents freed so far, for health and tests
        self._loop = None

    def start(self):
        """Resync every ``every`` seconds while the switch is connected (0: only on reconnects)."""
        if self.every and self.every > 0:
            self._loop = gevent.spawn(self._run)
            self._loop.link_exception(lambda g: logger.error("reconcile loop stopped: %r",
                                                             g.exception))

    def stop(self):
        """Stop the periodic resync."""
        if self._loop is not None:
            self._loop.kill()

    def _run(self):
        while True:
            gevent.sleep(self.every)
            if self.engine.esl.connected:
                self.engine.resync()  # which calls agents() with the fresh view

    def orphan_legs(self, legs):
        """Hang up the agent legs among ``legs`` whose caller's call this engine no longer has.

        An agent leg whose caller ended while the switch could not be heard (the ACD's uuid_kill
        failed then) would ring on, or hold the agent's phone, for ever.
        """
        engine = self.engine
        for leg in legs:
            call = leg.variables.get("fs_cc_call_uuid")
            if not leg.agent or not call or call in engine.live:
                continue
            logger.warning("agent %s: leg %s outlived call %s; hanging it up", leg.agent,
                           leg.uuid, call)
            try:
                engine.ctl.kill(leg.uuid, "NORMAL_CLEARING")
            except ESLError as exc:  # "-ERR No such channel!": it ended on its own meanwhile
                logger.debug("uuid_kill %s: %s", leg.uuid, exc)

    def agents(self, legs):
        """Free the held agents without a leg among ``legs`` (the switch's channels); a list."""
        acd = self.engine.acd
        on_switch = {leg.agent for leg in legs if leg.agent}
        connected_here = {caller.agent for caller in list(acd.callers.values()) if caller.agent}
        now = acd.store.clock()
        freed = []
        for agent in acd.store.list_agents():
            if agent.status not in HELD or agent.extension in on_switch:
                continue
            if agent.extension in connected_here or now - agent.status_since < self.grace:
                continue  # its call is followed here, or its offer may not have a leg yet
            logger.warning("agent %s: %s for %.0f s with no call on the switch; freed",
                           agent.extension, agent.status.value, now - agent.status_since)
            acd.presence.reconciled(agent.extension, agent.status)
            freed.append(agent.extension)
        self.freed += len(freed)
        return freed
