"""Dial strings: `{vars}[vars]endpoint` parsing and the creation of outbound legs."""

import logging
import re

import gevent

from fs_cc.emulator.channel import CallerProfile, Channel, ChannelState, WakeReason
from fs_cc.emulator.directory import locate_user
from fs_cc.emulator.endpoints import gateway_outcome, run_caller, run_customer, run_phone

logger = logging.getLogger(__name__)


class OriginateError(Exception):
    """An originate or bridge failed with a hangup cause."""

    def __init__(self, cause):
        super().__init__(cause)
        self.cause = cause


_DIAL_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
_DIAL_FUNCTION = re.compile(r"\$\{([A-Za-z0-9_]+)\(([^)]*)\)\}")


def split_vars(text):
    """Parse `a=1,b='x,y'` (or `^^:a=1:b=2`, a chosen delimiter) into a dict."""
    result = {}
    delimiter = ","
    if text.startswith("^^") and len(text) > 2:
        delimiter, text = text[2], text[3:]
    pattern = r"(?:[^%s']|'[^']*')+" % re.escape(delimiter)
    for part in re.findall(pattern, text):
        key, _, value = part.partition("=")
        if key.strip():
            result[key.strip()] = value.strip().strip("'")
    return result


def parse_dialstring(dialstring):
    """`{g=1}[l=2]user/1000|error/busy` -> (global vars, [(local vars, endpoint), ...])."""
    dialstring = dialstring.strip()
    global_vars = {}
    while dialstring.startswith("{") or dialstring.startswith("<"):
        close = "}" if dialstring[0] == "{" else ">"
        end = dialstring.index(close)
        global_vars.update(split_vars(dialstring[1:end]))
        dialstring = dialstring[end + 1:]
    legs = []
    for target in re.split(r"[|,](?![^\[]*\])", dialstring):
        local = {}
        target = target.strip()
        while target.startswith("["):
            end = target.index("]")
            local.update(split_vars(target[1:end]))
            target = target[end + 1:]
        if target:
            legs.append((local, target))
    return global_vars, legs


def _outbound_profile(variables, destination, context="default", source="mod_sofia"):
    name = variables.get("origination_caller_id_name", "")
    number = variables.get("origination_caller_id_number", "0000000000")
    return CallerProfile(
        direction="outbound", logical_direction="outbound", caller_id_name=name,
        caller_id_number=number, orig_caller_id_name=name, orig_caller_id_number=number,
        callee_id_name="Outbound Call", callee_id_number=destination, ani=number,
        destination_number=destination, source=source, context=context)


def create_leg(switch, endpoint, variables):
    """Create and start an outbound leg for endpoint; raise OriginateError for instant failures."""
    kind, _, rest = endpoint.partition("/")
    if kind == "error":
        raise OriginateError(rest.upper() or "NORMAL_TEMPORARY_FAILURE")
    if kind == "loopback":
        return _loopback(switch, rest, variables)
    if kind == "user":
        return _user_leg(switch, rest, variables)
    if kind == "sofia":
        profile, _, target = rest.partition("/")
        if profile == "gateway":
            name, _, number = target.partition("/")
            return _gateway_leg(switch, name, number, variables)
        extension = target.split("@")[0]
        if extension.startswith("sip:"):
            extension = extension[4:]
        if switch.phones.get(extension) is not None:
            return _phone_leg(switch, extension, variables, endpoint)
        raise OriginateError("NORMAL_TEMPORARY_FAILURE")
    raise OriginateError("CHAN_NOT_IMPLEMENTED")


def expand_dial_string(switch, text, variables):
    """${var} from the originate's variables, else a global; ${sofia_contact(*/user@domain)}.

    Only `${` is expanded: a `%{` (what FreeSWITCH makes of a `${` stored in a global variable,
    switch_string_var_check) stays as it is, as in switch_channel_expand_variables.
    """
    def value(match):
        name = match.group(1)
        return variables[name] if name in variables else switch.global_var(name, "")

    def function(match):
        name, argument = match.groups()
        return _sofia_contact(switch, argument) if name == "sofia_contact" else ""
    # variables inside a function's argument first, as the expansion recurses into ${...}
    return _DIAL_FUNCTION.sub(function, _DIAL_VAR.sub(value, text))


