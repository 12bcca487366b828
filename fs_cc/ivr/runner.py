"""Walks an IVR flow on one call, through the call's outbound-socket session, as events.

Each step is a domain event (fs_cc.events): the node entered, every attempt at a menu
(``IvrInput``), the node left with where it led. The call record's IVR path is folded from them
(fs_cc.journal) and lists, in order:

- the id of every node entered, e.g. ``"welcome"``, ``"menu"``, ``"sales"``;
- after a menu node, one entry per attempt: ``"<menu>:<key>"`` for a key that leads somewhere,
  ``"<menu>:invalid"`` for a key that is not an option, ``"<menu>:timeout"`` for no key at all.

So "welcome, then 1" reads ``["welcome", "menu", "menu:1", "sales"]`` and "no key three times"
reads ``["welcome", "menu", "menu:timeout", "menu:timeout", "menu:timeout", "support"]``. When the
caller hangs up, the last entry is the node they were in.

A queue node hands the call to the ACD by its UUID and waits for the ticket: answered (the call
is over when the ticket resolves), hung up, transferred by the agent into another flow (that
flow runs on the session from its start, fs_cc.ivr.sessions), or an outcome the node continues
from. A callback
node after it records a callback request that keeps the caller's place (fs_cc.ivr.callback_step).
"""

import contextlib
import dataclasses
import functools
import logging
import time
import typing

import gevent

from fs_cc import events
from fs_cc.esl.errors import CallerHungUp
from fs_cc.events import HangupSide, QueueOutcome
from fs_cc.ivr.asr import speech_in_use, voice_choice
from fs_cc.ivr.callback_step import CallbackStep, Place
from fs_cc.ivr.nodes import GotoNode, HangupNode, MenuNode, PlayNode
from fs_cc.ivr.nodes_queue import QueueNode, SetNode
from fs_cc.ivr.nodes_callback import CallbackNode
from fs_cc.ivr.nodes_collect import (COLLECT_VARIABLE, CollectNode, collect_arguments,
                                     prompt_argument)
from fs_cc.ivr.nodes_condition import ConditionNode, Context, queue_figures
from fs_cc.ivr.nodes_say import SayNode
from fs_cc.ivr.nodes_subflow import TRANSFER, refuse, run_nested
from fs_cc.ivr.overflow import Overflows
from fs_cc.ivr.sessions import SERVICE as SESSIONS
from fs_cc.ivr.speech import play_step, say_step, spoken_prompts
from fs_cc.ivr.steps import STEPS, FlowOutcome, FlowResult  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)

DIGITS_VARIABLE = "fs_cc_menu_digits"
MAX_STEPS = 500  # a caller pressing "repeat" forever still ends somewhere
UNKNOWN_QUEUE_CAUSE = "NORMAL_TEMPORARY_FAILURE"
HANGUP_WAIT = 5.0  # seconds an answered call's socket waits for the channel's hangup


def menu_arguments(node, variable=DIGITS_VARIABLE, prompts=None):
    """The ``play_and_get_digits`` argument for one attempt at a menu node.

    One try per call: the runner counts attempts itself so each one shows in the IVR path. The
    regular expression accepts any single key so that FreeSWITCH hands back wrong keys too and the
    runner decides (and plays the flow's invalid prompt). ``prompts`` (default: the node's
    recorded ones) are the sounds to play, e.g. its spoken text.
    """
    prompt = prompt_argument(node.prompts if prompts is None else prompts)
    timeout_ms = int(node.timeout * 1000)
    # min max tries timeout terminators prompt invalid-prompt variable regexp digit-timeout
    return (f"1 1 1 {timeout_ms} # {prompt} silence_stream://250 {variable} "
            f"^[0-9*]$ {timeout_ms}")


@dataclasses.dataclass
class CallFacts:
    """What the flow learnt about one call: variables (collect, set), priority and skills (set)."""

    variables: typing.Dict[str, str] = dataclasses.field(default_factory=dict)
    priority: typing.Optional[int] = None
    skills: typing.Dict[str, int] = dataclasses.field(default_factory=dict)


def merge_skills(first, second):
    """Skills asked by both: every skill of either, at the higher minimum level."""
    merged = dict(first)
    for name, level in second.items():
        merged[name] = max(level, merged.get(name, 0))
    return merged


