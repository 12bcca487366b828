"""Customers' phone numbers masked for users who may not see them (no ``crm.phones``).

A masked number keeps enough to recognise it: a Chinese mobile its first three and last four
digits (``138****8000``, ``+86 138****8000``), any other number its last four. A user without
the permission sees one customer's numbers in full while their agent has a call in progress
with one of them (ringing or talking, the caller's number in any format): the engine is
asked, and when it cannot answer the numbers stay masked.
"""

import dataclasses
import re

import phonenumbers
from flask import current_app, g

from web.calls.live import RINGING_AGENT, WITH_AGENT, LiveCallService
from web.crm.phones import try_parse
from web.crm.wiring import region

PERMISSION = "crm.phones"
_NON_DIGITS = re.compile(r"\D")


def mask_digits(digits):
    """``13800138000`` -> ``138****8000``; other numbers keep their last four digits."""
    if len(digits) == 11 and digits.startswith("1"):
        return digits[:3] + "****" + digits[-4:]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


def mask_number(text):
    """A number in any form masked: E.164 keeps its country code (``+86 138****8000``)."""
    text = str(text or "").strip()
    if text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            return "+" + mask_digits(_NON_DIGITS.sub("", text))
        return f"+{number.country_code} {mask_digits(str(number.national_number))}"
    return mask_digits(_NON_DIGITS.sub("", text))


def mask_text(text, region):
    """Free text (a note) with every phone number in it masked as :func:`mask_number` does.

    The numbers are found as libphonenumber finds them in text (``PhoneNumberMatcher``: a valid
    number of ``region``, or of the country its ``+`` code names); order numbers, dates and the
    rest stay as typed.
    """
    text = str(text or "")
    out, last = [], 0
    matches = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    for match in matches:
        out.append(text[last:match.start])
        out.append(mask_number(match.raw_string))
        last = match.end
    out.append(text[last:])
    return "".join(out)


def in_call_with(live_calls, extension, phones, region):
    """Whether agent ``extension`` rings or talks with one of ``phones`` (E.164) now.

    ``live_calls`` is a web.calls.live.LiveCalls; an engine that did not answer gives False.
    """
    if not extension or not live_calls.engine_available:
        return False
    wanted = set(phones)
    for call in live_calls.calls:
        if call.agent != extension or call.state not in (WITH_AGENT, RINGING_AGENT):
            continue
        parsed = try_parse(call.caller, region)
        if parsed is not None and parsed.e164 in wanted:
            return True
    return False


class PhoneVisibility:
    """Who sees which customer's numbers in full, for one user (one request).

    ``live_calls`` is a function returning LiveCalls, asked at most once and only when a
    user without the permission is shown a customer.
    """

    def __init__(self, user, live_calls, region):
        self.user = user
        self.always = user is not None and user.can(PERMISSION)
        self._live_calls = live_calls
        self._live = None
        self.region = region

    def full_for(self, customer):
        """Whether ``customer``'s numbers are shown in full."""
        if self.always:
            return True
        if self.user is None:
            return False
        if self._live is None:
            self._live = self._live_calls()
        return in_call_with(self._live, self.user.extension,
                            [phone.e164 for phone in customer.phones], self.region)

    def phones(self, customer):
        """``customer``'s phones as dicts (PhoneSchema), masked unless shown in full."""
        full = self.full_for(customer)
        return [masked_phone(phone.to_dict(), not full) for phone in customer.phones]

    def customer(self, customer):
        """``customer.to_dict()`` with its phones masked unless shown in full."""
        data = customer.to_dict()
        data["phones"] = self.phones(customer)
        return data

    def timeline(self, customer, items):
        """Timeline items with the numbers they show masked unless shown in full."""
        if self.full_for(customer):
            return list(items)
        return [masked_item(item, self.region) for item in items]

    def notes(self, customer, notes):
        """Notes as dicts, the numbers typed into them masked unless shown in full."""
        data = [note.to_dict() for note in notes]
        if self.full_for(customer):
            return data
        return [{**note, "text": mask_text(note["text"], self.region)} for note in data]

    def phone_lines(self, customer):
        """The edit form's phones, one a line, as this user may see them."""
        return "\n".join(phone["e164"] for phone in self.phones(customer))

    def unmask_lines(self, customer, lines):
        """The edit form's phone lines back: a masked line of a stored phone is that phone."""
        if self.full_for(customer):
            return lines
        stored = {}
        for phone in customer.phones:
            stored.setdefault(mask_number(phone.e164), []).append(phone.e164)
        result = []
        for line in lines:
            kept = stored.get(line.strip())
            result.append(kept.pop(0) if kept else line)
        return result


def masked_phone(phone, masked=True):
    """A phone dict (``to_dict``) with e164 and digits masked; ``masked`` says it."""
    if not masked:
        return {**phone, "masked": False}
    return {**phone, "e164": mask_number(phone["e164"]), "digits": mask_number(phone["digits"]),
            "masked": True}


_ITEM_NUMBERS = {"call": ("caller_number",), "callback": ("number", "caller_number"),
                 "change": ("old", "new")}


def masked_item(item, region=None):
    """A TimelineItem with the numbers of its detail (and title) masked (a note's text too,
    the numbers found in it as written in ``region``)."""
    if item.kind == "note" and region is not None and item.detail.get("text"):
        return dataclasses.replace(item, detail={**item.detail,
                                                 "text": mask_text(item.detail["text"], region)})
    names = _ITEM_NUMBERS.get(item.kind, ())
    if item.kind == "change" and item.detail.get("field") != "phones":
        names = ()
    if not names:
        return item
    detail, title = dict(item.detail), item.title
    for name in names:
        if detail.get(name):
            masked = mask_number(detail[name])
            title = title.replace(str(detail[name]), masked)
            detail[name] = masked
    return dataclasses.replace(item, detail=detail, title=title)


def masked_lookup(lookup, visibility):
    """The JSON of a web.crm.history.Lookup as ``visibility`` lets its user see it."""
    data = lookup.to_dict()
    data["customer"] = visibility.customer(lookup.customer)
    data["contacts"] = [item.to_dict() for item in
                        visibility.timeline(lookup.customer, lookup.contacts)]
    if not visibility.full_for(lookup.customer):
        data["number"] = mask_number(lookup.number)
    return data


def phone_visibility():
    """The PhoneVisibility of the request's user, asking the app's engine for live calls."""
    control = current_app.extensions["fs_cc_control"]
    return PhoneVisibility(g.get("user"), lambda: LiveCallService(control).in_progress(),
                           region())