def _sofia_contact(switch, argument):
    """sofia_contact [profile/]user@domain: the registered phone's contact, as mod_sofia answers."""
    user = argument.rpartition("/")[2].split("@")[0]
    phone = switch.phones.get(user)
    if phone is None or not phone.registered:
        return "error/user_not_registered"
    return "sofia/internal/sip:%s@127.0.0.1:5062" % user


def _user_leg(switch, rest, variables):
    """user/<id>[@domain] as user_outgoing_channel (mod_dptools.c): the user's dial-string, dialled.

    A user the directory (fs_cc.emulator.directory: an xml_curl binding, then the phones) does
    not hold fails with SUBSCRIBER_ABSENT, one without a dial-string with MANDATORY_IE_MISSING;
    the dial-string is expanded with dialed_user and dialed_domain and dialled as the leg, which
    then gets the user's directory variables.
    """
    user, _, domain = rest.partition("@")
    domain = domain or switch.global_var("domain", "127.0.0.1")
    found = locate_user(switch, user, domain, action="user_call")
    if found is None:
        raise OriginateError("SUBSCRIBER_ABSENT")
    dest = found.dial_string
    if not dest:
        raise OriginateError("MANDATORY_IE_MISSING")
    variables = dict(variables)
    variables.setdefault("dialed_user", user)
    variables.setdefault("dialed_domain", domain)
    if "presence_id=" not in dest:  # user_outgoing_channel's own presence_id (Channel-Presence-ID)
        variables.setdefault("presence_id", "%s@%s" % (user, variables["dialed_domain"]))
    dial_string = expand_dial_string(switch, dest, variables)
    global_vars, legs = parse_dialstring(dial_string)
    if not legs:
        raise OriginateError("DESTINATION_OUT_OF_ORDER")
    local_vars, endpoint = legs[0]
    variables.update(global_vars)
    variables.update(local_vars)
    channel = create_leg(switch, endpoint, variables)
    for name, value in found.variables.items():
        channel.set_var(name, value)
    return channel


def _new_outbound(switch, name, variables, profile, endpoint_kind, initial_name=None):
    wanted_uuid = variables.get("origination_uuid")
    channel = Channel(switch, initial_name or name, "outbound", profile)
    for key, value in (("direction", "outbound"), ("is_outbound", "true"),
                       ("session_id", switch.next_session_id())):
        channel.set_var(key, value)
    switch.register(channel)
    channel.fire_codecs()
    channel.name = channel.profile.channel_name = name
    channel.set_var("channel_name", name)
    old = channel.uuid
    if wanted_uuid and wanted_uuid != channel.uuid:
        switch.rename(channel, wanted_uuid)
    channel.set_var("uuid", channel.uuid)
    channel.set_var("call_uuid", channel.call_uuid)
    if old != channel.uuid:
        channel.fire("CHANNEL_UUID", pre=[("Old-Unique-ID", old)])
    channel.fire("CHANNEL_OUTGOING")
    for key, value in variables.items():
        channel.set_var(key, value)
    channel.set_var("originate_early_media", "true")
    channel.set_var("originate_endpoint", endpoint_kind)
    return channel


def _outbound_states(channel):
    """An outbound leg's state machine until the originator gives it a job."""
    channel.set_state(ChannelState.CS_INIT)
    channel.fire("CHANNEL_CREATE")
    channel.fire("CHANNEL_ORIGINATE")
    channel.set_state(ChannelState.CS_ROUTING)
    channel.set_state(ChannelState.CS_CONSUME_MEDIA)
    channel.wait()


