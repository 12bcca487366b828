"""An agent's working states as the ACD moves them: asked by the agent, or after a call or offer.

The states and their allowed moves are defined once (fs_cc.states); this is what the ACD does
around them:

- **not ready** carries a reason code from the configured list (break, meeting, training,
  lunch, ...; ``no-answer`` is the ACD's own); the code is the event's ``reason``;
- a move the agent asks for while the ACD owns it (ringing: RESERVED, talking: ON_CALL) is kept
  as ``after_call`` and applied when that offer or call ends, so an offer is never cut off and the
  agent never comes back available against their wish;
- after a call: the queue's **wrap-up** (after-call work), then available when it runs out or when
  the agent ends it; a call's talk time and the answer count feed the strategies;
- a call of a queue that lists **dispositions** owes one when a user works as the agent (at
  the desktop, which files it): the agent stays in wrap-up (even with a wrap-up of 0) until the
  desktop files it (``disposition_filed``) and the wrap-up time is over, or until the agent (or a
  supervisor) ends the wrap-up;
- an agent who misses the queue's ``max_no_answer`` offers in a row goes **not ready** with
  reason ``no-answer`` (never logged out); an answer resets the count;
- an agent whose phone is **unregistered** (an offer failed so) is never offered calls until it
  registers again or the agent goes ready again.

Every change is an ``agent.status_changed`` event.
"""

import logging

import gevent

from fs_cc import events
from fs_cc.acd.agents import (ACD_OWNED, DEFAULT_NOT_READY_REASONS, LEGACY_BREAK,
                              NO_ANSWER_REASON, AgentStatus, InvalidReason, InvalidTransition,
                              UnknownAgent)

logger = logging.getLogger(__name__)

LOGGED_OUT_AFTER = "logged_out"
NOT_READY_AFTER = "not_ready:"


def after_call_of(status, reason):
    """The ``after_call`` text of a move asked during a call."""
    if status is AgentStatus.LOGGED_OUT:
        return LOGGED_OUT_AFTER
    if status is AgentStatus.NOT_READY:
        return NOT_READY_AFTER + reason
    return None  # available: nothing to do but end the call


def parse_after_call(text):
    """(status, reason code) of an ``after_call`` text; (None, None) for none."""
    if not text:
        return None, None
    if text == LOGGED_OUT_AFTER:
        return AgentStatus.LOGGED_OUT, None
    return AgentStatus.NOT_READY, text[len(NOT_READY_AFTER):] or LEGACY_BREAK


