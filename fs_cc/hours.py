"""Opening hours, one format for the IVR's ``condition`` node and a queue's ``hours`` setting.

::

    {tz: Asia/Shanghai, mon-fri: "09:00-18:00", sat: ["10:00-12:00", "13:00-16:00"],
     holidays: [2026-10-01, 2026-10-02], holidays_file: holidays.txt}

Times are judged in the time zone ``tz``; a day takes one range or a list of ranges; the end
``24:00`` is midnight; a holiday is closed all day. ``holidays_file`` (one ``YYYY-MM-DD`` a line,
``#`` comments) is read relative to a folder, where the caller allows files at all.

The parser reads a YAML mapping that knows its lines (fs_cc.ivr.yamlmarks) or plain data (a
database row, a JSON body): ``fail(message, line)`` is told each problem, the line None when
the data has none.
"""

import dataclasses
import datetime
import os
import re
import typing
import zoneinfo

from fs_cc.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RANGE_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


@dataclasses.dataclass(frozen=True)
class Hours:
    """Opening hours in a time zone: minute ranges per weekday (0 is Monday), and holidays."""

    tz: str
    days: typing.Mapping[int, typing.Tuple[typing.Tuple[int, int], ...]]
    holidays: typing.FrozenSet[datetime.date] = frozenset()

    def open_at(self, epoch):
        """Whether the hours are open at ``epoch`` (a holiday is closed all day)."""
        local = datetime.datetime.fromtimestamp(epoch, zoneinfo.ZoneInfo(self.tz))
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days.get(local.weekday(), ()))


def _line(container, key):
    return container.line_of(key) if hasattr(container, "line_of") else None


def _key_line(mapping, key):
    return mapping.key_line_of(key) if hasattr(mapping, "key_line_of") else None


class HoursParser:
    """Reads an hours mapping into :class:`Hours`; ``fail(message, line)`` must raise.

    ``folder`` is where a ``holidays_file`` is looked for; None refuses the field (plain data
    has no file beside it).
    """

    def __init__(self, fail, folder=None):
        self.fail = fail
        self.folder = folder

    def hours(self, raw, line=None):
        """The Hours of ``raw``."""
        if not isinstance(raw, dict):
            self.fail("'hours' must map 'tz' and days (mon-fri, sat, ...) to time ranges", line)
        tz = raw.get("tz")
        if not isinstance(tz, str):
            self.fail("'hours' needs 'tz', a time zone such as Asia/Shanghai", _line(raw, "tz"))
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.fail(f"unknown time zone {tz!r} (e.g. Asia/Shanghai, Europe/London, UTC)",
                      _line(raw, "tz"))
        days, holidays = {}, set()
        for key, value in raw.items():
            where = _line(raw, key)
            if key == "tz":
                continue
            if key == "holidays":
                holidays |= self.dates(value, where)
            elif key == "holidays_file":
                holidays |= self.dates_file(value, where)
            else:
                for day in self.day_names(key, _key_line(raw, key)):
                    if day in days:
                        self.fail(f"{DAYS[day]} is given twice in 'hours'", _key_line(raw, key))
                    days[day] = self.ranges(value, where)
        if not days:
            self.fail("'hours' gives no day (mon, tue, ..., or a span such as mon-fri)", line)
        return Hours(tz, days, frozenset(holidays))

    def day_names(self, key, line):
        """The weekdays (0 is Monday) of a key such as ``mon-fri`` or ``sat,sun``."""
        out = []
        for part in str(key).split(","):
            first, _, last = part.strip().lower().partition("-")
            if first not in DAYS or (last and last not in DAYS):
                self.fail(f"bad day {key!r} in 'hours' (mon, tue, wed, thu, fri, sat, sun, or a "
                          f"span such as mon-fri)", line)
            start, end = DAYS.index(first), DAYS.index(last or first)
            if end < start:
                self.fail(f"bad day span {key!r}: it must run forward, e.g. mon-fri", line)
            out.extend(range(start, end + 1))
        return out

    def ranges(self, value, line):
        """The (start, end) minutes of one range or a list of them."""
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            self.fail(f"bad time range {value!r}: write it as \"09:00-18:00\"", line)
        out = []
        for item in items:
            match = RANGE_RE.match(item.replace(" ", "")) if isinstance(item, str) else None
            if match is None:
                self.fail(f"bad time range {item!r}: write it as \"09:00-18:00\"", line)
            h1, m1, h2, m2 = map(int, match.groups())
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
                self.fail(f"bad time range {item!r}: hours 00-23 (24:00 to end at midnight), "
                          f"minutes 00-59, and the end after the start", line)
            out.append((start, end))
        return tuple(out)

    def dates(self, value, line):
        """The dates of one date or a list of them."""
        items = value if isinstance(value, list) else [value]
        out = set()
        for index, item in enumerate(items):
            where = items.line_of(index) if hasattr(items, "line_of") else line
            out.add(self.date(item, where))
        return out

    def date(self, item, line, source=None):
        """One date (a YAML date or ``YYYY-MM-DD``); in a file (``source``), a ConfigError."""
        if isinstance(item, datetime.date) and not isinstance(item, datetime.datetime):
            return item
        try:
            return datetime.date.fromisoformat(str(item).strip())
        except ValueError:
            message = f"bad holiday date {item!r}: write it as 2026-10-01"
            if source is None:
                self.fail(message, line)
            raise ConfigError(message, source, line) from None

    def dates_file(self, value, line):
        """The dates of a holidays file."""
        if self.folder is None:
            self.fail("'holidays_file' is not available here: list the dates in 'holidays'",
                      line)
        if not isinstance(value, str) or not value:
            self.fail("'holidays_file' must name a file of dates", line)
        path = value if os.path.isabs(value) else os.path.join(self.folder, value)
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except OSError as exc:
            self.fail(f"cannot read holidays file {value!r}: {exc.strerror}", line)
        out = set()
        for number, text in enumerate(lines, 1):
            text = text.split("#", 1)[0].strip()
            if text:
                out.add(self.date(text, number, path))
        return out


def plain_hours(raw):
    """Hours as plain data (JSON-safe): the mapping ``HoursParser`` reads back."""
    out = {"tz": raw.tz}
    for day, ranges in sorted(raw.days.items()):
        out[DAYS[day]] = [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"
                          for s, e in ranges]
    if raw.holidays:
        out["holidays"] = [d.isoformat() for d in sorted(raw.holidays)]
    return out
