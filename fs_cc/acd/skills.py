"""Skills with levels 1-10: what a caller asks for, how well an agent matches, how the ask relaxes.

Pure. A requirement maps skill names to minimum levels; the queue's and the caller's (set in the
IVR, or by the CRM) are merged, the higher minimum winning for a skill both name.

**Best match**: an agent qualifies when it has every required skill at or above its minimum;
among those who qualify, the one with the highest *score* wins, the score being the sum of the
agent's own levels over the required skills (the most proficient at what is asked). Ties go to
the queue's strategy (fs_cc.acd.strategy). A caller who asks for nothing gives every agent the
score 0, so the strategy alone decides.

**Relaxation** (queue setting ``skill_relax``): steps ``{after: seconds, minus: n}`` or
``{after: seconds, drop: true | [names]}``. Once a caller has waited ``after`` seconds, every
minimum level is lowered by ``minus`` from the original (a minimum that reaches 0 is no longer
required), and the skills ``drop`` names (all with ``true``) are dropped; a step keeps the drops
of the steps before it. The ACD arms one timer per step and caller, and the router looks at the
caller again when one fires, so nobody waits forever for a perfect match.
"""

import dataclasses
import typing

from fs_cc.errors import ConfigError

MIN_LEVEL, MAX_LEVEL = 1, 10
MAX_AFTER = 86_400  # a relaxation step comes within a day


@dataclasses.dataclass(frozen=True)
class RelaxStep:
    """One relaxation step: after ``after`` seconds, levels ``minus`` lower and ``drop`` dropped."""

    after: float
    minus: int = 0
    drop: typing.Union[bool, typing.FrozenSet[str]] = frozenset()


def check_levels(skills, where):
    """``skills`` as a dict of name -> level 1-10; ConfigError naming ``where`` otherwise."""
    if not isinstance(skills, dict) or not all(
            isinstance(name, str) and name and isinstance(level, int)
            and not isinstance(level, bool) and MIN_LEVEL <= level <= MAX_LEVEL
            for name, level in skills.items()):
        raise ConfigError(f"{where} must map skill names to levels {MIN_LEVEL}-{MAX_LEVEL}")
    return dict(skills)


def parse_relax(items, where):
    """Relaxation steps from ``[{after, minus?, drop?}]``, sorted by ``after``; ConfigError if bad."""
    steps = []
    for index, item in enumerate(items or ()):
        at = f"{where}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at} must be a mapping like {{after: 30, minus: 2}}")
        unknown = set(item) - {"after", "minus", "drop"}
        if unknown:
            raise ConfigError(f"{at} has unknown field(s): {', '.join(sorted(unknown))}")
        after = item.get("after")
        if (isinstance(after, bool) or not isinstance(after, (int, float))
                or not 0 <= after <= MAX_AFTER):  # NaN fails both comparisons
            raise ConfigError(f"{at}.after must be a number of seconds from 0 to {MAX_AFTER}")
        minus = item.get("minus", 0)
        if isinstance(minus, bool) or not isinstance(minus, int) or not 0 <= minus < MAX_LEVEL:
            raise ConfigError(f"{at}.minus must be a whole number of levels 0-9")
        drop = item.get("drop", False)
        if drop is True:
            dropped = True
        elif drop is False or drop is None:
            dropped = frozenset()
        elif isinstance(drop, list) and all(isinstance(name, str) and name for name in drop):
            dropped = frozenset(drop)
        else:
            raise ConfigError(f"{at}.drop must be true or a list of skill names")
        if not minus and not dropped:
            raise ConfigError(f"{at} relaxes nothing: give minus or drop")
        steps.append(RelaxStep(float(after), minus, dropped))
    return tuple(sorted(steps, key=lambda step: step.after))


def merged(queue_skills, caller_skills):
    """The requirement of a caller in a queue: both asks, the higher minimum per skill."""
    required = dict(queue_skills or {})
    for name, level in (caller_skills or {}).items():
        required[name] = max(level, required.get(name, 0))
    return required


def relaxed(required, steps, done):
    """The requirement once the first ``done`` of ``steps`` have come due."""
    if not done or not required:
        return dict(required)
    minus = steps[done - 1].minus
    dropped = set()
    for step in steps[:done]:
        if step.drop is True:
            return {}
        dropped |= step.drop
    return {name: level - minus for name, level in required.items()
            if name not in dropped and level - minus >= MIN_LEVEL}


def steps_due(steps, waited):
    """How many of ``steps`` have come due after ``waited`` seconds."""
    return sum(1 for step in steps if step.after <= waited)


def match_score(skills, required):
    """The agent's score for ``required`` (sum of its levels there), or None if it lacks one."""
    score = 0
    for name, minimum in required.items():
        level = skills.get(name, 0)
        if level < minimum:
            return None
        score += level
    return score
