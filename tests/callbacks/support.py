"""An engine side for callback tests: inbound ESL, ACD and callback desk over the emulator.

Customers are PSTN numbers behind the emulator's gateway ``pstn`` (``sofia/gateway/pstn/N``,
the dial string a deployment gives its carrier); a test shapes them through the gateway's
answer and busy probabilities (1 or 0, so each call does what the test says).
"""

import os

from fs_cc import events
from fs_cc.acd import MemoryStore, build_acd
from fs_cc.acd.callbacks import CallbackDesk
from fs_cc.callbacks import RetryPolicy
from fs_cc.callctl import CallControl
from fs_cc.callflow import CallHandler
from fs_cc.emitter import RecordingEmitter
from fs_cc.emulator import Gateway
from fs_cc.esl.inbound import InboundClient
from fs_cc.esl.outbound import OutboundServer
from fs_cc.ivr import FlowRunner, load_flow
from tests.switch import wait_until

DIAL = "sofia/gateway/pstn/{number}"
CUSTOMER = "5557000111"
EVENTS = ("CHANNEL_CREATE", "CHANNEL_ANSWER", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
          "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "BACKGROUND_JOB", "DTMF")


def customers(answer=True, busy=False, talk_seconds=5.0):
    """The emulator's gateway ``pstn``: every customer answers (or is busy, or never answers)."""
    return Gateway("pstn", answer_probability=1.0 if answer and not busy else 0.0,
                   busy_probability=1.0 if busy else 0.0, ring_seconds=(1.0, 1.0),
                   talk_seconds=(talk_seconds, talk_seconds))


def shape(gateway, answer=True, busy=False):
    """Change what the gateway's customers do from the next call on."""
    gateway.answer_probability = 1.0 if answer and not busy else 0.0
    gateway.busy_probability = 1.0 if busy else 0.0


class CallbackStack:
    """The engine's parts for callbacks on an emulator switch; ``stop()`` them afterwards."""

    def __init__(self, switch, agents, policy=None, customer_ring=4, flow=None):
        self.switch = switch
        self.store = MemoryStore()
        self.esl = InboundClient(*switch.esl_address, switch.password, events=EVENTS)
        self.esl.start()
        assert self.esl.wait_connected(timeout=5)
        self.emitter = RecordingEmitter()
        self.acd = build_acd(self.store, CallControl(self.esl), {
            "queues": [{"name": "sales"}, {"name": "support"}],
            "agents": [{"extension": ext, "name": f"Agent {ext}", "queues": ["sales"]}
                       for ext in agents],
            "ring_timeout": 2, "retry_delay": 0.05, "hangup_grace": 0.2}, self.emitter)
        self.desk = CallbackDesk(self.acd, policy or RetryPolicy(3, (0.1,)), dial=DIAL,
                                 caller_id="4000", customer_ring=customer_ring)
        self.acd.start()
        self.outbound = None
        if flow is not None:
            runner = FlowRunner(load_flow(flow, queues={"sales", "support"}), self.acd,
                                self.emitter, callbacks=self.desk)
            handler = CallHandler(lambda did: runner, self.emitter)
            self.outbound = OutboundServer("127.0.0.1", 0, handler.handle).start()
            switch.route_to(*self.outbound.address)

    def of_type(self, event_class, callback_id=None):
        """The events of one class (of one callback), in order."""
        return [event for event in self.emitter.of_type(event_class)
                if callback_id is None or event.callback_id == callback_id]

    def wait_for(self, event_class, callback_id=None, count=1, simulated=30, what=None):
        """The first ``count`` events of a class once they are all there."""
        return wait_until(
            lambda: self.of_type(event_class, callback_id)[:count]
            if len(self.of_type(event_class, callback_id)) >= count else None,
            timeout=5 + self.switch.real_seconds(simulated),
            what=what or f"{count} {event_class.TYPE}")

    def call_ended(self, call_uuid, simulated=30):
        """The CallEnded of ``call_uuid``, once emitted."""
        return wait_until(lambda: next((e for e in self.emitter.of_call(call_uuid)
                                        if isinstance(e, events.CallEnded)), None),
                          timeout=5 + self.switch.real_seconds(simulated),
                          what=f"call {call_uuid} ended")

    def stop(self):
        self.acd.stop()
        if self.outbound is not None:
            self.outbound.stop(timeout=1)
        self.esl.stop()


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
