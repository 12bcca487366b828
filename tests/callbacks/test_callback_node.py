"""The IVR's callback node: its checks at load, and the runner on a scripted call."""

import pytest

from fs_cc import events, journal
from fs_cc.acd.agents import UnknownQueue
from fs_cc.callbacks import normalize_number
from fs_cc.emitter import RecordingEmitter
from fs_cc.errors import ConfigError
from fs_cc.events import QueueOutcome
from fs_cc.ivr import CallbackNode, parse_flow
from fs_cc.ivr.ports import CallbackRequests
from fs_cc.ivr.runner import FlowRunner
from tests.ivr.doubles import AnsweringAcd, RecordingAcd, ScriptedSession

PROMPT = "ivr/ivr-please_choose_from_the_following.wav"
FLOW = f"""
start: wait
nodes:
  wait:
    type: queue
    queue: sales
    priority: 4
    skills: {{fr: 2}}
    exit_key: "0"
    outcomes: {{exit_key: offer}}
  offer:
    type: callback
    prompt: {PROMPT}
    number_prompt: voicemail/vm-press.wav
    done_prompt: digits/1.wav
    min_digits: 7
    next: bye
    default: sorry
  sorry: {{type: hangup, cause: NORMAL_CLEARING}}
  bye: {{type: hangup}}
"""


class RecordingRequests:
    """The CallbackRequests port: keeps each request as asked; estimates the wait as told."""

    def __init__(self, wait=None, refuse=None):
        self.requests = []
        self.wait = wait
        self.refuse = refuse

    def request(self, queue, number, *, since=None, priority=0, skills=None, call_uuid="",
                caller_number=""):
        if self.refuse is not None:
            raise self.refuse
        self.requests.append({"queue": queue, "number": normalize_number(number), "since": since,
                              "priority": priority, "skills": skills, "call_uuid": call_uuid,
                              "caller_number": caller_number})
        return type("Request", (), {"callback_id": f"cb-{len(self.requests)}"})()

    def estimated_wait(self, queue):
        return self.wait


def run(text, session, acd=None, requests=None, clock=lambda: 1_700_000_000.0):
    acd = acd or RecordingAcd(outcome=QueueOutcome.EXIT_KEY)
    requests = requests if requests is not None else RecordingRequests()
    emitter = RecordingEmitter()
    emitter.emit(events.CallStarted, call_uuid=session.uuid, did="8000",
                 caller_number=session.caller_number)
    runner = FlowRunner(parse_flow(text, "callback.yaml", queues={"sales"}), acd, emitter,
                        callbacks=requests, clock=clock)
    result = runner.run(session)
    return result, journal.fold(emitter.events), requests


def test_given_the_double_then_it_is_the_port():
    assert isinstance(RecordingRequests(), CallbackRequests)


def test_given_caller_leaves_the_queue_when_pressing_1_then_request_keeps_the_place():
    session = ScriptedSession(caller_number="5551000777", keys=["1"])
    result, record, requests = run(FLOW, session)

    assert requests.requests == [{
        "queue": "sales", "number": "5551000777", "since": 1_700_000_000.0, "priority": 4,
        "skills": {"fr": 2}, "call_uuid": "call-1", "caller_number": "5551000777"}]
    assert record.ivr_path == ["wait", "offer", "offer:1", "bye"]
    assert session.variables["fs_cc_callback_id"] == "cb-1"
    assert session.executed[-1] == ("playback", "digits/1.wav")  # the done prompt


def test_given_caller_presses_2_when_keying_another_number_then_that_number():
    session = ScriptedSession(caller_number="5551000777", keys=["2", "0475123456"])
    result, record, requests = run(FLOW, session)

    assert [r["number"] for r in requests.requests] == ["0475123456"]
    assert record.ivr_path == ["wait", "offer", "offer:2", "offer:number", "bye"]
    number_prompt = session.executed[2]
    assert number_prompt[0] == "play_and_get_digits"
    assert number_prompt[1].startswith("7 15 1 5000 # voicemail/vm-press.wav ")
    assert "^[0-9]{7,15}$" in number_prompt[1]


def test_given_a_hidden_caller_id_when_offered_then_the_number_is_asked_at_once():
    session = ScriptedSession(caller_number="anonymous", keys=["0475123456"])
    result, record, requests = run(FLOW, session)

    assert [r["number"] for r in requests.requests] == ["0475123456"]
    assert record.ivr_path == ["wait", "offer", "offer:number", "bye"]