class Presence:
    """Moves agents for the ACD (its store, emitter, router, queues and timers)."""

    def __init__(self, acd, reasons=DEFAULT_NOT_READY_REASONS, desk_agents=()):
        self.acd = acd
        # the agents a user works as: the desktop files their calls (the engine sets it from
        # the catalog, fs_cc.acd.config.desk_agents_of)
        self.desk_agents = frozenset(desk_agents)
        self.reasons = tuple(reasons)
        if NO_ANSWER_REASON not in self.reasons:
            self.reasons += (NO_ANSWER_REASON,)
        self._wrap_ups = {}  # extension -> the timer ending its wrap-up
        self._owed = {}  # extension -> the call uuid ("": unknown) whose disposition is owed

    @property
    def store(self):
        return self.acd.store

    def reason_code(self, reason):
        """The not-ready reason code of an ask (blank: break); InvalidReason if unknown."""
        code = (reason or "").strip().lower() or LEGACY_BREAK
        if code not in self.reasons:
            raise InvalidReason(code, self.reasons)
        return code

    def set_status(self, extension, status, reason=""):
        """What an agent (or a supervisor) asks: a dict of the agent afterwards.

        ``reason`` is the reason code when ``status`` is not ready. During an offer or a call the
        move is kept for its end (``after_call``); asking for available cancels that.
        """
        status = AgentStatus.parse(status)
        extension = str(extension)
        code = self.reason_code(reason) if status is AgentStatus.NOT_READY else None
        current = self.store.get_agent(extension)
        if status in ACD_OWNED:
            raise InvalidTransition(extension, current.status, status,
                                    "only the ACD offers calls to agents")
        if current.status in ACD_OWNED:
            self.store.change(extension, after_call=after_call_of(status, code))
            logger.info("agent %s: %s after the %s", extension,
                        (code and f"not ready ({code})") or status.value,
                        "offer" if current.status is AgentStatus.RESERVED else "call")
            return self.store.get_agent(extension).to_dict()
        if current.status is status and (status is not AgentStatus.NOT_READY
                                         or current.reason == code):
            return current.to_dict()
        if status is AgentStatus.AVAILABLE and current.registered is False:
            self.store.change(extension, registered=None)  # ready again: try the phone again
        text = code if status is AgentStatus.NOT_READY else (reason or "requested")
        return self.move(extension, status, text, code=code).to_dict()

    def move(self, extension, status, reason, expected=None, code=None):
        """Apply a status change in the store, emit it, wake the router if the agent is free."""
        before = self.store.get_agent(extension)
        agent = self.store.set_status(extension, status, expected=expected, reason=code)
        self._cancel_wrap_up(extension)
        if status is not AgentStatus.WRAP_UP:
            self._owed.pop(extension, None)
        self.changed(extension, before.status, agent.status, reason)
        return agent

    def changed(self, extension, old, new, reason):
        """Tell a status change that happened in the store (event, router)."""
        logger.info("agent %s: %s -> %s (%s)", extension, old.value, new.value, reason)
        self.acd.emit(events.AgentStatusChanged, agent=extension, old=events.AgentState(old.value),
                      new=events.AgentState(new.value), reason=reason)
        if new is AgentStatus.AVAILABLE:
            self.acd.router.agent_free(extension)

    # -- around offers and calls -----------------------------------------------------------

    def answered(self, extension, why="answered"):
        """The agent answered an offer: on the call, one answer more, no misses."""
        agent = self.move(extension, AgentStatus.ON_CALL, why)
        self.store.record_answer(extension)
        return agent

    def offer_ended(self, extension, failure=None, queue=None):
        """A RESERVED agent's offer ended unanswered (``failure``: an OfferFailure, or None when
        the caller left): available again, or what the agent asked meanwhile, or not ready after
        too many misses, or held back while its phone is unregistered."""
        if failure is events.OfferFailure.UNREGISTERED:
            self.store.change(extension, registered=False)
            logger.warning("agent %s: phone not registered; no calls until it registers",
                           extension)
        status, code = parse_after_call(self.store.get_agent(extension).after_call)
        if failure is events.OfferFailure.NO_ANSWER:
            missed = self.store.record_no_answer(extension)
            limit = self._queue_setting(queue, "max_no_answer", 0)
            if status is None and limit and missed >= limit:
                logger.warning("agent %s: %s offers missed in a row: not ready", extension,
                               missed)
                status, code = AgentStatus.NOT_READY, NO_ANSWER_REASON
        self._settle(extension, AgentStatus.RESERVED, status, code, "offer ended")

    def call_ended(self, extension, talk_seconds=0.0, queue=None, reason="call ended",
                   call_uuid=None, owes=True):
        """An agent's call ended: wrap-up (the queue's, and while a disposition is owed), or
        what it asked during the call. ``owes``: false for a party that did not take the call
        (a consulted agent)."""
        if talk_seconds:
            self.store.record_talk(extension, talk_seconds)
        status, code = parse_after_call(self.store.get_agent(extension).after_call)
        wrap_up = self._queue_setting(queue, "wrap_up", 0.0)
        owed = (owes and extension in self.desk_agents
                and bool(self._queue_setting(queue, "dispositions", ())))
        if status is None and (wrap_up > 0 or owed):
            status = AgentStatus.WRAP_UP
        self._settle(extension, AgentStatus.ON_CALL, status, code, reason)
        if status is AgentStatus.WRAP_UP and owed:
            self._owed[extension] = call_uuid or ""
        if status is AgentStatus.WRAP_UP and wrap_up > 0:
            self._wrap_ups[extension] = self.acd.spawn_later(wrap_up, self._wrap_up_over,
                                                             extension)

    def reconciled(self, extension, held):
        """The switch shows no call for an agent the ACD holds (``held``): free it as at the end
        of its call (its after-call wish, else available), with the reason ``reconciled``."""
        status, code = parse_after_call(self.store.get_agent(extension).after_call)
        self._settle(extension, held, status, code, "reconciled")

    def _settle(self, extension, expected, status, code, reason):
        status = status or AgentStatus.AVAILABLE
        try:
            self.move(extension, status, code if code else reason, expected=(expected,),
                      code=code)
        except InvalidTransition as exc:
            logger.warning("agent %s not moved after the %s: %s", extension,
                           expected.value, exc)

    def disposition_filed(self, extension, call_uuid):
        """The desktop filed ``call_uuid``: an agent in wrap-up whose wrap-up time is over (or
        none, or lost with a restart) is available; a dict of the agent (UnknownAgent)."""
        agent = self.store.get_agent(extension)
        owed = self._owed.get(extension)
        if owed and owed != call_uuid:
            return agent.to_dict()  # another call is still owed
        self._owed.pop(extension, None)
        if agent.status is not AgentStatus.WRAP_UP or extension in self._wrap_ups:
            return agent.to_dict()  # not in wrap-up, or its timer ends it
        return self._end_wrap_up(extension, "disposition filed")

    def _end_wrap_up(self, extension, reason):
        try:
            agent = self.store.set_status(extension, AgentStatus.AVAILABLE,
                                          expected=(AgentStatus.WRAP_UP,))
        except InvalidTransition:
            return self.store.get_agent(extension).to_dict()  # the agent moved on meanwhile
        self.changed(extension, AgentStatus.WRAP_UP, AgentStatus.AVAILABLE, reason)
        return agent.to_dict()

    def _wrap_up_over(self, extension):
        self._wrap_ups.pop(extension, None)
        if extension in self._owed:
            logger.info("agent %s: wrap-up time over, the disposition still owed", extension)
            return
        self._end_wrap_up(extension, "wrap-up over")

    def _cancel_wrap_up(self, extension):
        timer = self._wrap_ups.pop(extension, None)
        if timer is not None and timer is not gevent.getcurrent():
            timer.kill(block=False)

    def _queue_setting(self, queue, name, default):
        definition = self.acd.queue_definition(queue)
        return getattr(definition, name, default) if definition is not None else default

    def registered(self, extension, registered):
        """The agent's phone registered (True) or went away (False), told by the switch."""
        try:
            agent = self.store.change(extension, registered=registered)
        except UnknownAgent:
            return None
        if registered and agent.status is AgentStatus.AVAILABLE:
            self.acd.router.agent_free(extension)
        return agent
