"""The ``say`` node: numbers, digits, money, dates and times read out in Chinese or English.

The reading is plain text made here (pure functions, :func:`say_text`), then spoken by the flow's
speech cache (fs_cc.ivr.speech): a literal ``value`` is spoken when the flow loads, a
``variable``'s value when the call reaches the node, once per distinct text.
"""

import dataclasses
import datetime
import decimal
import re
import typing

from fs_cc.ivr.nodes import (Node, Target, VARIABLE_RE, barge_in_field, language_field,
                             node_type)

KINDS = ("number", "digits", "money", "date", "time")

ZH_DIGITS = "零一二三四五六七八九"
ZH_UNITS = ("", "十", "百", "千")
ZH_GROUPS = ("", "万", "亿", "万亿")

EN_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
           "fourteen fifteen sixteen seventeen eighteen nineteen").split()
EN_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
EN_GROUPS = ("", " thousand", " million", " billion", " trillion")
EN_MONTHS = ("January February March April May June July August September October November "
             "December").split()
EN_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
               "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}

DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


class SayError(ValueError):
    """A value the chosen kind cannot read (``kind``, ``value``)."""

    def __init__(self, kind, value, why):
        super().__init__(f"cannot say {value!r} as {kind}: {why}")
        self.kind = kind
        self.value = value


# -- Chinese ------------------------------------------------------------------------------------