def test_given_no_valid_choice_when_attempts_run_out_then_default_and_no_request():
    session = ScriptedSession(caller_number="5551000777", keys=["", "7", "2", "123"])
    result, record, requests = run(FLOW, session)

    assert requests.requests == []
    assert record.ivr_path == ["wait", "offer", "offer:timeout", "offer:invalid", "offer:2",
                               "offer:invalid", "sorry"]  # 123 is too short
    # the number is never in the path, only that one was keyed (or refused)
    assert all("123" not in step for step in record.ivr_path)


def test_given_the_engine_refuses_the_request_when_recorded_then_default():
    session = ScriptedSession(caller_number="5551000777", keys=["1"])
    result, record, requests = run(FLOW, session,
                                   requests=RecordingRequests(refuse=UnknownQueue("sales")))
    assert record.ivr_path[-1] == "sorry"


def test_given_a_callback_node_without_a_queue_node_before_when_run_then_its_own_queue_now():
    text = f"""
start: offer
nodes:
  offer: {{type: callback, queue: sales, prompt: {PROMPT}, number_prompt: {PROMPT},
          priority: 1, next: bye, default: bye}}
  bye: {{type: hangup}}
"""
    session = ScriptedSession(caller_number="5551000777", keys=["1"])
    _, _, requests = run(text, session)
    assert [(r["queue"], r["since"], r["priority"], r["skills"]) for r in requests.requests] == [
        ("sales", None, 1, {})]


CALLBACK_AFTER_WAIT = f"""
start: wait
nodes:
  wait:
    type: queue
    queue: sales
    callback_after_wait: 120
    outcomes: {{callback: offer}}
  offer: {{type: callback, prompt: {PROMPT}, number_prompt: {PROMPT}, next: bye, default: bye}}
  bye: {{type: hangup}}
"""


def test_given_a_long_estimated_wait_when_caller_arrives_then_callback_offered_not_queued():
    acd = RecordingAcd()
    session = ScriptedSession(caller_number="5551000777", keys=["1"])
    _, record, requests = run(CALLBACK_AFTER_WAIT, session, acd=acd,
                              requests=RecordingRequests(wait=600.0))

    assert acd.enqueued == []
    assert record.ivr_path == ["wait", "offer", "offer:1", "bye"]
    assert requests.requests[0]["since"] == 1_700_000_000.0


def test_given_a_short_estimated_wait_when_caller_arrives_then_queued():
    session = ScriptedSession(caller_number="5551000777", keys=["1"])
    acd = AnsweringAcd(session)
    _, _, requests = run(CALLBACK_AFTER_WAIT, session, acd=acd,
                         requests=RecordingRequests(wait=60.0))

    assert acd.enqueued == [("call-1", "sales")]
    assert requests.requests == []


@pytest.mark.parametrize("change,line,message", [
    ("    confirm_key: '#'\n", 7, "'confirm_key' must be one key"),
    ("    other_key: '1'\n", 7, "are both '1'"),
    ("    max_digits: 4\n", 7, "'max_digits' must be 5 to 20"),
    ("    queue: billing\n", 7, "unknown queue 'billing'"),
    ("    say_number: maybe\n", 7, "'say_number' must be true or false"),
    ("    colour: red\n", 7, "unknown field 'colour'"),
])
def test_given_a_bad_callback_node_when_loaded_then_refused_with_the_line(change, line,
                                                                         message):
    text = f"""start: offer
nodes:
  offer:
    type: callback
    prompt: {PROMPT}
    number_prompt: {PROMPT}
{change}    next: bye
    default: bye
  bye: {{type: hangup}}
"""
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "cb.yaml", queues={"sales"})
    assert message in str(caught.value)
    assert caught.value.line == line


def test_given_callback_after_wait_without_its_outcome_when_loaded_then_refused():
    text = """start: wait
nodes:
  wait: {type: queue, queue: sales, callback_after_wait: 60}
"""
    with pytest.raises(ConfigError) as caught:
        parse_flow(text, "cb.yaml", queues={"sales"})
    assert "'callback_after_wait' and 'outcomes: callback' go together" in str(caught.value)


def test_given_say_number_when_loaded_then_the_digit_sounds_are_checked_too():
    flow = parse_flow(FLOW.replace("    min_digits: 7\n", "    say_number: true\n"),
                      "cb.yaml", queues={"sales"})
    node = flow.node("offer")
    assert isinstance(node, CallbackNode)
    assert "digits/7.wav" in node.sounds()
    assert flow.queues() == ["sales"]
