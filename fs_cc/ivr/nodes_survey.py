"""The ``survey`` node: the caller rates the call 1 to 5 on the keypad, stored with the agent.

::

    satisfaction:
      type: survey
      prompt: ivr/rate-our-service-1-to-5.wav   # or ``text`` spoken
      timeout: 5
      max_attempts: 2
      invalid_prompt: ivr/ivr-that_was_an_invalid_entry.wav
      thanks_prompt: ivr/thank-you.wav           # optional, after a valid key
      next: goodbye                              # rated
      default: goodbye                           # no valid key (optional; default: next)

A caller reaches it after an agent when the queue node says ``outcomes: {answered: NODE}``: the
agent hangs up, the caller stays (the ACD parks it instead of hanging it up) and the flow goes on
at NODE. The agent is the one who answered (the queue node remembers it in the flow variable
``answered_agent``, its queue in ``answered_queue``). Each attempt is an ``IvrInput`` of the node;
the result is one ``call.survey_answered`` with the score (None: no valid key), the agent and the
queue, which the worker stores against the call (web.messages). A call adopted by a restarted
engine while it talked to the agent still gets its survey (fs_cc.adoption): the agent and queue
then come from the channel variables of the same names.
"""

import dataclasses
import logging
import typing

from fs_cc import events
from fs_cc.ivr.nodes import DEFAULT_INVALID_PROMPT, Node, Target, language_field, node_type
from fs_cc.ivr.nodes_record import greeting_sounds
from fs_cc.ivr.steps import step

logger = logging.getLogger(__name__)

SCORES = "12345"
SURVEY_VARIABLE = "fs_cc_survey_digit"
AGENT_VARIABLE = "answered_agent"  # set by the queue node when its caller continues after an agent
QUEUE_VARIABLE = "answered_queue"


@node_type
@dataclasses.dataclass(frozen=True)
class SurveyNode(Node):
    """Read one key 1-5 (retries, invalid prompt), emit the score; ``next`` or ``default``."""

    prompts: typing.Tuple[str, ...] = ()
    text: typing.Optional[str] = None
    language: typing.Optional[str] = None
    timeout: float = 5.0
    max_attempts: int = 2
    invalid_prompts: typing.Tuple[str, ...] = (DEFAULT_INVALID_PROMPT,)
    thanks_prompts: typing.Tuple[str, ...] = ()
    next: str = ""
    next_line: int = 0
    default: str = ""
    default_line: int = 0

    type_name: typing.ClassVar[str] = "survey"

    @classmethod
    def parse(cls, node_id, fields):
        text = fields.text("text", required=False)
        prompts = fields.prompts("prompt", required=text is None, default=())
        language = language_field(fields)
        timeout = fields.number("timeout", 5.0)
        max_attempts = fields.integer("max_attempts", 2)
        invalid = fields.prompts("invalid_prompt", required=False,
                                 default=(DEFAULT_INVALID_PROMPT,))
        thanks = fields.prompts("thanks_prompt", required=False, default=())
        nxt = fields.node_ref("next")
        default = fields.node_ref("default", required=False) or nxt
        return cls(node_id, fields.node_line, prompts, text, language, timeout, max_attempts,
                   invalid, thanks, nxt, fields.line("next"), default, fields.line("default"))

    def targets(self):
        edges = [Target("next", self.next, self.next_line)]
        if self.default != self.next:
            edges.append(Target("default", self.default, self.default_line))
        return edges

    def sounds(self):
        return self.prompts + self.invalid_prompts + self.thanks_prompts

    def speech_texts(self, language):
        """The spoken question, unless a recorded prompt overrides it."""
        return (self.text,) if self.text is not None and not self.prompts else ()

    def arguments(self, prompts):
        """``play_and_get_digits`` for one attempt: one key, any key (the step judges it)."""
        prompt = prompts[0] if len(prompts) == 1 else "file_string://" + "!".join(prompts)
        timeout_ms = int(self.timeout * 1000)
        return (f"1 1 1 {timeout_ms} # {prompt} silence_stream://250 {SURVEY_VARIABLE} "
                f"^[0-9*#]$ {timeout_ms}")


@step(SurveyNode)
def run_survey(runner, session, node):
    """A survey node on a call: attempts until a key 1-5; ``call.survey_answered``."""
    prompts = tuple(greeting_sounds(runner, session, node)) or ("silence_stream://250",)
    score = None
    for _ in range(node.max_attempts):
        event = session.execute("play_and_get_digits", node.arguments(prompts))
        key = (event.variable(SURVEY_VARIABLE) or "").strip() if event is not None else ""
        if not key:
            runner.emit(events.IvrInput, session, node=node.id, input=None, result="timeout")
            continue
        if key in SCORES:
            runner.emit(events.IvrInput, session, node=node.id, input=key, result="option")
            score = int(key)
            break
        runner.emit(events.IvrInput, session, node=node.id, input=key, result="invalid")
        for prompt in node.invalid_prompts:
            session.execute("playback", prompt)
    variables = runner.facts(session).variables
    # an adopted call's earlier run knew them: the adopting engine put them on the channel
    agent = variables.get(AGENT_VARIABLE) or session.get_var(AGENT_VARIABLE) or None
    queue = variables.get(QUEUE_VARIABLE) or session.get_var(QUEUE_VARIABLE) or None
    runner.emit(events.SurveyAnswered, session, node=node.id, score=score, agent=agent,
                queue=queue)
    logger.info("call %s: survey %s: score %s for agent %s", session.uuid, node.id, score, agent)
    if score is None:
        return node.default
    for prompt in node.thanks_prompts:
        session.execute("playback", prompt)
    return node.next
