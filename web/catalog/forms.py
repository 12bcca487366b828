"""The admin pages' forms, read into the same shapes the JSON API takes (and back for display)."""

import re

import yaml

from fs_cc.acd.queue_def import OVERFLOW_REASONS, parse_queue
from web.catalog.errors import InvalidField

_SKILL_SEPARATORS = re.compile(r"[,\n]")
_SKILL = re.compile(r"^\s*([^=:\s]+)\s*[=:]\s*(\S+)\s*$")
_RELAX_FIELD = re.compile(r"^relax-([0-9]{1,3})-(?:after|minus|drop)$")
_INTEGER = re.compile(r"-?[0-9]{1,12}")
_DECIMAL = re.compile(r"-?[0-9]{0,12}\.[0-9]{1,6}")

QUEUE_TEXTS = ("strategy", "moh", "greeting", "exit_key", "record")
QUEUE_NUMBERS = ("announce_interval", "max_wait", "max_callers", "wrap_up", "ring_timeout",
                 "retry_delay", "max_no_answer", "service_level")
QUEUE_FLAGS = ("announce_position", "announce_wait", "closed")
RELAX_PARTS = ("after", "minus", "drop")


def queue_data(form, creating):
    """{name?, enabled, every setting} from the queue form, for the service to check.

    A number box left empty is the setting's default (null); what is not a number is passed on
    as typed, so fs_cc.acd.queue_def refuses it naming the setting. Overflow is a kind and a
    target per reason (``overflow-REASON-kind``, ``overflow-REASON-target``); skill_relax rows
    are ``relax-N-after``, ``relax-N-minus``, ``relax-N-drop`` (``all``, or skill names).
    """
    data = {name: form.get(name, "") for name in QUEUE_TEXTS}
    data["record"] = data["record"] or None  # the deployment's record_calls
    data.update((name, _number(form.get(name, ""))) for name in QUEUE_NUMBERS)
    data.update((name, name in form) for name in QUEUE_FLAGS + ("enabled",))
    data["overflow"] = {}
    for reason in OVERFLOW_REASONS:
        kind = form.get(f"overflow-{reason}-kind", "").strip()
        target = form.get(f"overflow-{reason}-target", "").strip()
        if kind or target:
            data["overflow"][reason] = f"{kind}:{target}" if target else kind
    data["skills"] = parse_skills(form.get("skills", ""))
    data["hours"] = parse_hours(form.get("hours", ""))
    data["dispositions"] = parse_dispositions(form.get("dispositions"))
    data["skill_relax"] = [_relax_step(row) for row in _relax_rows(form) if any(row.values())]
    if creating:
        data["name"] = form.get("name", "")
    return data


def queue_values(settings, enabled=True):
    """What the queue form shows for ``settings`` (the plain data of fs_cc.acd.queue_def)."""
    values = {name: settings.get(name) or "" for name in QUEUE_TEXTS}
    values.update((name, _shown_number(settings.get(name))) for name in QUEUE_NUMBERS)
    values.update((name, bool(settings.get(name))) for name in QUEUE_FLAGS)
    values["enabled"] = enabled
    for reason in OVERFLOW_REASONS:
        target = (settings.get("overflow") or {}).get(reason)
        kind, _, target = str(target or "").partition(":")
        values[f"overflow-{reason}-kind"], values[f"overflow-{reason}-target"] = kind, target
    values["skills"] = format_skills(settings.get("skills"))
    values["hours"] = format_hours(settings.get("hours"))
    values["dispositions"] = format_dispositions(settings.get("dispositions"))
    values["relax_rows"] = [
        {"after": _shown_number(step.get("after")), "minus": _shown_number(step.get("minus")),
         "drop": "all" if step.get("drop") is True else ", ".join(step.get("drop") or ())}
        for step in settings.get("skill_relax") or ()]
    return values


def default_queue_values():
    """The queue form of a new queue: every setting at its default."""
    return queue_values(parse_queue("new").to_dict())


