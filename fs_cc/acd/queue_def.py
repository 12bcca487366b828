"""A queue's settings, checked in one place for the engine's configuration, the catalog and the web.

``parse_queue(item, where)`` turns a mapping (YAML, a database row, a form, a JSON body) into a
:class:`Queue` or raises :class:`QueueSettingError` naming the setting (``field``) and where it
is (``queues[0].max_wait must be ...``). Every setting but the name has a default:

================== ===========================================================================
name               letters, digits, ``_``, ``-``, ``.``
strategy           fs_cc.acd.strategy (``longest-idle``)
moh                music on hold: a file or a stream (``local_stream://moh``)
greeting           a sound played once when the caller joins (none)
announce_interval  seconds between announcements of position and estimated wait (0: none)
announce_position  say the caller's position (true)
announce_wait      say the estimated wait (true)
max_wait           seconds before the caller leaves with ``timeout`` (0: no limit)
max_callers        callers in line at most; one more leaves with ``full`` (0: no limit)
exit_key           a DTMF key (0-9, *, #) that leaves the queue with ``exit_key`` (none)
closed             true: closed by an admin; a caller leaves at once with ``closed`` (false)
hours              opening hours, as the IVR condition node's (fs_cc.hours): outside them a
                   caller leaves at once with ``closed`` (none: always open)
overflow           where a caller goes per reason: {timeout|full|exit_key|no_agents|closed:
                   target},
                   target ``queue:NAME``, ``flow:NAME``, ``voicemail`` (``voicemail:BOX``),
                   ``callback`` (the callback offer) or ``hangup`` (``hangup:SOUND``, a message)
wrap_up            seconds of after-call work before the agent is available (0)
ring_timeout       seconds an agent's phone rings for an offer (the deployment's ring_timeout)
retry_delay        seconds before an agent who missed a caller is rung for it again (2)
max_no_answer      offers missed in a row before the agent is set not ready (3; 0: never)
service_level      seconds within which an answer counts for the service level (20)
record             ``off``, ``mixed`` or ``stereo`` (the deployment's record_calls)
skills             skills asked of every agent, {name: minimum level 1-10}
skill_relax        steps lowering that ask with the wait (fs_cc.acd.skills)
dispositions       what an agent may file a call of the queue as in wrap-up, a list of labels
                   (DEFAULT_DISPOSITIONS; an empty list: no disposition asked)
================== ===========================================================================
"""

import dataclasses
import re
import typing

from fs_cc.acd.skills import check_levels, parse_relax
from fs_cc.acd.strategy import strategy_named
from fs_cc.errors import ConfigError
from fs_cc.hours import HoursParser, plain_hours

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
DEFAULT_MOH = "local_stream://moh"
DEFAULT_MAX_NO_ANSWER = 3
DEFAULT_SERVICE_LEVEL = 20.0
DEFAULT_RETRY_DELAY = 2.0
OVERFLOW_REASONS = ("timeout", "full", "exit_key", "no_agents", "closed")
OVERFLOW_KINDS = ("queue", "flow", "voicemail", "callback", "hangup")
RECORD_MODES = ("off", "mixed", "stereo")
DTMF_KEYS = "0123456789*#"
# the call classification of a Chinese call center's desktop (咨询, 投诉, 建议, 订单 ...)
DEFAULT_DISPOSITIONS = ("consultation", "complaint", "suggestion", "order", "appointment",
                        "repair", "wrong number", "other")
DISPOSITIONS_MAX = 50
DISPOSITION_MAX_LENGTH = 64


class QueueSettingError(ConfigError):
    """A queue setting is wrong: ``field`` names it."""

    def __init__(self, reason, field, where=None):
        self.field = field
        self.reason = reason
        super().__init__(f"{where}.{field}: {reason}" if where else f"{field}: {reason}")
        self.message = f"{field}: {reason}"


@dataclasses.dataclass(frozen=True)
class Overflow:
    """Where a caller goes when the queue lets go of it: ``kind`` and its ``target`` (a queue,
    a flow, a voicemail box, a sound; "" for none)."""

    kind: str
    target: str = ""

    @classmethod
    def parse(cls, text, field):
        """``kind[:target]``; QueueSettingError naming ``field`` when it is not one."""
        kind, _, target = str(text or "").strip().partition(":")
        if kind not in OVERFLOW_KINDS:
            raise QueueSettingError(f"must be one of {', '.join(k + '[:...]' for k in OVERFLOW_KINDS)}"
                                    f" (not {text!r})", field)
        if kind in ("queue", "flow") and not NAME_RE.match(target):
            raise QueueSettingError(f"needs a {kind} name ({kind}:NAME)", field)
        if kind == "callback" and target:
            raise QueueSettingError("takes no target (callback)", field)
        return cls(kind, target)

    def __str__(self):
        return f"{self.kind}:{self.target}" if self.target else self.kind