def _loopback(switch, rest, variables):
    parts = rest.split("/")
    ext = parts[0]
    context = parts[1] if len(parts) > 1 and parts[1] else "default"
    a_profile = _outbound_profile(variables, ext, context, "mod_loopback")
    a_profile.callee_id_number = context
    a_leg = _new_outbound(switch, "loopback/%s-a" % ext, variables, a_profile, "loopback",
                          initial_name="loopback/%s-a" % rest)
    name = a_profile.caller_id_name
    number = a_profile.caller_id_number
    b_profile = CallerProfile(
        caller_id_name=name, caller_id_number=number, orig_caller_id_name=name,
        orig_caller_id_number=number, callee_id_name="Outbound Call", callee_id_number=context,
        ani=number, destination_number=ext, source="mod_loopback", context=context)
    b_leg = Channel(switch, "loopback/%s-b" % ext, "inbound", b_profile)
    b_leg.set_var("direction", "inbound")
    b_leg.set_var("uuid", b_leg.uuid)
    b_leg.set_var("session_id", switch.next_session_id())
    b_leg.set_var("channel_name", b_leg.name)
    switch.register(b_leg)
    b_leg.fire_codecs()
    # mod_loopback keeps a copy of the originate's variables ("__loopback_vars__") and sets every
    # one on the B-leg it creates, so {fs_cc_test_socket=...}loopback/5901/public reaches the leg
    # that runs the dialplan (origination_uuid included, as the recordings show)
    for key, value in variables.items():
        b_leg.set_var(key, value)
    a_leg.set_var("other_loopback_leg_uuid", b_leg.uuid)
    a_leg.set_var("loopback_leg", "A")
    b_leg.set_var("other_loopback_leg_uuid", a_leg.uuid)
    b_leg.set_var("loopback_leg", "B")
    b_leg.set_var("call_uuid", b_leg.uuid)
    a_leg.loopback_partner = b_leg
    b_leg.loopback_partner = a_leg
    a_leg.start(lambda: _outbound_states(a_leg))
    b_leg.start(lambda: switch.route_inbound(b_leg, ext, context))
    if any(k.startswith("fs_cc_sim_") for k in variables):
        gevent.spawn(run_caller, a_leg, b_leg).link_exception(switch.log_failure)
    return a_leg


def _phone_leg(switch, extension, variables, endpoint):
    phone = switch.phones.get(extension)
    if phone is None or not phone.registered:
        raise OriginateError("USER_NOT_REGISTERED")
    if phone.busy:
        raise OriginateError("USER_BUSY")
    variables = dict(variables)
    variables.setdefault("dialed_user", extension)
    variables.setdefault("dialed_domain", "127.0.0.1")
    profile = _outbound_profile(variables, extension)
    channel = _new_outbound(switch, "sofia/internal/%s@127.0.0.1" % extension, variables, profile, "sofia")
    channel.start(lambda: _outbound_states(channel))
    gevent.spawn(run_phone, channel, phone).link_exception(switch.log_failure)
    return channel


def _gateway_leg(switch, name, number, variables):
    gateway = switch.gateways.get(name)
    if gateway is None:
        raise OriginateError("INVALID_GATEWAY")
    outcome, ring = gateway_outcome(gateway, number, switch.rng)
    if outcome == "down":
        raise OriginateError("GATEWAY_DOWN")
    profile = _outbound_profile(variables, number)
    channel = _new_outbound(switch, "sofia/gateway/%s/%s" % (name, number), variables, profile, "sofia")
    channel.start(lambda: _outbound_states(channel))
    gevent.spawn(run_customer, channel, gateway, outcome, ring, switch.rng).link_exception(switch.log_failure)
    return channel


def dial(switch, dialstring, extra_vars=None, default_timeout=60):
    """Place legs in turn until one answers; return it, or raise OriginateError with the cause."""
    global_vars, legs = parse_dialstring(dialstring)
    if not legs:
        raise OriginateError("DESTINATION_OUT_OF_ORDER")
    cause = "NORMAL_TEMPORARY_FAILURE"
    for local_vars, endpoint in legs:
        variables = dict(extra_vars or {})
        variables.update(global_vars)
        variables.update(local_vars)
        timeout = float(variables.get("originate_timeout") or variables.get("leg_timeout")
                        or variables.get("call_timeout") or default_timeout)
        try:
            channel = create_leg(switch, endpoint, variables)
        except OriginateError as exc:
            cause = exc.cause
            continue
        deadline = switch.clock.monotonic() + switch.clock.real(timeout)
        while not channel.hungup and channel.answer_state != "answered":
            remaining = deadline - switch.clock.monotonic()
            if remaining <= 0:
                break
            channel.answered_event.clear()
            if channel.answer_state == "answered" or channel.hungup:
                break
            channel.answered_event.wait(remaining)
        if channel.answer_state == "answered" and not channel.hungup:
            return channel
        if not channel.hungup:
            channel.hangup("NO_ANSWER")
            cause = "NO_ANSWER"
        else:
            cause = channel.hangup_cause
    raise OriginateError(cause)


def wait_done(channel, seconds):
    """Wait (real seconds) for a channel to be destroyed."""
    return channel.done_event.wait(seconds)


__all__ = ["OriginateError", "parse_dialstring", "dial", "create_leg", "WakeReason", "wait_done"]