def _zh_group(number):
    """0 < number < 10000 in Chinese, with 零 for inner zeros (1005 一千零五)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = number // 10 ** position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += ZH_DIGITS[digit] + ZH_UNITS[position]
    return text


def zh_integer(number):
    """A whole number the Chinese way: 12345 一万二千三百四十五, 100005 十万零五, 10 十."""
    if number < 0:
        return "负" + zh_integer(-number)
    if number == 0:
        return "零"
    groups = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    if len(groups) > len(ZH_GROUPS):
        raise SayError("number", number, "too large")
    text, need_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(text)
            continue
        if text and (need_zero or group < 1000):
            text += "零"
        text += _zh_group(group) + ZH_GROUPS[index]
        need_zero = False
    if text.startswith("一十"):  # 10-19 of the leading group read 十, 十五, 十万
        text = text[1:]
    return text


def zh_digits(text):
    """Each digit on its own: 1380 一三八零."""
    return "".join(ZH_DIGITS[int(ch)] for ch in text)


def zh_number(value):
    """A number, with a fraction read digit by digit: 3.14 三点一四, -2 负二."""
    whole, _, fraction = _decimal_text(value, "number").partition(".")
    text = zh_integer(int(whole))
    if whole == "-0":
        text = "负零"
    return text + ("点" + zh_digits(fraction) if fraction else "")


def zh_money(value):
    """Yuan, jiao and fen: 12.50 十二元五角, 12.05 十二元零五分, 12 十二元整, 2 两元整."""
    amount = _money(value)
    sign, amount = ("负", -amount) if amount < 0 else ("", amount)
    fen_total = int(amount * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    text = ""
    if yuan:
        text = "两" if yuan == 2 else zh_integer(yuan)
        text += "元"
    if not jiao and not fen:
        return sign + (text or "零元") + "整"
    if jiao:
        text += ZH_DIGITS[jiao] + "角"
    if fen:
        text += ("零" if yuan and not jiao else "") + ZH_DIGITS[fen] + "分"
    return sign + text


def zh_date(value):
    """Year digit by digit, then month and day: 2026-12-03 二零二六年十二月三日."""
    day = _date(value)
    return f"{zh_digits(str(day.year))}年{zh_integer(day.month)}月{zh_integer(day.day)}日"


def zh_time(value):
    """A time of day with its part of the day: 15:15 下午三点十五分, 09:05 上午九点零五分."""
    hour, minute = _time(value)
    if hour < 6:
        part = "凌晨"
    elif hour < 12:
        part = "上午"
    elif hour == 12:
        part = "中午"
    elif hour < 18:
        part = "下午"
    else:
        part = "晚上"
    twelve = hour if hour <= 12 else hour - 12
    text = part + ("两" if twelve == 2 else zh_integer(twelve)) + "点"
    if minute:
        text += ("零" if minute < 10 else "") + zh_integer(minute) + "分"
    return text


# -- English ------------------------------------------------------------------------------------

def _en_hundreds(number):
    """0 < number < 1000 in words."""
    words = []
    if number >= 100:
        words.append(EN_ONES[number // 100] + " hundred")
        number %= 100
    if number >= 20:
        words.append(EN_TENS[number // 10] + ("-" + EN_ONES[number % 10] if number % 10 else ""))
    elif number:
        words.append(EN_ONES[number])
    return " ".join(words)


def en_integer(number):
    """A whole number in words: 12345 twelve thousand three hundred forty-five."""
    if number < 0:
        return "minus " + en_integer(-number)
    if number == 0:
        return "zero"
    groups = []
    while number:
        groups.append(number % 1000)
        number //= 1000
    if len(groups) > len(EN_GROUPS):
        raise SayError("number", number, "too large")
    return " ".join(_en_hundreds(group) + EN_GROUPS[index]
                    for index, group in reversed(list(enumerate(groups))) if group)


def en_digits(text):
    """Each digit on its own: 1380 one three eight zero."""
    return " ".join(EN_ONES[int(ch)] for ch in text)


def en_number(value):
    """A number, with a fraction read digit by digit: 3.14 three point one four."""
    whole, _, fraction = _decimal_text(value, "number").partition(".")
    text = ("minus zero" if whole == "-0" else en_integer(int(whole)))
    return text + (" point " + en_digits(fraction) if fraction else "")


def en_money(value):
    """Yuan and cents: 12.50 twelve yuan and fifty cents, 1.01 one yuan and one cent."""
    amount = _money(value)
    sign, amount = ("minus ", -amount) if amount < 0 else ("", amount)
    cents_total = int(amount * 100)
    yuan, cents = cents_total // 100, cents_total % 100
    parts = []
    if yuan or not cents:
        parts.append(f"{en_integer(yuan)} yuan")
    if cents:
        parts.append(f"{en_integer(cents)} cent{'s' if cents != 1 else ''}")
    return sign + " and ".join(parts)


def en_ordinal(number):
    """1 first, 3 third, 21 twenty-first, 30 thirtieth."""
    words = en_integer(number)
    head, sep, last = words.rpartition("-") if "-" in words else words.rpartition(" ")
    if last in EN_ORDINALS:
        last = EN_ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def en_year(year):
    """2026 twenty twenty-six, 2000 two thousand, 2005 two thousand five, 1999 nineteen
    ninety-nine."""
    high, low = divmod(year, 100)
    if year < 1000 or (2000 <= year < 2010) or low == 0 and high % 10 == 0:
        return en_integer(year)
    return en_integer(high) + " " + ("hundred" if low == 0 else
                                     ("oh " + EN_ONES[low] if low < 10 else en_integer(low)))


def en_date(value):
    """2026-12-03 December third, twenty twenty-six."""
    day = _date(value)
    return f"{EN_MONTHS[day.month - 1]} {en_ordinal(day.day)}, {en_year(day.year)}"


def en_time(value):
    """15:15 three fifteen p.m., 09:05 nine oh five a.m., 12:00 twelve noon, 00:00 midnight."""
    hour, minute = _time(value)
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "twelve noon"
    twelve = hour % 12 or 12
    text = en_integer(twelve)
    if minute:
        text += " " + ("oh " + EN_ONES[minute] if minute < 10 else en_integer(minute))
    return text + (" a.m." if hour < 12 else " p.m.")


# -- values -------------------------------------------------------------------------------------

def _decimal_text(value, kind):
    if isinstance(value, bool):
        raise SayError(kind, value, "not a number")
    try:
        number = decimal.Decimal(str(value).strip())
    except decimal.InvalidOperation:
        raise SayError(kind, value, "not a number") from None
    if not number.is_finite():
        raise SayError(kind, value, "not a number")
    return format(number, "f")


def _money(value):
    amount = decimal.Decimal(_decimal_text(value, "money"))
    if amount != amount.quantize(decimal.Decimal("0.01")):
        raise SayError("money", value, "more than two decimals")
    return amount


def _date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    match = DATE_RE.match(str(value).strip())
    if match is None:
        raise SayError("date", value, "expected YYYY-MM-DD")
    try:
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError as exc:
        raise SayError("date", value, str(exc)) from None


def _time(value):
    if isinstance(value, (datetime.datetime, datetime.time)):
        return value.hour, value.minute
    match = TIME_RE.match(str(value).strip())
    if match is None:
        raise SayError("time", value, "expected HH:MM")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise SayError("time", value, "no such time of day")
    return hour, minute


def _digits(value):
    text = str(value).strip()
    if not text.isdigit() or not text.isascii():
        raise SayError("digits", value, "only the digits 0-9")
    return text


READERS = {
    "zh": {"number": zh_number, "digits": lambda v: zh_digits(_digits(v)), "money": zh_money,
           "date": zh_date, "time": zh_time},
    "en": {"number": en_number, "digits": lambda v: en_digits(_digits(v)), "money": en_money,
           "date": en_date, "time": en_time},
}


def say_text(kind, value, language):
    """The words that read ``value`` as ``kind`` (one of KINDS) in ``language`` (zh, en)."""
    return READERS[language][kind](value)


def value_words(value, language):
    """A prompt variable's value as words: a number read as a number, anything else as it is."""
    text = str(value).strip()
    try:
        return say_text("number", text, language) if text else ""
    except SayError:
        return text


