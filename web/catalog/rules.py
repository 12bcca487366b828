"""The catalog's value rules, pure functions: each returns the clean value or raises InvalidField."""

import pathlib
import re

from fs_cc.acd.config import NAME_RE
from fs_cc.acd.queue_def import QueueSettingError, parse_queue
from web.catalog.errors import InvalidField

EXTENSION_RE = re.compile(r"^[0-9]{1,32}$")
NUMBER_RE = re.compile(r"^\+?[0-9]{1,31}$")
SKILL_RE = re.compile(r"^[\w.-]{1,64}$")  # any script's letters: skills like 粤语 are common
SKILL_LEVELS = range(1, 11)
MAX_LEVEL = 2 ** 31 - 1  # the column is a 32-bit integer everywhere


def text(value, field, max_length, required=True):
    """``value`` as stripped text of at most ``max_length`` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidField(f"{field} must be text", field=field)
    value = value.strip()
    if required and not value:
        raise InvalidField(f"{field} is required", field=field)
    if len(value) > max_length:
        raise InvalidField(f"{field} is longer than {max_length} characters", field=field)
    return value


def queue_name(value, field="name"):
    """A queue name: letters, digits, ``_``, ``-`` or ``.`` (as the engine's settings allow)."""
    value = text(value, field, 64)
    if not NAME_RE.match(value):
        raise InvalidField(f"queue name {value!r} may hold only letters, digits, _, - and .",
                           field=field)
    return value


def queue_settings(settings):
    """A queue's settings checked by fs_cc.acd.queue_def (the one place that knows them): the
    clean values as plain data (the strategy by its own name, not an alias), or InvalidField
    naming the setting."""
    try:
        queue = parse_queue(settings)
    except QueueSettingError as exc:
        raise InvalidField(exc.message, field=exc.field) from None
    clean = queue.to_dict()
    clean["strategy"] = queue.choose.name  # aliases are longer than the column
    _storable(clean)
    return clean


# what the text columns of ``queues`` hold (parse_queue bounds the numbers already)
_TEXT_COLUMNS = {"moh": 255, "greeting": 255}


def _storable(clean):
    for field, length in _TEXT_COLUMNS.items():
        if len(clean[field]) > length:
            raise InvalidField(f"{field} is longer than {length} characters", field=field)


def extension(value):
    """An agent's extension: digits only."""
    value = text(value, "extension", 32)
    if not EXTENSION_RE.match(value):
        raise InvalidField(f"extension {value!r} must be digits only", field="extension")
    return value


def number(value):
    """A DID: digits with an optional leading ``+``."""
    value = text(value, "number", 32)
    if not NUMBER_RE.match(value):
        raise InvalidField(f"number {value!r} must be digits, with an optional leading +",
                           field="number")
    return value


def flag(value, field):
    """A true/false value."""
    if not isinstance(value, bool):
        raise InvalidField(f"{field} must be true or false", field=field)
    return value


def level(value, field, low=1, high=MAX_LEVEL):
    """A whole number from ``low`` to ``high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(f"{field} must be a whole number", field=field)
    if not low <= value <= high:
        raise InvalidField(f"{field} must be from {low} to {high}", field=field)
    return value


def skills(value):
    """Skills as {skill name: level 1-10}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField("skills must be a mapping of skill: level", field="skills")
    clean = {}
    for name, skill_level in value.items():
        field = f"skills.{name}"
        if not isinstance(name, str) or not SKILL_RE.match(name):
            raise InvalidField(f"skill name {name!r} may hold only letters, digits, _, - and .",
                               field=field)
        clean[name] = level(skill_level, field, SKILL_LEVELS.start, SKILL_LEVELS.stop - 1)
    return clean


def memberships(value):
    """Queues as {queue name: member level >= 1}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidField("queues must be a mapping of queue: level", field="queues")
    return {queue_name(name, field=f"queues.{name}"): level(member_level, f"queues.{name}")
            for name, member_level in value.items()}


def unknown_fields(data, allowed):
    """Refuse a payload holding fields outside ``allowed``."""
    if not isinstance(data, dict):
        raise InvalidField("the body must be a JSON object", field=None)
    for name in sorted(set(data) - set(allowed)):
        raise InvalidField(f"unknown field {name!r}", field=name)


class FlowDirectory:
    """The IVR flows a DID may route to: the stems of the YAML files in one directory."""

    SUFFIXES = (".yaml", ".yml")

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def names(self):
        """The flow names, sorted."""
        if not self.path.is_dir():
            return []
        return sorted({entry.stem for entry in self.path.iterdir()
                       if entry.suffix in self.SUFFIXES and entry.is_file()})

    def check(self, value, field="flow"):
        """``value`` when a flow file of that stem exists, else InvalidField naming the known."""
        value = text(value, field, 64)
        known = self.names()
        if value not in known:
            raise InvalidField(f"no flow file {value}.yaml in {self.path} (known: "
                               f"{', '.join(known) or 'none'})", field=field)
        return value
