"""The admin pages' forms, read into the same shapes the JSON API takes (and back for display)."""

import re

from web.catalog.errors import InvalidField

_SKILL_SEPARATORS = re.compile(r"[,\n]")
_SKILL = re.compile(r"^\s*([^=:\s]+)\s*[=:]\s*(\S+)\s*$")


def queue_data(form, creating):
    """{name?, strategy, moh, enabled} from the queue form."""
    data = {"strategy": form.get("strategy", ""), "moh": form.get("moh", ""),
            "enabled": "enabled" in form}
    if creating:
        data["name"] = form.get("name", "")
    return data


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