def queue_shown(form, creating):
    """The queue form's values as submitted, to show again beside an error."""
    values = {name: form.get(name, "") for name in
              QUEUE_TEXTS + QUEUE_NUMBERS + ("skills", "hours", "dispositions")}
    values.update((name, name in form) for name in QUEUE_FLAGS + ("enabled",))
    for reason in OVERFLOW_REASONS:
        for part in ("kind", "target"):
            values[f"overflow-{reason}-{part}"] = form.get(f"overflow-{reason}-{part}", "")
    values["relax_rows"] = [row for row in _relax_rows(form) if any(row.values())]
    if creating:
        values["name"] = form.get("name", "")
    return values


def _relax_rows(form):
    indices = sorted({int(match.group(1)) for match in map(_RELAX_FIELD.match, form)
                      if match is not None})
    return [{part: form.get(f"relax-{index}-{part}", "").strip() for part in RELAX_PARTS}
            for index in indices]


def _relax_step(row):
    step = {"after": _number(row["after"])}
    if row["minus"]:
        step["minus"] = _number(row["minus"])
    if row["drop"].lower() in ("all", "*", "true"):
        step["drop"] = True
    elif row["drop"]:
        step["drop"] = [name.strip() for name in row["drop"].split(",") if name.strip()]
    return step


def _number(text):
    text = (text or "").strip()
    if not text:
        return None
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    return text  # queue_def names the setting that is no number


def _shown_number(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def agent_data(form, creating, queue_names):
    """{extension?, name, user_id, skills, queues, enabled} from the agent form.

    Each queue is a checkbox ``queue-NAME`` with a level box ``level-NAME``.
    """
    data = {"name": form.get("name", ""), "user_id": _user_id(form.get("user_id", "")),
            "skills": parse_skills(form.get("skills", "")),
            "queues": {}, "enabled": "enabled" in form}
    if creating:
        data["extension"] = form.get("extension", "")
        if not data["name"].strip():
            del data["name"]  # the service names it after the extension
    for name in queue_names:
        if f"queue-{name}" in form:
            data["queues"][name] = _whole(form.get(f"level-{name}", "1"), f"queues.{name}")
    return data


def did_data(form, creating):
    """{number?, flow, description, enabled, default} from the DID form."""
    data = {"flow": form.get("flow", ""), "description": form.get("description", ""),
            "enabled": "enabled" in form, "default": "default" in form}
    if creating:
        data["number"] = form.get("number", "")
    return data


def parse_skills(text):
    """Skills typed as ``english=5, billing=3`` (commas or lines; ``=`` or ``:``)."""
    skills = {}
    for part in _SKILL_SEPARATORS.split(text or ""):
        if not part.strip():
            continue
        match = _SKILL.match(part)
        if match is None:
            raise InvalidField(f"{part.strip()!r} is not skill=level", field="skills")
        name, level = match.groups()
        skills[name] = _whole(level, f"skills.{name}")
    return skills


def format_skills(skills):
    """Skills as the form shows them: ``english=5, billing=3``."""
    return ", ".join(f"{name}={level}" for name, level in sorted((skills or {}).items()))


def _whole(text, field):
    text = (text or "").strip()
    if not re.fullmatch(r"-?[0-9]{1,10}", text):
        raise InvalidField(f"{field} must be a whole number", field=field)
    return int(text)


def _user_id(text):
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidField("choose a user from the list", field="user_id")
    return int(text)


def parse_hours(text):
    """The opening hours box (``{tz: UTC, mon-fri: "09:00-18:00"}``, YAML) as data; empty: None.

    What is not YAML is refused here naming ``hours``; fs_cc.acd.queue_def checks the rest.
    """
    if not text.strip():
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidField(f"hours: not YAML ({getattr(exc, 'problem', None) or exc})",
                           field="hours") from None


def format_hours(hours):
    """Opening hours shown in their box (one line of YAML), or "" for none."""
    return yaml.safe_dump(hours, default_flow_style=True, sort_keys=False).strip() if hours else ""


def parse_dispositions(text):
    """The dispositions box, one label a line; None (the defaults) when the form has no box or
    it holds only ``default``; an empty box asks for none."""
    if text is None or text.strip().casefold() == "default":
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]


def format_dispositions(labels):
    """The dispositions shown in their box: one a line, ``default`` for the defaults."""
    return "default" if labels is None else "\n".join(labels)
