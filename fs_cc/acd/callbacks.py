"""Callback requests in the engine: held, put in line as callers without a channel, called back.

A request waits in its queue as an ACD caller keyed by its callback id, with the original caller's
``since``, priority and skills, so the router serves it in the caller's place, like anyone who
waits. Its offer is the callback's own flow (fs_cc.acd.callback_offer): the agent's phone first,
then the customer's. A request waiting for its time (a retry, a reschedule) sits out of line on
a timer and goes back in at its old place. Every change is an event (fs_cc.events, "callback.*"),
which the worker stores (web.callbacks); the worker re-sends open requests after a restart.
"""

import collections
import dataclasses
import datetime
import logging
import typing
import uuid as uuidlib

import gevent

from fs_cc import events
from fs_cc.acd.agents import UnknownQueue
from fs_cc.acd.callback_offer import CallbackOffer
from fs_cc.acd.waiting import Caller, QueueResult
from fs_cc.bus import BusUnavailable
from fs_cc.callbacks import AttemptOutcome, CallbackState, RetryPolicy, normalize_number
from fs_cc.callbacks_wait import WaitEstimator
from fs_cc.control.commands import CommandRefused
from fs_cc.events import QueueOutcome

logger = logging.getLogger(__name__)

KEEP_FINISHED = 10_000  # finished ids remembered, so a late re-send does not call again


def to_time(epoch):
    """Epoch seconds as an aware UTC datetime (None stays None)."""
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)


def to_epoch(moment):
    """An aware datetime as epoch seconds (None stays None)."""
    return None if moment is None else moment.timestamp()


def build_callbacks(settings, acd, emitter, registry=None, engine_id=""):
    """An engine's CallbackDesk: policy, dial string and timings from settings, a wait estimate.

    The estimator learns the queues' handle times from ``emitter``'s events.
    """
    estimator = WaitEstimator(acd.store)
    emitter.listeners.append(estimator)
    acd.announcer.estimator = estimator  # the queues' announcements say the same estimate
    policy = RetryPolicy.parse(settings.callback_max_attempts, settings.callback_retry_delays)
    return CallbackDesk(acd, policy, dial=settings.callback_dial,
                        caller_id=settings.callback_caller_id,
                        customer_ring=settings.callback_ring_seconds, registry=registry,
                        engine_id=engine_id, estimator=estimator)


@dataclasses.dataclass(eq=False)
class Request:
    """One callback request this engine holds; only the desk's greenlets change it."""

    callback_id: str
    queue: str
    number: str
    since: float  # epoch seconds: the caller's place in line
    priority: int = 0
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    call_uuid: str = ""  # the call that asked
    attempts: int = 0  # customer calls made
    not_before: typing.Optional[float] = None  # epoch seconds; None: at once
    state: CallbackState = CallbackState.PENDING
    caller: typing.Optional[Caller] = None  # while in the ACD (in line or being served)
    timer: typing.Optional[gevent.Greenlet] = None  # while waiting for not_before

    @classmethod
    def from_command(cls, command):
        """The request a callback.queue or callback.reschedule command describes."""
        return cls(command.callback_id, command.queue, command.number, to_epoch(command.since),
                   command.priority, dict(command.skills), command.call_uuid, command.attempts,
                   to_epoch(command.not_before))

    def view(self):
        """A JSON-safe dict of the request (the engine's answers)."""
        return {"callback_id": self.callback_id, "queue": self.queue, "number": self.number,
                "state": self.state.value, "attempts": self.attempts,
                "not_before": None if self.not_before is None else to_time(self.not_before)
                .isoformat()}