# -- the node -----------------------------------------------------------------------------------

@node_type
@dataclasses.dataclass(frozen=True)
class SayNode(Node):
    """Read a ``value`` (or a channel ``variable``'s value) ``as`` a number, digits, money, a
    date or a time, then go to ``next``."""

    kind: str = "number"
    value: typing.Optional[str] = None
    variable: typing.Optional[str] = None
    language: typing.Optional[str] = None  # None: the flow's language
    barge_in: typing.Optional[bool] = None  # None: the switch's playback_terminators
    next: str = ""
    next_line: int = 0

    type_name: typing.ClassVar[str] = "say"

    @classmethod
    def parse(cls, node_id, fields):
        kind = fields.text("as")
        if kind not in KINDS:
            fields.fail(f"'as' must be one of {', '.join(KINDS)}, not {kind!r}", "as")
        value, has_value = fields._get("value", False, None)
        variable = fields.text("variable", required=False)
        if has_value == (variable is not None):
            fields.fail("give either 'value' (what to say) or 'variable' (whose value to say)",
                        "value" if has_value else None)
        if variable is not None and not VARIABLE_RE.match(variable):
            fields.fail(f"'{variable}' is not a channel variable name", "variable")
        language = language_field(fields)
        if has_value:
            try:  # a literal is checked now, in every language it may be read in
                for lang in READERS:
                    say_text(kind, value, lang)
            except SayError as exc:
                fields.fail(str(exc), "value")
            if not isinstance(value, (datetime.date, datetime.time)):
                value = str(value)
        return cls(node_id, fields.node_line, kind, value, variable, language,
                   barge_in_field(fields), fields.node_ref("next"), fields.line("next"))

    def targets(self):
        return [Target("next", self.next, self.next_line)]

    def speech_texts(self, language):
        """A literal's reading, spoken when the flow loads; a variable's is spoken per call."""
        return () if self.value is None else (say_text(self.kind, self.value, language),)