class _Variables:
    """The variables the flow set, else the channel's own (a read-only mapping for conditions)."""

    def __init__(self, known, session):
        self.known = known
        self.session = session

    def get(self, name, default=None):
        """The value of ``name``, or ``default``."""
        if name in self.known:
            return self.known[name]
        return self.session.get_var(name, default)


class FlowRunner:
    """Runs a :class:`~fs_cc.ivr.flow.Flow` on calls; hands callers to ``acd.enqueue``.

    ``acd`` is a :class:`fs_cc.ivr.ports.Queueing`, ``emitter`` an :class:`fs_cc.emitter.Emitter`,
    ``callbacks`` (for callback nodes) a :class:`fs_cc.ivr.ports.CallbackRequests`.
    """

    def __init__(self, flow, acd, emitter, *, callbacks=None, max_steps=MAX_STEPS,
                 clock=time.time, flows=None, services=None):
        self.flow = flow
        # what node types of their own modules use: data sources, the worker's senders (by name)
        self.services = services if services is not None else {}
        self._speech = speech_in_use(flow, self.services.get("asr"))  # menus answered by voice
        self.flows = flows  # name -> the FlowRunner of another flow, or None (overflow: flow)
        self.overflows = Overflows(self)
        self.acd = acd
        self.emitter = emitter
        self.callbacks = callbacks
        self.max_steps = max_steps
        self._clock = clock
        self._resumed_since = {}  # call uuid -> queued-since of an adopted call, until re-queued
        self._places = {}  # call uuid -> Place it last waited in (a callback node keeps it)
        self._calls = {}  # call uuid -> CallFacts: variables, priority and skills set so far
        self._callback_step = (None if callbacks is None
                               else CallbackStep(callbacks, self.emit, DIGITS_VARIABLE))
        self._handlers = {
            PlayNode: lambda session, node: play_step(session, node, self.flow),
            SayNode: lambda session, node: say_step(session, node, self.flow),
            MenuNode: self._menu,
            SetNode: self._set,
            GotoNode: self._goto,
            QueueNode: self.queue_step,
            HangupNode: self._hangup,
            CallbackNode: self._callback,
            CollectNode: self._collect,
            ConditionNode: self._condition,
        }

    def _handler(self, node_class):
        handler = self._handlers.get(node_class)
        if handler is None:  # a node type of its own module (fs_cc.ivr.steps)
            handler = self._handlers[node_class] = functools.partial(STEPS[node_class], self)
        return handler

    def emit(self, event_class, session, **fields):
        """Emit ``event_class`` about ``session``'s call in this flow."""
        return self.emitter.emit(event_class, call_uuid=session.uuid, flow=self.flow.name,
                                 **fields)

    def run(self, session, resume_at=None, queued_since=None, entered=True):
        """Answer the call and walk the flow; returns a :class:`FlowResult` (never raises on hangup).

        ``resume_at`` (a node id) goes on with an adopted call where its engine left it, without
        entering that node again (unless ``entered`` is False: the adopting engine moved the call
        on to a node its earlier run never entered, the one after the agent); a queue node there
        keeps the caller's place (``queued_since``, epoch seconds).
        """
        node_id = None
        if queued_since is not None:
            self._resumed_since[session.uuid] = queued_since
        try:
            session.execute("answer")
            node_id = self.flow.start
            if resume_at is not None and resume_at in self.flow.nodes:
                node_id = resume_at
            for step in range(self.max_steps):
                node = self.flow.node(node_id)
                if not (step == 0 and node_id == resume_at and entered):
                    self.emit(events.IvrNodeEntered, session, node=node.id)
                outcome = self._handler(type(node))(session, node)
                if isinstance(outcome, FlowResult):
                    return outcome
                self.emit(events.IvrNodeLeft, session, node=node.id, input=None,
                           outcome=outcome)
                node_id = outcome
            logger.warning("call %s: flow %s passed %d steps, hanging up", session.uuid,
                           self.flow.name, self.max_steps)
            session.hangup("NORMAL_CLEARING")
            return FlowResult(FlowOutcome.FLOW_HUNG_UP, node_id, "NORMAL_CLEARING",
                              HangupSide.SYSTEM)
        except CallerHungUp as exc:
            logger.info("call %s: caller hung up in IVR node %s (%s)", session.uuid, node_id,
                        exc.cause)
            return FlowResult(FlowOutcome.CALLER_HUNG_UP, node_id,
                              exc.cause or session.hangup_cause, HangupSide.CALLER)
        finally:
            self._resumed_since.pop(session.uuid, None)
            self._places.pop(session.uuid, None)
            self._calls.pop(session.uuid, None)

    # each handler returns the next node id, or a FlowResult when the flow is over
    def _menu(self, session, node):
        prompts = spoken_prompts(session, node, self.flow)
        for _ in range(node.max_attempts):
            event = session.execute("play_and_get_digits",
                                    menu_arguments(node, prompts=prompts))
            digit = (event.variable(DIGITS_VARIABLE) or "").strip() if event is not None else ""
            if not digit and self._speech:
                digit = voice_choice(self, session, node, node.language or self.flow.language)
            if not digit:
                self.emit(events.IvrInput, session, node=node.id, input=None, result="timeout")
                continue
            if digit in node.options:
                self.emit(events.IvrInput, session, node=node.id, input=digit, result="option")
                return node.options[digit]
            self.emit(events.IvrInput, session, node=node.id, input=digit, result="invalid")
            logger.info("call %s: key %r is not an option of menu %s", session.uuid, digit, node.id)
            for prompt in node.invalid_prompts:
                session.execute("playback", prompt)
        return node.default

    def facts(self, session):
        """The CallFacts (variables, priority, skills) of ``session``'s call so far."""
        return self._calls.setdefault(session.uuid, CallFacts())

    def _set(self, session, node):
        facts = self.facts(session)
        for name, value in node.variables:
            session.set_var(name, value)
            facts.variables[name] = value
        if node.priority is not None:
            facts.priority = max(facts.priority or 0, node.priority)
        facts.skills = merge_skills(facts.skills, node.skills)
        return node.next

    def _collect(self, session, node):
        prompts = spoken_prompts(session, node, self.flow)
        for _ in range(node.max_attempts):
            event = session.execute("play_and_get_digits",
                                    collect_arguments(node, prompts=prompts))
            digits = (event.variable(COLLECT_VARIABLE) or "").strip() if event is not None else ""
            result = node.check(digits)
            self.emit(events.IvrInput, session, node=node.id, input=node.shown(digits),
                       result=result)
            if result == "valid":
                session.set_var(node.variable, digits)
                self.facts(session).variables[node.variable] = digits
                return node.next
            if result == "invalid":
                for prompt in node.invalid_prompts:
                    session.execute("playback", prompt)
        return node.default

    def _condition(self, session, node):
        known = self.facts(session).variables
        variables = _Variables(known, session)
        context = Context(variables, session.caller_number or "", self._clock(),
                          lambda queue: queue_figures(self.acd, queue))
        target, branch = node.choose(context)
        logger.debug("call %s: condition %s took %s", session.uuid, node.id,
                     "else" if branch is None else f"branch {branch + 1}")
        return target

    def _goto(self, session, node):
        return node.to

    def callback_node_id(self):
        """The id of the flow's first callback node, or None."""
        return next((node.id for node in self.flow.nodes.values()
                     if isinstance(node, CallbackNode)), None)

    def queue_step(self, session, node, hops=0):
        """A queue node (or an overflow ``hops`` queues after one): the next node, or the end."""
        # the channel's own socket hears its bridge end even while the inbound link is down
        session.on("CHANNEL_UNBRIDGE", lambda event: self.acd.caller_unbridged(session.uuid,
                                                                               event))
        since = self._resumed_since.pop(session.uuid, None)  # an adopted caller keeps its place
        facts = self._calls.get(session.uuid) or CallFacts()
        priority = max(node.priority, facts.priority or 0)  # set nodes' priority and skills
        skills = merge_skills(node.skills, facts.skills)
        place = Place(node.queue, self._clock() if since is None else since, priority,
                      dict(skills))
        self._places[session.uuid] = place
        if node.callback_after_wait is not None and self._long_wait(node):
            return node.on["callback"]
        sessions = self.services.get(SESSIONS)
        # while this session waits, an agent may transfer the caller into another flow
        with sessions.waiting(session.uuid) if sessions is not None else contextlib.nullcontext():
            ticket = self.acd.enqueue(session.uuid, node.queue, priority=priority,
                                      skills=skills, caller_number=session.caller_number or "",
                                      max_wait=node.max_wait, exit_key=node.exit_key,
                                      since=since, keep_caller="answered" in node.on)
            gevent.wait([ticket, session.hungup], count=1)
            if not ticket.ready():
                # the socket heard the hangup first (the inbound link may be down): tell the
                # ACD, which settles an offer or a connected call before it resolves the ticket
                self.acd.caller_gone(session.uuid, session.hangup_cause, session.hangup_event)
            result = ticket.get()
        outcome = result.outcome
        if outcome is QueueOutcome.TRANSFERRED and result.target is not None:
            return self._into_flow(session, node, result)
        if outcome is QueueOutcome.ANSWERED and "answered" in node.on \
                and result.side is HangupSide.AGENT and session.is_up:
            # the agent left and the ACD parked the caller: on with the flow (a survey)
            self.facts(session).variables.update(answered_agent=result.agent or "",
                                                 answered_queue=node.queue)
            return node.on["answered"]
        if outcome is QueueOutcome.ANSWERED:
            # the ACD ended the other leg; let the channel's own hangup reach its socket
            session.hungup.wait(timeout=HANGUP_WAIT)
            return FlowResult(FlowOutcome.QUEUED, node.id, result.cause, result.side)
        if outcome is QueueOutcome.HUNG_UP:
            return FlowResult(FlowOutcome.CALLER_HUNG_UP, node.id,
                              result.cause or session.hangup_cause, HangupSide.CALLER)
        if outcome is QueueOutcome.UNKNOWN_QUEUE:
            session.hangup(UNKNOWN_QUEUE_CAUSE)
            return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, UNKNOWN_QUEUE_CAUSE,
                              HangupSide.SYSTEM)
        target = node.on.get(outcome.value)
        overflow = self.overflows.target(node.queue, outcome) if target is None else None
        if overflow is not None:
            target = self.overflows.follow(session, node, overflow, hops)
        if target is None:
            logger.info("call %s: queue %s ended with %s and node %s has no 'on' for it;"
                        " hanging up", session.uuid, node.queue, outcome.value, node.id)
            session.hangup("NORMAL_CLEARING")
            return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, "NORMAL_CLEARING",
                              HangupSide.SYSTEM)
        return target

    def _into_flow(self, session, node, result):
        """An agent transferred the caller into flow ``result.target``: it runs from its start
        (the agent and queue known to it as after a survey); how it ends ends the call."""
        if not session.is_up:
            return FlowResult(FlowOutcome.CALLER_HUNG_UP, node.id, session.hangup_cause,
                              HangupSide.CALLER)
        self.facts(session).variables.update(answered_agent=result.agent or "",
                                             answered_queue=node.queue)
        logger.info("call %s: agent %s transferred the caller from queue %s into flow %s",
                    session.uuid, result.agent, node.queue, result.target)
        nested = run_nested(self, session, result.target, TRANSFER)
        return refuse(session, node) if nested is None else nested

    def _long_wait(self, node):
        """Whether the queue's estimated wait is above the node's callback_after_wait."""
        if self.callbacks is None:
            return False
        estimate = self.callbacks.estimated_wait(node.queue)
        if estimate is None or estimate <= node.callback_after_wait:
            return False
        logger.info("queue %s: estimated wait %.0f s is above %.0f s: a callback is offered",
                    node.queue, estimate, node.callback_after_wait)
        return True

    def _callback(self, session, node):
        if self._callback_step is None:
            logger.error("call %s: flow %s has callback node %s but this engine takes no "
                         "callbacks", session.uuid, self.flow.name, node.id)
            return node.default
        return self._callback_step.run(session, node, self._places.get(session.uuid))

    def _hangup(self, session, node):
        session.hangup(node.cause)
        return FlowResult(FlowOutcome.FLOW_HUNG_UP, node.id, node.cause, HangupSide.SYSTEM)