@dataclasses.dataclass(frozen=True)
class Queue:
    """One queue's settings (see the module's table); the ACD reads them at each decision."""

    name: str
    strategy: str = "longest-idle"
    moh: str = DEFAULT_MOH
    skills: typing.Mapping[str, int] = dataclasses.field(default_factory=dict)
    skill_relax: tuple = ()  # fs_cc.acd.skills.RelaxStep, by ``after``
    wrap_up: float = 0.0
    max_no_answer: int = DEFAULT_MAX_NO_ANSWER
    greeting: str = ""
    announce_interval: float = 0.0
    announce_position: bool = True
    announce_wait: bool = True
    max_wait: float = 0.0
    max_callers: int = 0
    exit_key: str = ""
    overflow: typing.Mapping[str, Overflow] = dataclasses.field(default_factory=dict)
    ring_timeout: typing.Optional[float] = None
    retry_delay: typing.Optional[float] = None
    service_level: float = DEFAULT_SERVICE_LEVEL
    record: typing.Optional[str] = None
    closed: bool = False
    hours: typing.Optional[typing.Any] = None  # fs_cc.hours.Hours; None: always open
    dispositions: tuple = DEFAULT_DISPOSITIONS

    def closed_at(self, epoch):
        """Whether a caller arriving at ``epoch`` finds the queue closed (admin or hours)."""
        return self.closed or (self.hours is not None and not self.hours.open_at(epoch))

    @property
    def choose(self):
        """The Strategy (fs_cc.acd.strategy)."""
        return strategy_named(self.strategy)

    def to_dict(self):
        """The settings as plain data (the shape parse_queue reads)."""
        out = dataclasses.asdict(self)
        out["skills"] = dict(self.skills)
        out["skill_relax"] = [_step_dict(step) for step in self.skill_relax]
        out["overflow"] = {reason: str(target) for reason, target in self.overflow.items()}
        out["hours"] = None if self.hours is None else plain_hours(self.hours)
        # None: the defaults (a stored queue keeps following them as a release changes them)
        out["dispositions"] = (None if self.dispositions == DEFAULT_DISPOSITIONS
                               else list(self.dispositions))
        return out


def own_setting(queue, name, default):
    """``queue``'s own value of the optional setting ``name`` (``ring_timeout``,
    ``retry_delay``), or ``default`` when it sets none or there is no such queue (None)."""
    value = None if queue is None else getattr(queue, name)
    return default if value is None else value


def _step_dict(step):
    out = {"after": step.after}
    if step.minus:
        out["minus"] = step.minus
    if step.drop is True or step.drop:
        out["drop"] = True if step.drop is True else sorted(step.drop)
    return out


FIELDS = tuple(field.name for field in dataclasses.fields(Queue))


MAX_SECONDS = 86_400.0  # a day: no queue timing is longer
MAX_COUNT = 100_000


def _seconds(item, name, default):
    value = item.get(name, default)
    if value is None:
        return default
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not 0 <= value <= MAX_SECONDS):  # NaN fails both comparisons
        raise QueueSettingError(f"must be a number of seconds from 0 to {MAX_SECONDS:.0f}", name)
    return float(value)


def _count(item, name, default, zero="no limit"):
    value = item.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise QueueSettingError(f"must be a whole number from 0 to {MAX_COUNT} (0: {zero})", name)
    return value


def _flag(item, name, default):
    value = item.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise QueueSettingError("must be true or false", name)
    return value


def _text(item, name, default=""):
    value = item.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise QueueSettingError("must be text", name)
    return value.strip()


def _hours(item):
    raw = item.get("hours")
    if raw is None or raw == {}:
        return None

    def fail(message, line):
        raise QueueSettingError(message.replace("in 'hours' ", "").replace("'hours' ", ""),
                                "hours")

    return HoursParser(fail).hours(raw)


