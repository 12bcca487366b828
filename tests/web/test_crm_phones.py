"""Phone numbers as people type them, read into E.164 and the digits searches look inside."""

import pytest

from web.crm.phones import (InvalidPhone, dialled_forms, fragment_digits, looks_like_phone,
                            parse_phone)

MOBILE = "+8613800138000"
BEIJING = "+861012345678"


@pytest.mark.parametrize("typed", ["+86 138 0013 8000", "13800138000", "008613800138000",
                                   "8613800138000", "+86-138-0013-8000", " 138 0013 8000 "])
def test_given_a_mobile_in_any_common_format_then_one_e164_and_home_digits(typed):
    parsed = parse_phone(typed)

    assert (parsed.e164, parsed.digits, parsed.kind) == (MOBILE, "13800138000", "mobile")


@pytest.mark.parametrize("typed", ["010-12345678", "(010) 1234 5678", "+86 10 1234 5678",
                                   "0086 10 12345678", "01012345678"])
def test_given_a_landline_with_its_area_code_then_the_trunk_zero_is_kept_in_digits(typed):
    parsed = parse_phone(typed)

    assert (parsed.e164, parsed.digits, parsed.kind) == (BEIJING, "01012345678", "landline")


def test_given_a_foreign_number_then_its_digits_keep_the_country_code():
    parsed = parse_phone("+1 650 253 0000")

    assert (parsed.e164, parsed.digits) == ("+16502530000", "16502530000")


@pytest.mark.parametrize("typed, reason", [("", "required"), ("1380013", "not a valid"),
                                           ("138-abc-8000", "characters"),
                                           ("12345678901234567", "not a valid")])
def test_given_no_valid_number_then_the_error_names_the_field(typed, reason):
    with pytest.raises(InvalidPhone) as caught:
        parse_phone(typed, field="phones.2")

    assert caught.value.field == "phones.2" and reason in caught.value.message


@pytest.mark.parametrize("typed, digits", [
    ("+86 138", "138"), ("0086 138 0013", "1380013"), ("0013", "0013"), ("8000", "8000"),
    ("010-1234", "0101234"), ("+86 10 1234", "101234"), ("+1 650", "1650")])
def test_given_part_of_a_number_then_the_fragment_is_what_home_digits_contain(typed, digits):
    assert fragment_digits(typed) == digits


def test_given_part_of_a_landline_after_plus_86_then_it_is_inside_the_stored_digits():
    assert fragment_digits("+86 10 1234") in parse_phone("010-12345678").digits


def test_given_a_number_then_every_form_a_switch_may_write_is_listed():
    forms = dialled_forms(parse_phone("13800138000"))

    assert set(forms) == {"+8613800138000", "8613800138000", "008613800138000",
                          "13800138000", "013800138000"}


@pytest.mark.parametrize("text, phone_like", [("138 0013", True), ("+86", True),
                                              ("王秀英", False), ("vip", False), ("", False),
                                              ("---", False)])
def test_given_box_text_then_only_digits_and_separators_look_like_a_phone(text, phone_like):
    assert looks_like_phone(text) is phone_like
