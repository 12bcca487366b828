"""The say node's readings: pure text, Chinese and English, and the node's checks at load."""

import datetime

import pytest

from fs_cc.errors import ConfigError
from fs_cc.ivr import parse_flow
from fs_cc.ivr.nodes_say import SayError, SayNode, say_text, value_words


@pytest.mark.parametrize("number, chinese", [
    (0, "零"), (5, "五"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (100, "一百"),
    (101, "一百零一"), (110, "一百一十"), (1000, "一千"), (1005, "一千零五"),
    (1010, "一千零一十"), (10000, "一万"), (10005, "一万零五"), (12345, "一万二千三百四十五"),
    (100005, "十万零五"), (100500, "十万零五百"), (110000, "十一万"), (1000500, "一百万零五百"),
    (1001001, "一百万一千零一"), (100000000, "一亿"), (100000005, "一亿零五"),
    (120003000, "一亿二千万三千"), (-15, "负十五"), ("3.14", "三点一四"), (-2.5, "负二点五"),
])
def test_given_number_when_said_in_chinese_then_proper_reading(number, chinese):
    assert say_text("number", number, "zh") == chinese


@pytest.mark.parametrize("number, english", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (40, "forty"), (45, "forty-five"),
    (101, "one hundred one"), (1000, "one thousand"), (1005, "one thousand five"),
    (12345, "twelve thousand three hundred forty-five"), (1000500, "one million five hundred"),
    (-15, "minus fifteen"), ("3.14", "three point one four"), ("0.05", "zero point zero five"),
])
def test_given_number_when_said_in_english_then_composed_words(number, english):
    assert say_text("number", number, "en") == english


@pytest.mark.parametrize("amount, chinese, english", [
    ("12.50", "十二元五角", "twelve yuan and fifty cents"),
    ("12.05", "十二元零五分", "twelve yuan and five cents"),
    ("12.56", "十二元五角六分", "twelve yuan and fifty-six cents"),
    (12, "十二元整", "twelve yuan"),
    ("0.5", "五角", "fifty cents"),
    ("0.01", "一分", "one cent"),
    (2, "两元整", "two yuan"),
    ("1002.30", "一千零二元三角", "one thousand two yuan and thirty cents"),
    (0, "零元整", "zero yuan"),
])
def test_given_money_when_said_then_yuan_jiao_fen_and_yuan_cents(amount, chinese, english):
    assert say_text("money", amount, "zh") == chinese
    assert say_text("money", amount, "en") == english


@pytest.mark.parametrize("day, chinese, english", [
    ("2026-12-03", "二零二六年十二月三日", "December third, twenty twenty-six"),
    ("2000-01-01", "二零零零年一月一日", "January first, two thousand"),
    ("2005-07-21", "二零零五年七月二十一日", "July twenty-first, two thousand five"),
    ("1999-11-30", "一九九九年十一月三十日", "November thirtieth, nineteen ninety-nine"),
    (datetime.date(2010, 5, 22), "二零一零年五月二十二日", "May twenty-second, twenty ten"),
])
def test_given_date_when_said_then_year_month_day(day, chinese, english):
    assert say_text("date", day, "zh") == chinese
    assert say_text("date", day, "en") == english


@pytest.mark.parametrize("clock, chinese, english", [
    ("15:15", "下午三点十五分", "three fifteen p.m."),
    ("09:05", "上午九点零五分", "nine oh five a.m."),
    ("12:00", "中午十二点", "twelve noon"),
    ("00:00", "凌晨零点", "midnight"),
    ("02:30", "凌晨两点三十分", "two thirty a.m."),
    ("14:00", "下午两点", "two p.m."),
    ("23:59:10", "晚上十一点五十九分", "eleven fifty-nine p.m."),
])
def test_given_time_when_said_then_part_of_day_hour_minute(clock, chinese, english):
    assert say_text("time", clock, "zh") == chinese
    assert say_text("time", clock, "en") == english


def test_given_digits_when_said_then_each_digit_alone():
    assert say_text("digits", "13800", "zh") == "一三八零零"
    assert say_text("digits", 4021, "en") == "four zero two one"


@pytest.mark.parametrize("kind, value", [
    ("number", "abc"), ("number", True), ("money", "1.234"), ("digits", "12a"),
    ("date", "2026-13-01"), ("date", "03/12/2026"), ("time", "24:00"), ("time", "915"),
])
def test_given_value_the_kind_cannot_read_when_said_then_say_error(kind, value):
    with pytest.raises(SayError):
        say_text(kind, value, "zh")


def test_given_prompt_variable_when_worded_then_numbers_read_and_text_kept():
    assert value_words("1200", "zh") == "一千二百"
    assert value_words("gold", "en") == "gold"
    assert value_words("", "en") == ""


FLOW = """\
name: t
language: zh
start: amount
nodes:
  amount:
    type: say
    as: money
    value: "12.50"
    next: bye
  bye: {type: hangup}
"""


def test_given_say_node_when_flow_parsed_then_kind_value_and_flow_language():
    flow = parse_flow(FLOW, "t.yaml")
    node = flow.node("amount")
    assert isinstance(node, SayNode)
    assert (node.kind, node.value, node.language, flow.language) == ("money", "12.50", None, "zh")
    assert node.speech_texts("zh") == ("十二元五角",)


@pytest.mark.parametrize("old, new, line, message", [
    ('    value: "12.50"\n', '    value: "abc"\n', 8, "cannot say 'abc' as money"),
    ("    as: money\n", "    as: money-ish\n", 7,
     "'as' must be one of number, digits, money, date, time"),
    ("    next: bye\n", "    next: bye\n    language: fr\n", 10, "unknown language 'fr'"),
    ("language: zh\n", "language: klingon\n", 2, "unknown language 'klingon'"),
])
def test_given_bad_say_node_when_parsed_then_error_names_line(old, new, line, message):
    with pytest.raises(ConfigError) as caught:
        parse_flow(FLOW.replace(old, new), "t.yaml")
    assert caught.value.line == line
    assert message in str(caught.value)


def test_given_say_node_with_value_and_variable_when_parsed_then_refused():
    with pytest.raises(ConfigError, match="either 'value'"):
        parse_flow(FLOW.replace('    value: "12.50"\n', '    value: 1\n    variable: x\n'),
                   "t.yaml")