def _dispositions(item):
    raw = item.get("dispositions")
    if raw is None:
        return DEFAULT_DISPOSITIONS
    if not isinstance(raw, (list, tuple)):
        raise QueueSettingError("must be a list of labels", "dispositions")
    if len(raw) > DISPOSITIONS_MAX:
        raise QueueSettingError(f"has {len(raw)} labels; at most {DISPOSITIONS_MAX}",
                                "dispositions")
    labels, seen = [], set()
    for label in raw:
        if not isinstance(label, str) or not label.strip():
            raise QueueSettingError("must be a list of labels, none empty", "dispositions")
        label = " ".join(label.split())
        if len(label) > DISPOSITION_MAX_LENGTH:
            raise QueueSettingError(f"{label[:20]!r}... is longer than "
                                    f"{DISPOSITION_MAX_LENGTH} characters", "dispositions")
        if label.casefold() in seen:
            raise QueueSettingError(f"{label!r} is there twice", "dispositions")
        seen.add(label.casefold())
        labels.append(label)
    return tuple(labels)


def _checked(item, moh):
    name = item.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise QueueSettingError("needs letters, digits, _, - or . (like sales)", "name")
    try:  # kept under the strategy's own name (mod_callcenter's long names are aliases)
        strategy = strategy_named(_text(item, "strategy") or "longest-idle").name
    except ConfigError as exc:
        raise QueueSettingError(str(exc), "strategy") from None
    exit_key = _text(item, "exit_key")
    if exit_key and (len(exit_key) != 1 or exit_key not in DTMF_KEYS):
        raise QueueSettingError(f"must be one DTMF key ({', '.join(DTMF_KEYS)})", "exit_key")
    overflow = item.get("overflow") or {}
    if not isinstance(overflow, dict):
        raise QueueSettingError("must map reasons to targets, like {timeout: voicemail}",
                                "overflow")
    for reason in overflow:
        if reason not in OVERFLOW_REASONS:
            raise QueueSettingError(f"has an unknown reason {reason!r} (reasons: "
                                    f"{', '.join(OVERFLOW_REASONS)})", "overflow")
    record = item.get("record")
    if record is not None and record not in RECORD_MODES:
        raise QueueSettingError(f"must be one of {', '.join(RECORD_MODES)}", "record")
    ring_timeout = item.get("ring_timeout")
    retry_delay = item.get("retry_delay")
    for field, value in (("skills", item.get("skills")), ("skill_relax", item.get("skill_relax"))):
        if value is not None and not isinstance(value, (dict if field == "skills" else list)):
            raise QueueSettingError("has the wrong shape", field)
    try:
        skills = check_levels(item.get("skills") or {}, "skills")
        relax = parse_relax(item.get("skill_relax"), "skill_relax")
    except ConfigError as exc:
        field = "skills" if str(exc).startswith("skills") else "skill_relax"
        raise QueueSettingError(str(exc)[len(field):].lstrip(" .:"), field) from None
    return Queue(
        name, strategy, _text(item, "moh") or moh, skills=skills, skill_relax=relax,
        wrap_up=_seconds(item, "wrap_up", 0.0),
        max_no_answer=_count(item, "max_no_answer", DEFAULT_MAX_NO_ANSWER, zero="never"),
        greeting=_text(item, "greeting"),
        announce_interval=_seconds(item, "announce_interval", 0.0),
        announce_position=_flag(item, "announce_position", True),
        announce_wait=_flag(item, "announce_wait", True),
        max_wait=_seconds(item, "max_wait", 0.0), max_callers=_count(item, "max_callers", 0),
        exit_key=exit_key,
        overflow={reason: Overflow.parse(target, f"overflow.{reason}")
                  for reason, target in overflow.items()},
        ring_timeout=None if ring_timeout is None else _seconds(item, "ring_timeout", None),
        retry_delay=None if retry_delay is None else _seconds(item, "retry_delay", None),
        service_level=_seconds(item, "service_level", DEFAULT_SERVICE_LEVEL), record=record,
        closed=_flag(item, "closed", False), hours=_hours(item),
        dispositions=_dispositions(item))


def parse_queue(item, where=None, moh=DEFAULT_MOH):
    """A Queue from a mapping of its settings; QueueSettingError naming the setting (and
    ``where``, like ``queues[0]``, in its message)."""
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise QueueSettingError("must be a mapping with a 'name'", "name", where)
    unknown = set(item) - set(FIELDS)
    if unknown:
        raise QueueSettingError(f"unknown field(s): {', '.join(sorted(unknown))} (known: "
                                f"{', '.join(FIELDS)})", sorted(unknown)[0], where)
    try:
        return _checked(item, moh)
    except QueueSettingError as exc:
        if where is None:
            raise
        raise QueueSettingError(exc.reason, exc.field, where) from None
