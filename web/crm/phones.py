"""Customers' phone numbers: parsed once with ``phonenumbers``, stored in E.164 and as digits.

People write one Chinese number many ways: ``+86 138 0013 8000``, ``13800138000``,
``008613800138000``, ``8613800138000``, a landline as ``010-12345678`` or ``(010) 1234 5678``.
A stored phone keeps its E.164 form (``+8613800138000``, what a full number is matched on) and
``digits``: the number as dialled inside the default region, trunk ``0`` included for landlines
(``01012345678``), or the E.164 digits for a foreign number. Any fragment a user types, once
reduced by ``fragment_digits``, is then a substring of ``digits``: ``+86 10 1234`` becomes
``101234``, found inside ``01012345678``.
"""

import dataclasses
import re

import phonenumbers

from web.errors import WebError

DEFAULT_REGION = "CN"
_PHONE_CHARS = re.compile(r"^[0-9+\-\s().]+$")
_NON_DIGITS = re.compile(r"\D")


class InvalidPhone(WebError):
    """A phone number that does not parse as a valid number."""

    status = 400


@dataclasses.dataclass(frozen=True)
class ParsedPhone:
    """One valid number in its stored forms."""

    e164: str  # +8613800138000
    digits: str  # 13800138000, 01012345678: as dialled in the default region
    kind: str  # mobile, landline, other


def looks_like_phone(text):
    """Whether ``text`` holds only what a typed phone number holds (digits, + - ( ) . spaces)."""
    return bool(text) and bool(_PHONE_CHARS.match(text)) and any(c.isdigit() for c in text)


def _candidates(raw, region):
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    yield text, region
    if digits.startswith("00"):
        yield "+" + digits[2:], None  # an international prefix typed as 00
    elif not text.startswith("+") and digits:
        yield "+" + digits, None  # a country code typed without its +


def parse_phone(raw, region=DEFAULT_REGION, field="phone"):
    """ParsedPhone of ``raw``; InvalidPhone naming ``field`` when it is no valid number."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhone(f"{field}: a phone number is required", field=field)
    if not looks_like_phone(raw):
        raise InvalidPhone(f"{field}: {raw!r} holds characters a phone number does not",
                           field=field)
    for text, text_region in _candidates(raw, region):
        try:
            number = phonenumbers.parse(text, text_region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return _parsed(number, region)
    raise InvalidPhone(f"{field}: {raw.strip()!r} is not a valid phone number "
                       f"(default region {region})", field=field)


def _parsed(number, region):
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if phonenumbers.region_code_for_number(number) == region:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        digits = _NON_DIGITS.sub("", national)
    else:
        digits = e164[1:]
    kind = phonenumbers.number_type(number)
    if kind in (phonenumbers.PhoneNumberType.MOBILE,):
        name = "mobile"
    elif kind in (phonenumbers.PhoneNumberType.FIXED_LINE,
                  phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        name = "landline"
    else:
        name = "other"
    return ParsedPhone(e164, digits, name)


def try_parse(raw, region=DEFAULT_REGION):
    """ParsedPhone of ``raw``, or None when it is no valid number."""
    try:
        return parse_phone(raw, region)
    except InvalidPhone:
        return None


def fragment_digits(raw, region=DEFAULT_REGION):
    """The digits to look for inside stored ``digits`` when ``raw`` is part of a number.

    ``+86 138`` and ``0086 138`` drop the international prefix and the region's country code;
    what remains is a substring of the number as dialled at home.
    """
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    code = str(phonenumbers.country_code_for_region(region))
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00" + code) or (digits.startswith("00") and len(digits) >= 9):
        # a short "0013" is a piece of 13800138000, not an international prefix
        international = digits[2:]
    else:
        return digits
    if international.startswith(code) and len(international) > len(code):
        return international[len(code):]
    return international or digits


def dialled_forms(phone, region=DEFAULT_REGION):
    """Every way a switch may have written ``phone`` (a ParsedPhone) as a caller number.

    Call and callback records keep the number as FreeSWITCH gave it; matching them to a
    customer compares these forms exactly, so the records' own index serves.
    """
    code = str(phonenumbers.country_code_for_region(region))
    national = phone.e164[1 + len(code):] if phone.e164.startswith("+" + code) else None
    forms = {phone.e164, phone.e164[1:], "00" + phone.e164[1:], phone.digits}
    if national is not None:
        forms.update({national, "0" + national, code + national})
    return sorted(forms)
