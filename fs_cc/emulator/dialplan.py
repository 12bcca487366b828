"""The XML-dialplan stand-in: per context, destination-number regexes mapped to actions."""

import re
import time

_VAR = re.compile(r"\$\{([^}]+)\}")


ENGINE_SOCKET_VAR = "fs_cc_engine_socket"  # global variable: where the `public` context sends calls
TEST_SOCKET = r"^[A-Za-z0-9.-]+:\d+$"
_INBOUND_INLINE = [["set", "outside_call=true"], ["export", "RFC2822_DATE=${RFC2822_DATE}"]]
# as freeswitch_conf's public dialplan: a caller whose agent leaves is hung up, even if the
# engine that bridged them is gone (docs/freeswitch-semantics.rst)
_TO_ENGINE = [["set", "hangup_after_bridge=true"]]
# after `socket`, as freeswitch_conf's public dialplan: no engine (or a dead one) leaves the
# caller on hold music, marked, for a restarted engine to adopt through fs_cc_adopt
_ENGINE_LOST = [["set", "fs_cc_engine_lost=true"], ["answer", ""],
                ["set", "playback_timeout_sec=1800"], ["playback", "local_stream://moh"],
                ["hangup", "NORMAL_TEMPORARY_FAILURE"]]
_SOCKET = [["socket", "${fs_cc_socket} async full"]]


def default_dialplan(socket_target=None):
    """`public` sends calls to the engine's outbound socket; `default` has test extensions.

    Test numbers 59xx whose originate carried fs_cc_test_socket=HOST:PORT go to that socket, as
    the overlay's extension fs_cc_test_numbers_own_engine does (freeswitch_conf/dialplan/public);
    every other number goes to socket_target, or, without one, to the global variable
    fs_cc_engine_socket, which follows the emulator's configured socket_target.
    """
    target = socket_target or "${%s}" % ENGINE_SOCKET_VAR
    return {
        "public": [{
            "name": "fs_cc_test_numbers_own_engine", "match": r"^(59\d{2})$",
            "conditions": [["${fs_cc_test_numbers}", r"^true$"], ["${fs_cc_test_socket}", TEST_SOCKET]],
            "inline": _INBOUND_INLINE + [["set", "fs_cc_did=$1"]] + _TO_ENGINE,
            "actions": [["set", "fs_cc_socket=${fs_cc_test_socket}"]] + _SOCKET + _ENGINE_LOST,
        }, {
            "name": "fs_cc_adopt", "match": r"^fs_cc_adopt$",
            "conditions": [["${fs_cc_socket}", TEST_SOCKET]],
            "actions": [["set", "fs_cc_engine_lost=false"]] + _SOCKET + _ENGINE_LOST,
        }, {
            "name": "fs_cc_inbound", "match": r"^(.+)$",
            "inline": _INBOUND_INLINE + [["set", "fs_cc_did=${destination_number}"]] + _TO_ENGINE,
            # as the overlay's service numbers: the actions after the socket are reached when
            # the engine cannot be reached, or when it dies during the call
            "actions": [["set", "fs_cc_socket=%s" % target]] + _SOCKET + _ENGINE_LOST,
        }],
        "default": [
            {"name": "echo", "match": r"^9196$", "actions": [["answer", ""], ["echo", ""]]},
            {"name": "moh", "match": r"^9664$",
             "actions": [["answer", ""], ["playback", "local_stream://moh"]]},
            {"name": "park", "match": r"^park$", "actions": [["park", ""]]},
            # freeswitch_conf/dialplan/default's simulated agent phone: where a test switch's
            # directory dial-string loopback/fs_cc_agent_${dialed_user}/default lands
            {"name": "fs_cc_test_agent_phone", "match": r"^fs_cc_agent_(\d+)$",
             "conditions": [["${fs_cc_agent_endpoint}", r"^loopback$"]],
             "actions": [["set", "fs_cc_test_agent=$1"], ["ring_ready", ""],
                         ["sleep", "${fs_cc_test_agent_answer_delay_ms}"], ["answer", ""],
                         ["park", ""]]},
            {"name": "local_extension", "match": r"^(1[0-9]{3})$",
             "actions": [["set", "call_timeout=30"], ["bridge", "user/$1"]]},
        ],
    }


def expand(text, channel, groups=()):
    """Expand ${var} from the channel and $1..$9 from the regex match."""
    def var(match):
        name = match.group(1)
        if name == "destination_number":
            return channel.profile.destination_number
        if name == "caller_id_number":
            return channel.profile.caller_id_number
        if name == "RFC2822_DATE":
            return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return channel.get_var(name, "")
    text = _VAR.sub(var, text)
    for i, group in enumerate(groups, start=1):
        text = text.replace("$%d" % i, group or "")
    return text


class Dialplan:
    """Finds the actions for a destination number in a context."""

    def __init__(self, contexts):
        self._contexts = {
            name: [(re.compile(ext["match"]), ext) for ext in extensions]
            for name, extensions in (contexts or {}).items()
        }

    def hunt(self, channel, destination, context):
        """(inline actions, actions) of the first matching extension, or None.

        An extension matches when its `match` regex finds the destination number and each of its
        `conditions` ([field, regex], the field expanded first, e.g. "${fs_cc_test_socket}") holds,
        as the conditions of an XML dialplan extension must all pass.
        """
        for regex, ext in self._contexts.get(context, ()):
            match = regex.search(destination)
            if match and all(re.search(expression, expand(field, channel))
                             for field, expression in ext.get("conditions", ())):
                groups = match.groups()
                channel.set_var("DP_MATCH", "ARRAY::%s|:%s" % (match.group(0), groups[0] if groups else ""))
                inline = [(a, expand(arg or "", channel, groups)) for a, arg in ext.get("inline", ())]
                actions = [(a, arg or "", groups) for a, arg in ext.get("actions", ())]
                return inline, actions
        return None