class CallbackDesk:
    """Holds this engine's callback requests and moves them between waiting, line and attempts.

    ``policy`` is the RetryPolicy; ``dial`` the customer's dial string with ``{number}``
    (settings.callback_dial); ``registry`` (several engines) learns which engine holds which id;
    ``estimator`` (fs_cc.callbacks_wait.WaitEstimator) tells a queue's estimated wait.
    """

    def __init__(self, acd, policy=None, *, dial="loopback/{number}/default", caller_id="",
                 customer_ring=45, registry=None, engine_id="", estimator=None, new_uuid=None):
        self.acd = acd
        self.policy = policy or RetryPolicy()
        self.estimator = estimator
        self.registry = registry
        self.engine_id = engine_id
        self.clock = acd.store.clock
        self._new_uuid = new_uuid or (lambda: str(uuidlib.uuid4()))
        self.requests = {}  # callback_id -> Request
        self._finished = collections.OrderedDict()  # callback_id -> its final CallbackState
        self.offer = CallbackOffer(self, dial=dial, caller_id=caller_id,
                                   customer_ring=customer_ring, new_uuid=self._new_uuid)

    def emit(self, event_class, **fields):
        """Emit a callback event (through the ACD's emitter)."""
        return self.acd.emit(event_class, **fields)

    # -- what callers, commands and the worker ask -----------------------------------------

    def request(self, queue, number, *, since=None, priority=0, skills=None, call_uuid="",
                caller_number=""):
        """Record a new request and put it in line; returns it (InvalidNumber, UnknownQueue)."""
        number = normalize_number(number)
        if queue not in self.acd.queue_names():
            raise UnknownQueue(queue)
        request = Request(self._new_uuid(), queue, number,
                          self.clock() if since is None else since, int(priority),
                          dict(skills or {}), call_uuid)
        self.emit(events.CallbackRequested, callback_id=request.callback_id, queue=queue,
                  number=number, since=to_time(request.since), priority=request.priority,
                  skills=request.skills, call_uuid=call_uuid, caller_number=caller_number)
        logger.info("callback %s: %s asked to be called back at %s from queue %s",
                    request.callback_id, call_uuid or "a caller", number, queue)
        self._hold(request)
        return request

    def take(self, command):
        """callback.queue: hold a request re-sent by the worker, unless held or finished here."""
        held = self.requests.get(command.callback_id)
        if held is not None:
            return dict(held.view(), taken=False)
        if command.callback_id in self._finished:
            return {"callback_id": command.callback_id, "taken": False,
                    "state": self._finished[command.callback_id].value}
        request = Request.from_command(command)
        logger.info("callback %s: taken over (queue %s, %s calls made)", request.callback_id,
                    request.queue, request.attempts)
        self.emit(events.CallbackQueued, callback_id=request.callback_id, queue=request.queue)
        self._hold(request)
        return dict(request.view(), taken=True)

    def remember_finished(self, finished):
        """Requests an earlier run of this engine finished ({callback_id: state value}).

        The worker re-sends every request whose end it has not stored yet; after a crash that
        includes ones this engine had already completed, failed or cancelled: ``take`` refuses
        them instead of calling the customer twice.
        """
        for callback_id, state in finished.items():
            self._finished[callback_id] = CallbackState(state)
        while len(self._finished) > KEEP_FINISHED:
            self._finished.popitem(last=False)

    def cancel(self, callback_id, by=""):
        """callback.cancel: stop a request that is not being tried now (CommandRefused if it is)."""
        request = self.requests.get(callback_id)
        if request is None:
            final = self._finished.get(callback_id)
            if final is CallbackState.CANCELLED:
                return {"callback_id": callback_id, "state": final.value}
            if final is not None:
                raise CommandRefused("callback_id", f"callback {callback_id} is {final.value}")
            # not held here (re-sent only later): cancelled all the same, and never taken
        elif request.state is CallbackState.IN_PROGRESS:
            raise CommandRefused("callback_id", f"callback {callback_id} is in progress (an "
                                                "agent or the customer is being called)")
        else:
            self._leave(request)
        event = self.emit(events.CallbackCancelled, callback_id=callback_id, by=by)
        self._finish(callback_id, CallbackState.CANCELLED)
        logger.info("callback %s: cancelled by %s", callback_id, by or "someone")
        # the fact itself: the web stores it at once (the worker's copy is then a duplicate)
        return {"callback_id": callback_id, "state": CallbackState.CANCELLED.value,
                "event": events.to_dict(event)}

    def reschedule(self, command):
        """callback.reschedule: try it from ``not_before`` on, keeping its place in line."""
        request = self.requests.get(command.callback_id)
        if request is not None and request.state is CallbackState.IN_PROGRESS:
            raise CommandRefused("callback_id", f"callback {command.callback_id} is in progress")
        if self._finished.get(command.callback_id) is CallbackState.COMPLETED:
            raise CommandRefused("callback_id", f"callback {command.callback_id} is completed")
        if request is None:
            self._finished.pop(command.callback_id, None)
            request = Request.from_command(command)
        else:
            self._leave(request)
            request.not_before = to_epoch(command.not_before)
            request.attempts = command.attempts
        request.state = CallbackState.PENDING
        event = self.emit(events.CallbackRescheduled, callback_id=request.callback_id,
                          not_before=command.not_before, by=command.by, attempts=request.attempts)
        logger.info("callback %s: rescheduled for %s by %s", request.callback_id,
                    command.not_before.isoformat(), command.by or "someone")
        self._hold(request)
        return dict(request.view(), event=events.to_dict(event))

    def estimated_wait(self, queue):
        """Seconds a caller joining ``queue`` now would wait (None without an estimator)."""
        return None if self.estimator is None else self.estimator.estimated_wait(queue)

    def views(self):
        """Every request held here, as dicts."""
        return [request.view() for request in self.requests.values()]

    # -- what the offer flow tells ----------------------------------------------------------

    def dispatched(self, request, agent, call_uuid, leg_uuid):
        """An attempt starts: the agent's phone rings."""
        request.state = CallbackState.IN_PROGRESS
        self.emit(events.CallbackDispatched, callback_id=request.callback_id, agent=agent,
                  call_uuid=call_uuid, leg_uuid=leg_uuid, attempt=request.attempts + 1)

    def agent_missed(self, request, agent, call_uuid, outcome, cause):
        """The agent did not take it: back in line at once, at its place (no attempt spent)."""
        request.state = CallbackState.PENDING
        self._attempted(request, agent, call_uuid, outcome, cause)
        self.acd.back_in_line(request.caller)

    def customer_failed(self, request, agent, call_uuid, cause):
        """The customer did not answer (busy, failed): retry after the policy's delay, or fail."""
        request.attempts += 1
        outcome = AttemptOutcome.of_customer(cause)
        delay = self.policy.retry_delay(outcome, cause, request.attempts)
        self._out_of_acd(request)
        if delay is None:
            self._attempted(request, agent, call_uuid, outcome, cause)
            self.emit(events.CallbackFailed, callback_id=request.callback_id,
                      reason=cause or outcome.value, attempts=request.attempts)
            self._finish(request.callback_id, CallbackState.FAILED)
            logger.info("callback %s: failed after %s calls (%s)", request.callback_id,
                        request.attempts, cause)
            return
        request.state = CallbackState.PENDING
        request.not_before = self.clock() + delay
        self._attempted(request, agent, call_uuid, outcome, cause, to_time(request.not_before))
        logger.info("callback %s: customer %s (%s); call %s in %s s", request.callback_id,
                    outcome.value, cause, request.attempts + 1, delay)
        self._hold(request)

    def connected(self, request, agent, call_uuid):
        """The customer answered and talks to the agent: the request is done."""
        request.attempts += 1
        self._out_of_acd(request)
        self._attempted(request, agent, call_uuid, AttemptOutcome.CONNECTED, "")
        self.emit(events.CallbackCompleted, callback_id=request.callback_id, agent=agent,
                  call_uuid=call_uuid, attempts=request.attempts)
        self._finish(request.callback_id, CallbackState.COMPLETED)

    # -- holding ----------------------------------------------------------------------------

    def _attempted(self, request, agent, call_uuid, outcome, cause, retry_at=None):
        self.emit(events.CallbackAttempted, callback_id=request.callback_id, agent=agent,
                  call_uuid=call_uuid, outcome=outcome, cause=cause or "",
                  attempts=request.attempts, retry_at=retry_at)

    def _hold(self, request):
        self.requests[request.callback_id] = request
        self._own(request.callback_id)
        wait = 0.0 if request.not_before is None else request.not_before - self.clock()
        if wait > 0:
            request.timer = gevent.spawn_later(wait, self._enter_line, request)
            request.timer.link_exception(lambda g: logger.error(
                "callback %s: timer failed: %r", request.callback_id, g.exception))
        else:
            self._enter_line(request)

    def _enter_line(self, request):
        """Put the request in its queue's line as a caller without a channel, at its place."""
        request.timer = None
        request.not_before = None
        if self.requests.get(request.callback_id) is not request:
            return  # cancelled or rescheduled meanwhile
        if request.queue not in self.acd.queue_names():
            logger.warning("callback %s: queue %s is gone", request.callback_id, request.queue)
            self.emit(events.CallbackFailed, callback_id=request.callback_id,
                      reason=f"unknown queue {request.queue}", attempts=request.attempts)
            self._finish(request.callback_id, CallbackState.FAILED)
            return
        caller = Caller(request.callback_id, request.queue, priority=request.priority,
                        skills=dict(request.skills), caller_number=request.number,
                        since=request.since)
        request.caller = caller
        self.acd.offer_flows[request.callback_id] = self.offer.start
        self.acd.callers[request.callback_id] = caller
        position = self.acd.store.enqueue_caller(request.queue, request.callback_id,
                                                 request.since, request.priority)
        logger.info("callback %s: in line in %s at position %s", request.callback_id,
                    request.queue, position)
        self.acd.router.caller_waiting(caller)

    def _leave(self, request):
        """Take a request that is not being tried out of line (or off its timer)."""
        if request.timer is not None:
            request.timer.kill(block=False)
            request.timer = None
        if request.caller is not None:
            self.acd.store.dequeue_caller(request.queue, request.callback_id)
        self._out_of_acd(request)

    def _out_of_acd(self, request):
        caller, request.caller = request.caller, None
        self.acd.offer_flows.pop(request.callback_id, None)
        if caller is not None:
            self.acd.finished(caller, QueueResult(QueueOutcome.TRANSFERRED))

    def _finish(self, callback_id, state):
        request = self.requests.pop(callback_id, None)
        if request is not None:
            request.state = state
        self._finished[callback_id] = state
        while len(self._finished) > KEEP_FINISHED:
            self._finished.popitem(last=False)
        self._disown(callback_id)

    def _own(self, callback_id):
        # several engines: the worker's re-sends and the web's commands come to this engine
        if self.registry is None:
            return
        try:
            self.registry.own_call(callback_id, self.engine_id)
        except BusUnavailable as exc:
            logger.warning("callback %s: owner not noted: %s", callback_id, exc)

    def _disown(self, callback_id):
        if self.registry is None:
            return
        try:
            self.registry.release_call(callback_id)
        except BusUnavailable as exc:
            logger.warning("callback %s: owner not released: %s", callback_id, exc)
